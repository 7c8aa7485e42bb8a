"""Pixel-pair geometry shared by the pairwise and temporal losses.

A pixel pair is a target pixel ``p`` and a neighbour/candidate
``q = p + (dy, dx)``; offsets come from a dilated square grid. Everything is
done with shifted slices of the ``(h, w)`` grid instead of ``F.unfold``, so no
``(.., K, h, w)`` copy of an image or of the logits is ever built.

Shape letters (one meaning across ``maskfreevis.models``): S groups of pixels sharing the
result (clips or frames), K offsets, h, w the mask grid.
"""

from typing import Callable, List, Optional, Sequence, Tuple

import torch
from torch import Tensor

__all__ = ['grid_offsets', 'overlap_slices', 'offset_pair_map', 'pair_validity']

Offset = Tuple[int, int]
GridSlices = Tuple[slice, slice]


def grid_offsets(grid_size: int, dilation: int, include_centre: bool) -> List[Offset]:
    """Offsets ``dilation * (dy, dx)`` of a ``grid_size x grid_size`` grid.

    Raster order (dy outer, dx inner), i.e. ``F.unfold``'s kernel order.

    Args:
        grid_size: odd side length of the grid (3 -> offsets in {-1, 0, 1}).
        dilation: spacing between grid points in pixels (>= 1).
        include_centre: keep ``(0, 0)``.

    Returns:
        ``grid_size**2`` (or ``grid_size**2 - 1``) ``(dy, dx)`` tuples.
    """
    if grid_size < 1 or grid_size % 2 == 0:
        raise ValueError(f'grid/kernel size must be a positive odd number, got {grid_size}')
    if dilation < 1:
        raise ValueError(f'dilation must be >= 1, got {dilation}')
    radius = grid_size // 2
    return [
        (dilation * dy, dilation * dx)
        for dy in range(-radius, radius + 1)
        for dx in range(-radius, radius + 1)
        if include_centre or (dy, dx) != (0, 0)
    ]


def overlap_slices(
    offset: Offset, height: int, width: int
) -> Optional[Tuple[GridSlices, GridSlices]]:
    """Slices of the pixels p (and their q = p + offset) with both in-image.

    Returns:
        ``((p_rows, p_cols), (q_rows, q_cols))`` of equal extent, or ``None``
        when no pixel has its partner inside an ``height x width`` image.
    """
    dy, dx = offset
    if abs(dy) >= height or abs(dx) >= width:
        return None
    p_rows = slice(max(0, -dy), height - max(0, dy))
    p_cols = slice(max(0, -dx), width - max(0, dx))
    q_rows = slice(p_rows.start + dy, p_rows.stop + dy)
    q_cols = slice(p_cols.start + dx, p_cols.stop + dx)
    return (p_rows, p_cols), (q_rows, q_cols)


def offset_pair_map(
    pair_fn: Callable[[GridSlices, GridSlices], Tensor],
    groups: int,
    offsets: Sequence[Offset],
    height: int,
    width: int,
    device: torch.device,
) -> Tensor:
    """A bool property of every pixel pair (p, p + offset_k), on the p grid.

    Args:
        pair_fn: ``(p_slices, q_slices) -> (S, h', w')`` bool on the overlap of one offset.
        groups: S.
        offsets: K offsets.
        height, width: grid size.
        device: where the result lives.

    Returns:
        ``(S, K, h, w)`` bool; False where q leaves the grid.
    """
    result = torch.zeros((groups, len(offsets), height, width), dtype=torch.bool, device=device)
    for k, offset in enumerate(offsets):
        slices = overlap_slices(offset, height, width)
        if slices is None:
            continue
        (p_rows, p_cols), q_slices = slices
        result[:, k, p_rows, p_cols] = pair_fn((p_rows, p_cols), q_slices)
    return result


def pair_validity(valid_p: Tensor, valid_q: Tensor, offsets: Sequence[Offset]) -> Tensor:
    """Which pixel pairs (p, p + offset_k) exist: both in-image and valid.

    Args:
        valid_p: ``(S, h, w)`` bool, pixels allowed as p.
        valid_q: ``(S, h, w)`` bool, pixels allowed as q.
        offsets: K offsets.

    Returns:
        ``(S, K, h, w)`` bool on the p grid.
    """
    groups, height, width = valid_p.shape
    return offset_pair_map(
        lambda p, q: valid_p[:, p[0], p[1]] & valid_q[:, q[0], q[1]],
        groups,
        offsets,
        height,
        width,
        valid_p.device,
    )
