"""Refuse checkpoints whose weights do not fit the model, naming the keys and shapes.

Upstream behaviour: mmengine 0.10.7 ``Runner.load_checkpoint`` (``load_from``, ``--resume``,
``tools/test.py``) and ``mmengine.runner.load_checkpoint`` default to ``strict=False``: a checkpoint
of another model (say 4 classes for a config with 7) loads with a logged warning, the mismatched
layers keep their random initialisation, and evaluation reports a meaningless score with exit code
0. Here a mismatch is an error unless the config sets ``allow_partial_checkpoint = True`` (what
fine-tuning from a checkpoint of other classes needs).
"""

import logging
import re
from typing import List, Mapping, Sequence

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
# Prefixes that wrappers add to parameter names (as mmengine's loader strips them).
_WRAPPER_PREFIX = re.compile(r'^module\.')
_SHOWN = 8


class CheckpointMismatchError(ValueError):
    """The checkpoint's weights do not fit the model built from the config."""


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
            f'the checkpoint. {PARTIAL_HINT}'
        )
    return lines


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
