"""Hook refusing a checkpoint that does not fit the model (``load_from``, ``--resume``, testing),
or whose classes are not those of the dataset it is scored on."""

from typing import Optional, Sequence, Tuple

from mmdet.registry import HOOKS
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper

from maskfreevis.utils.checkpoint_match import (
    CLASS_OPTION,
    check_checkpoint_matches,
    check_dataset_classes,
    checkpoint_classes,
    class_mismatch_allowed,
    mismatch_warning,
    partial_allowed,
)

__all__ = ['CheckpointMatchHook']


def _classes_of(dataset) -> Optional[Tuple[str, ...]]:
    """A dataset's ``metainfo['classes']`` as a tuple, or None when it declares none."""
    classes = (getattr(dataset, 'metainfo', None) or {}).get('classes')
    if classes is None or isinstance(classes, str):
        return None
    return tuple(str(name) for name in classes)


def _describe(dataset, split: str) -> str:
    """``'the test dataset (ANN_FILE)'``, or without the file when the dataset has none."""
    ann_file = getattr(dataset, 'ann_file', None)
    return f'the {split} dataset ({ann_file})' if ann_file else f'the {split} dataset'


@HOOKS.register_module()
class CheckpointMatchHook(Hook):
    """Stop before a checkpoint is used on a model or a dataset it was not trained for.

    * Weights: mmengine's ``Runner.load_checkpoint`` loads with ``strict=False``: a checkpoint of
      another model (e.g. other ``num_classes``) loads with a warning and the run goes on with
      random layers. This hook checks in ``after_load_checkpoint`` (before the weights go into the
      model) and raises :class:`maskfreevis.utils.checkpoint_match.CheckpointMismatchError`
      naming the mismatched keys and shapes. ``allow_partial_checkpoint = True`` turns the error
      into a warning (fine-tuning from a checkpoint with other classes). Pretrained backbone
      weights (``init_cfg``) do not go through this path and stay partial by design.
    * Classes, when testing (``tools/test.py``) or validating outside training: the checkpoint's
      ``meta.dataset_meta.classes`` (the classes it was trained on, in label order) must equal the
      classes of the dataset that is scored, names and order, else
      :class:`~maskfreevis.utils.checkpoint_match.ClassMismatchError` names both lists and the fix
      before the first batch. A checkpoint that records no classes is scored with a warning.
    * Classes, when training with validation: the training set's classes must equal the
      validation set's (a validation json with another category, or the same categories under
      other ids), checked before the first iteration. Fine-tuning with ``load_from`` from a
      checkpoint of other classes is not refused.

    ``allow_class_mismatch = True`` in the config turns both class checks into warnings (the same
    classes under other names).
    """

    priority = 'VERY_HIGH'

    def __init__(self) -> None:
        self._training = False
        self._loaded: Optional[Tuple[str, Optional[Sequence[str]]]] = None

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        """Compare the checkpoint's weights with the model's; raise or warn on a mismatch.
        Remember its classes for the test or validation that follows."""
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        source = runner.cfg.get('load_from', None) or 'the checkpoint'
        allow_partial = partial_allowed(runner.cfg)
        lines = check_checkpoint_matches(model, checkpoint, source, allow_partial)
        if lines:
            runner.logger.warning(mismatch_warning(source, lines))
        self._loaded = (source, checkpoint_classes(checkpoint))

    def before_train(self, runner) -> None:
        """Refuse a validation set of other classes than the training set, before training."""
        self._training = True
        val_loop = runner.val_loop
        if val_loop is None or not hasattr(val_loop, 'dataloader'):
            return
        train_set = runner.train_dataloader.dataset
        train_classes = _classes_of(train_set)
        val_classes = _classes_of(val_loop.dataloader.dataset)
        if train_classes is None or val_classes is None:
            return
        message = check_dataset_classes(
            train_classes,
            val_classes,
            _describe(train_set, 'training'),
            _describe(val_loop.dataloader.dataset, 'validation'),
            'val_dataloader',
            allow=class_mismatch_allowed(runner.cfg),
            refused='training did not start',
        )
        if message:
            runner.logger.warning(f'{message}\nValidating anyway ({CLASS_OPTION}=True).')

    def before_val(self, runner) -> None:
        """Outside training (``Runner.val``): check the checkpoint's classes."""
        if not self._training:
            self._check_checkpoint_classes(runner, runner.val_loop.dataloader.dataset, 'val')

    def before_test(self, runner) -> None:
        """Check the checkpoint's classes against the test set's, before the first batch."""
        self._check_checkpoint_classes(runner, runner.test_loop.dataloader.dataset, 'test')

    def _check_checkpoint_classes(self, runner, dataset, split: str) -> None:
        if self._loaded is None:  # no checkpoint loaded: nothing to compare
            return
        source, classes = self._loaded
        dataset_classes = _classes_of(dataset)
        if dataset_classes is None:
            return
        dataset_what = _describe(dataset, 'validation' if split == 'val' else split)
        if classes is None:
            runner.logger.warning(
                f'Checkpoint {source} records no class names (meta.dataset_meta.classes), so '
                f'whether it was trained on the classes of {dataset_what} cannot be checked; the '
                f'scores assume its label i is class i of {list(dataset_classes)}. '
                '(tools/train.py records them; publish_model.py keeps them.)'
            )
            return
        message = check_dataset_classes(
            classes,
            dataset_classes,
            f'checkpoint {source}',
            dataset_what,
            f'{split}_dataloader',
            allow=class_mismatch_allowed(runner.cfg),
        )
        if message:
            runner.logger.warning(f'{message}\nScoring anyway ({CLASS_OPTION}=True).')
