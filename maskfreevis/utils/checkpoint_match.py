"""Refuse checkpoints whose weights do not fit the model, naming the keys and shapes.

Upstream behaviour: mmengine 0.10.7 ``Runner.load_checkpoint`` (``load_from``, ``--resume``,
``tools/test.py``) and ``mmengine.runner.load_checkpoint`` default to ``strict=False``: a checkpoint
of another model (say 4 classes for a config with 7) loads with a logged warning, the mismatched
layers keep their random initialisation, and evaluation reports a meaningless score with exit code
0. Here a mismatch is an error unless the config sets ``allow_partial_checkpoint = True`` (what
fine-tuning from a checkpoint of other classes needs).

Weights that fit can still mean other classes: label ``i`` is class ``i`` of the list the model
was trained on, and the metric reads it as class ``i`` of the dataset it scores. mmengine records
the training dataset's classes in the checkpoint (``meta.dataset_meta.classes``) and never
compares them (``Runner.resume`` only warns about another training set).
:func:`check_dataset_classes` refuses a test or validation set whose classes differ in names or
order; :class:`maskfreevis.engine.hooks.CheckpointMatchHook` applies it when the runtime tests or
validates, and ``init_vis_model`` names the classes the model's labels mean.
"""

import logging
import re
from typing import List, Mapping, Optional, Sequence, Tuple

import torch
from mmengine.logging import print_log
from mmengine.runner import load_state_dict

from .checkpoint_loading import read_checkpoint, trusted_locations_of

# The config option that lets a checkpoint load partially (only the matching weights).
PARTIAL_OPTION = 'allow_partial_checkpoint'
PARTIAL_HINT = (
    f'If you mean to load only the weights that fit (e.g. to fine-tune from a model '
    f'with other classes), set `{PARTIAL_OPTION} = True` in the config (tools: '
    f'--cfg-options {PARTIAL_OPTION}=True; init_vis_model: '
    f'cfg_options=dict({PARTIAL_OPTION}=True)).'
)
# The config option that lets a model score a dataset of other classes (same classes renamed).
CLASS_OPTION = 'allow_class_mismatch'
# Characters --cfg-options (mmengine's DictAction) drops or splits on: such names need the config.
_UNSAFE_ON_COMMAND_LINE = re.compile(r'[\s,\'"()\[\]=]')
# Prefixes that wrappers add to parameter names (as mmengine's loader strips them).
_WRAPPER_PREFIX = re.compile(r'^module\.')
_SHOWN = 8


class CheckpointMismatchError(ValueError):
    """The checkpoint's weights do not fit the model built from the config."""


class ClassMismatchError(CheckpointMismatchError):
    """A model would score a dataset whose classes differ (names or order) from its own."""


class ClassMismatchWarning(UserWarning):
    """A model's class names differ from those its config declares (the checkpoint's are used)."""


def checkpoint_state_dict(checkpoint: Mapping) -> Mapping[str, torch.Tensor]:
    """The weights of a loaded checkpoint (a Runner checkpoint or a bare state dict)."""
    return checkpoint['state_dict'] if 'state_dict' in checkpoint else checkpoint


def describe_mismatch(
    model_state: Mapping[str, torch.Tensor], checkpoint_state: Mapping[str, torch.Tensor]
) -> List[str]:
    """One line per kind of mismatch: different shapes, missing keys, unexpected keys.

    Args:
        model_state: ``model.state_dict()``.
        checkpoint_state: the checkpoint's weights (``module.`` prefixes are ignored).

    Returns:
        Lines such as ``"shape differs (1): head.cls.weight: checkpoint (5, 8), model (8, 8)"``;
        empty when the checkpoint fits. BatchNorm's ``num_batches_tracked`` may be missing (as
        mmengine allows).
    """
    loaded = {_WRAPPER_PREFIX.sub('', key): value for key, value in checkpoint_state.items()}
    shapes = [
        f'{key}: checkpoint {tuple(loaded[key].shape)}, model {tuple(value.shape)}'
        for key, value in model_state.items()
        if key in loaded
        and hasattr(loaded[key], 'shape')
        and tuple(loaded[key].shape) != tuple(value.shape)
    ]
    missing = [
        key for key in model_state if key not in loaded and not key.endswith('num_batches_tracked')
    ]
    unexpected = [key for key in loaded if key not in model_state]
    lines = []
    for title, entries in (
        ('shape differs', shapes),
        ('missing from the checkpoint', missing),
        ('not in the model', unexpected),
    ):
        if entries:
            more = f'; ... {len(entries) - _SHOWN} more' if len(entries) > _SHOWN else ''
            lines.append(f'{title} ({len(entries)}): {"; ".join(entries[:_SHOWN])}{more}')
    return lines


def check_checkpoint_matches(
    model: torch.nn.Module, checkpoint: Mapping, source: str, allow_partial: bool = False
) -> List[str]:
    """Raise :class:`CheckpointMismatchError` unless ``checkpoint`` fits ``model`` exactly.

    Args:
        model: the model the weights go into (unwrapped).
        checkpoint: the loaded checkpoint.
        source: the checkpoint's path or URL, for the message.
        allow_partial: only return the mismatch lines (the caller warns and loads what fits).

    Returns:
        The mismatch lines (empty when the checkpoint fits).
    """
    lines = describe_mismatch(model.state_dict(), checkpoint_state_dict(checkpoint))
    if lines and not allow_partial:
        raise CheckpointMismatchError(
            f'Checkpoint {source} does not fit the model of this config (refused; nothing was '
            f'loaded):\n  ' + '\n  '.join(lines) + f'\nCheck the config (e.g. num_classes) and '
            f'the checkpoint.{_written_by(checkpoint)}{_layout_of(checkpoint, source)} '
            f'{PARTIAL_HINT}'
        )
    return lines


def _layout_of(checkpoint: Mapping, source: str) -> str:
    """`` It is a detectron2 / mmdet checkpoint: convert it ...`` when its keys say so."""
    state = checkpoint_state_dict(checkpoint)
    keys = list(state.get('model', {}) if isinstance(state.get('model'), Mapping) else state)
    if any(
        key.startswith(('sem_seg_head.', 'backbone.res2.', 'backbone.bottom_up.')) for key in keys
    ):
        tool, kind = (
            'detectron2_to_maskfreevis.py',
            "a detectron2 checkpoint (the release's layout)",
        )
    elif any(key.startswith('panoptic_head.') for key in keys):
        tool, kind = 'mmdet_to_maskfreevis.py', 'an mmdet Mask2Former checkpoint'
    else:
        return ''
    return (
        f' It is {kind}: convert it first, python tools/model_converters/{tool} CONFIG {source} '
        'OUT.pth, then use OUT.pth.'
    )


def _written_by(checkpoint: Mapping) -> str:
    """`` It was written by the run NAME ...`` when the checkpoint records its experiment."""
    meta = checkpoint.get('meta') if isinstance(checkpoint, Mapping) else None
    name = meta.get('experiment_name') if isinstance(meta, Mapping) else None
    if not isinstance(name, str) or not name:
        return ''
    # mmengine names a run '<config file name>_<timestamp>'
    config = re.sub(r'_\d{8}_\d{6}$', '', name)
    return (
        f' It was written by the run {name} (meta.experiment_name): use it with the config it was '
        f"trained with, {config}.py (its resolved copy is in that run's work_dir)."
    )


def partial_allowed(cfg: Mapping) -> bool:
    """The config's ``allow_partial_checkpoint`` (False when absent)."""
    return bool(cfg.get(PARTIAL_OPTION, False))


def mismatch_warning(source: str, lines: Sequence[str]) -> str:
    """The warning logged when a mismatching checkpoint loads partially by request."""
    return (
        f'Checkpoint {source} fits the model only partly; loading the weights that fit '
        f'({PARTIAL_OPTION}=True):\n  ' + '\n  '.join(lines)
    )


def load_model_checkpoint(
    model: torch.nn.Module, filename: str, cfg: Mapping, map_location: str = 'cpu'
) -> dict:
    """Load a checkpoint into ``model`` the way the tools do, outside a Runner (e.g. the API).

    The config's ``trusted_checkpoints`` are honoured (see
    :mod:`maskfreevis.utils.checkpoint_loading`), and a checkpoint that does not fit the model is
    refused unless ``allow_partial_checkpoint`` is set.

    Args:
        model: the model the weights go into.
        filename: path or URL of the checkpoint.
        cfg: the model's config (``trusted_checkpoints``, ``allow_partial_checkpoint``).
        map_location: as for :func:`torch.load`.

    Returns:
        The loaded checkpoint (``meta`` included).
    """
    checkpoint = read_checkpoint(filename, map_location, trusted_locations_of(cfg))
    lines = check_checkpoint_matches(model, checkpoint, filename, partial_allowed(cfg))
    if lines:
        print_log(mismatch_warning(filename, lines), logger='current', level=logging.WARNING)
    state_dict = {
        _WRAPPER_PREFIX.sub('', key): value
        for key, value in checkpoint_state_dict(checkpoint).items()
    }
    load_state_dict(model, state_dict, strict=False)
    return checkpoint


def checkpoint_classes(checkpoint: Mapping) -> Optional[Tuple[str, ...]]:
    """The class names a checkpoint records (``meta.dataset_meta.classes``), or None.

    ``tools/train.py`` (mmengine's Runner) stores the training dataset's ``metainfo`` there; bare
    state dicts and converted weights may hold none.
    """
    meta = checkpoint.get('meta') if isinstance(checkpoint, Mapping) else None
    dataset_meta = meta.get('dataset_meta') if isinstance(meta, Mapping) else None
    classes = dataset_meta.get('classes') if isinstance(dataset_meta, Mapping) else None
    if classes is None or isinstance(classes, str):
        return None
    return tuple(str(name) for name in classes)


def class_mismatch_allowed(cfg: Mapping) -> bool:
    """The config's ``allow_class_mismatch`` (False when absent)."""
    return bool(cfg.get(CLASS_OPTION, False))


def _listing(classes: Sequence[str]) -> str:
    return f'({len(classes)}) ' + ', '.join(repr(name) for name in classes)


def describe_class_difference(
    first: Sequence[str], second: Sequence[str], first_what: str, second_what: str
) -> str:
    """How two class lists differ: the names only one holds, else the first label whose name
    differs (``"label 0 is 'a' in the checkpoint, 'b' in the test dataset"``)."""
    only_first = [name for name in first if name not in second]
    only_second = [name for name in second if name not in first]
    if only_first or only_second:
        parts = [
            f'only in {what}: {", ".join(map(repr, names))}'
            for what, names in ((first_what, only_first), (second_what, only_second))
            if names
        ]
        return '; '.join(parts)
    if len(first) != len(second):  # the same names, one listed twice
        return f'{len(first)} names in {first_what}, {len(second)} in {second_what}'
    label = next(index for index, (a, b) in enumerate(zip(first, second)) if a != b)
    return (
        f'the same names in another order: label {label} is {first[label]!r} in {first_what}, '
        f'{second[label]!r} in {second_what}'
    )


def metainfo_fix(dataloader: str, classes: Sequence[str]) -> str:
    """How to give a dataloader's dataset ``classes`` in this order: on the command line when
    every name survives ``--cfg-options`` parsing, and in the config."""
    in_config = f'{dataloader} = dict(dataset=dict(metainfo=dict(classes={tuple(classes)!r})))'
    if any(_UNSAFE_ON_COMMAND_LINE.search(name) for name in classes):
        return f'in the config: {in_config}'
    return (
        f'--cfg-options "{dataloader}.dataset.metainfo.classes=[{",".join(classes)}]" (in the '
        f'config: {in_config})'
    )


def check_dataset_classes(
    model_classes: Sequence[str],
    dataset_classes: Sequence[str],
    model_what: str,
    dataset_what: str,
    dataloader: str,
    allow: bool = False,
    refused: str = 'nothing was scored',
) -> Optional[str]:
    """Refuse to score ``dataset_classes`` with a model whose labels mean ``model_classes``.

    Label ``i`` of the model is class ``i`` of the list it was trained on, and the metric reads it
    as class ``i`` of the dataset: lists that differ in names or order score every prediction
    against another class, without a word.

    Args:
        model_classes: the classes the model's labels mean (the checkpoint's, or the training
            set's).
        dataset_classes: the classes of the dataset to be scored (its ``metainfo['classes']``).
        model_what: names ``model_classes`` in the message, e.g. ``'checkpoint PATH'``.
        dataset_what: names the dataset, e.g. ``'the test dataset (FILE)'``.
        dataloader: the config key of that dataset's loader (``'test_dataloader'``), for the fix.
        allow: return the message instead of raising (the caller warns and goes on).
        refused: what the error says was not done.

    Returns:
        None when the lists are equal, else the message (only when ``allow``).

    Raises:
        ClassMismatchError: the lists differ and ``allow`` is False.
    """
    model_classes, dataset_classes = tuple(model_classes), tuple(dataset_classes)
    if model_classes == dataset_classes:
        return None
    if sorted(model_classes) == sorted(dataset_classes):
        fix = f'give {dataset_what} the classes in the order of {model_what}: '
    else:
        fix = (
            'use a config and data that belong together; or, if the json of '
            f'{dataset_what} holds the classes of {model_what}, choose them in that order: '
        )
    message = (
        f'The classes of {model_what} and of {dataset_what} differ, so label i of the model '
        'would be scored as class i of the dataset, another class:\n'
        f'  {model_what}: {_listing(model_classes)}\n'
        f'  {dataset_what}: {_listing(dataset_classes)}\n'
        f'  ({describe_class_difference(model_classes, dataset_classes, model_what, dataset_what)})'
        f'\nTo fix it, {fix}{metainfo_fix(dataloader, model_classes)}. If they are the same '
        f'classes under other names, set `{CLASS_OPTION} = True` in the config (--cfg-options '
        f'{CLASS_OPTION}=True).'
    )
    if not allow:
        raise ClassMismatchError(f'{message}\nRefused; {refused}.')
    return message
