"""Hook refusing a checkpoint that does not fit the model (``load_from``, ``--resume``, testing)."""

from mmdet.registry import HOOKS
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper

from maskfreevis.utils.checkpoint_match import (
    check_checkpoint_matches,
    mismatch_warning,
    partial_allowed,
)

__all__ = ['CheckpointMatchHook']


@HOOKS.register_module()
class CheckpointMatchHook(Hook):
    """Stop before a checkpoint whose keys or shapes differ from the model's is loaded.

    mmengine's ``Runner.load_checkpoint`` loads with ``strict=False``: a checkpoint of another
    model (e.g. other ``num_classes``) loads with a warning and the run goes on with random layers.
    This hook checks in ``after_load_checkpoint`` (before the weights go into the model) and raises
    :class:`maskfreevis.utils.checkpoint_match.CheckpointMismatchError` naming the mismatched keys
    and shapes. The config option ``allow_partial_checkpoint = True`` turns the error into a
    warning (fine-tuning from a checkpoint with other classes). Pretrained backbone weights
    (``init_cfg``) do not go through this path and stay partial by design.
    """

    priority = 'VERY_HIGH'

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        """Compare the checkpoint's weights with the model's; raise or warn on a mismatch."""
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        source = runner.cfg.get('load_from', None) or 'the checkpoint'
        allow_partial = partial_allowed(runner.cfg)
        lines = check_checkpoint_matches(model, checkpoint, source, allow_partial)
        if lines:
            runner.logger.warning(mismatch_warning(source, lines))
