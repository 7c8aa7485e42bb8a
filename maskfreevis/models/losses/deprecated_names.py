"""Old spellings of public loss names, kept importable and registered; each warns once.

``PairwiseColorLoss`` (config ``type``), ``pairwise_color_loss`` and ``color_neighbour_weights``
became ``PairwiseColourLoss``, :func:`pairwise_colour_loss` and :func:`colour_neighbour_weights`;
the ``frame_index`` argument of the pairwise loss became ``frame_of``.
"""

import warnings
from typing import Optional, Set

from mmdet.registry import MODELS
from torch import Tensor

from .pairwise_colour_loss import PairwiseColourLoss, colour_neighbour_weights, pairwise_colour_loss

__all__ = ['PairwiseColorLoss', 'pairwise_color_loss', 'color_neighbour_weights']

_warned: Set[str] = set()


def warn_renamed(old: str, new: str) -> None:
    """One ``FutureWarning`` per process that ``old`` is now called ``new``."""
    if old in _warned:
        return
    _warned.add(old)
    warnings.warn(
        f'{old} is deprecated and will be removed; use {new}', FutureWarning, stacklevel=3
    )


@MODELS.register_module()
class PairwiseColorLoss(PairwiseColourLoss):
    """Deprecated spelling of :class:`PairwiseColourLoss` (same arguments)."""

    def __init__(self, *args, **kwargs) -> None:
        warn_renamed('PairwiseColorLoss', 'PairwiseColourLoss')
        super().__init__(*args, **kwargs)


def pairwise_color_loss(*args, frame_index: Optional[Tensor] = None, **kwargs) -> Tensor:
    """Deprecated spelling of :func:`pairwise_colour_loss` (``frame_index`` = ``frame_of``)."""
    warn_renamed('pairwise_color_loss', 'pairwise_colour_loss')
    if frame_index is not None:
        kwargs['frame_of'] = frame_index
    return pairwise_colour_loss(*args, **kwargs)


def color_neighbour_weights(*args, **kwargs) -> Tensor:
    """Deprecated spelling of :func:`colour_neighbour_weights`."""
    warn_renamed('color_neighbour_weights', 'colour_neighbour_weights')
    return colour_neighbour_weights(*args, **kwargs)
