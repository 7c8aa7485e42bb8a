"""Geometry of the stride-s mask grid: boxes in cells and rasterised, valid region, tight boxes.

Mask logits of Mask2Former live on a grid of stride ``s`` (4) over the padded batch: cell
``(y, x)`` covers input pixels ``[s*y, s*y + s) x [s*x, s*x + s)`` and its centre sits at
``(s*(y + 1/2), s*(x + 1/2))`` in the continuous pixel coordinates that mmdet boxes use (a box
``(x1, y1, x2, y2)`` covering pixel columns 0..9 has ``x1 = 0, x2 = 10``).

One rule is used everywhere: **a cell belongs to a region when its centre lies inside it**, with
half-open intervals ``[lo, hi)``. So a box ``(x1, y1, x2, y2)`` fills the cells with
``x1 <= s*(x + 1/2) < x2`` and ``y1 <= s*(y + 1/2) < y2``, and a frame whose ``img_shape`` is
``(height, width)`` is valid on the cells with ``s*(y + 1/2) < height`` and
``s*(x + 1/2) < width``. Because boxes are clipped
to the image, their cells are valid cells. A box too thin to contain any cell centre along an
axis keeps the one cell that holds its centre on that axis, so a present instance never has an
empty box mask.

Boxes on the grid are xyxy like every box, in cells and half-open: ``(x0, y0, x1, y1)`` covers
columns ``[x0, x1)`` and rows ``[y0, y1)``; an empty box is ``(0, 0, 0, 0)``.

Shape letters (one meaning across ``maskfreevis.models``): h, w the mask grid.
"""

from typing import Sequence, Tuple

import torch
from torch import Tensor

__all__ = ['box_cells', 'rasterize_boxes', 'valid_region_masks', 'mask_box_extents']


def _box_cell_span(low: Tensor, high: Tensor, stride: float, size: int) -> Tuple[Tensor, Tensor]:
    """Half-open cell index range ``[start, end)`` of a pixel interval ``[low, high)``.

    Args:
        low, high: ``(...)`` interval ends in input pixels.
        stride: pixels per cell.
        size: number of cells along the axis.

    Returns:
        ``start, end`` ``(...)`` long tensors clamped to ``[0, size]``.
    """
    # cell x has its centre inside [low, high) iff low/s - 1/2 <= x < high/s - 1/2
    start = torch.ceil(low / stride - 0.5)
    end = torch.ceil(high / stride - 0.5)
    centre_cell = torch.floor((low + high) / (2 * stride))
    too_thin = end <= start
    start = torch.where(too_thin, centre_cell, start)
    end = torch.where(too_thin, centre_cell + 1, end)
    return start.clamp(0, size).long(), end.clamp(0, size).long()


def box_cells(boxes: Tensor, present: Tensor, mask_size: Sequence[int], stride: float) -> Tensor:
    """The cells of the stride-``stride`` mask grid that boxes fill (cell-centre rule).

    Args:
        boxes: ``(..., 4)`` float ``(x1, y1, x2, y2)`` in input pixels.
        present: ``(...)`` bool; ``False`` gives the empty box (instance absent).
        mask_size: ``(h, w)`` of the mask grid.
        stride: input pixels per mask cell.

    Returns:
        ``(..., 4)`` long xyxy half-open cell boxes (see module doc); a box that fills no cell
        of the grid (absent, or outside it) is ``(0, 0, 0, 0)``.
    """
    if boxes.shape[-1] != 4 or boxes.shape[:-1] != present.shape:
        raise ValueError(
            f'boxes must be (..., 4) matching present (...), got '
            f'{tuple(boxes.shape)} and {tuple(present.shape)}'
        )
    height, width = int(mask_size[0]), int(mask_size[1])
    boxes = boxes.float()
    x_start, x_end = _box_cell_span(boxes[..., 0], boxes[..., 2], stride, width)
    y_start, y_end = _box_cell_span(boxes[..., 1], boxes[..., 3], stride, height)
    cells = torch.stack([x_start, y_start, x_end, y_end], dim=-1)
    empty = ~present.bool() | (x_end <= x_start) | (y_end <= y_start)
    return cells.masked_fill(empty[..., None], 0)


def rasterize_boxes(
    boxes: Tensor, present: Tensor, mask_size: Sequence[int], stride: float
) -> Tensor:
    """Filled box masks on the stride-``stride`` mask grid (cell-centre rule, see module doc).

    Args:
        boxes: ``(..., 4)`` float ``(x1, y1, x2, y2)`` in input pixels.
        present: ``(...)`` bool; ``False`` gives an all-zero mask (instance absent).
        mask_size: ``(h, w)`` of the mask grid.
        stride: input pixels per mask cell.

    Returns:
        ``(..., h, w)`` bool box masks.
    """
    cells = box_cells(boxes, present, mask_size, stride)
    rows = torch.arange(int(mask_size[0]), device=boxes.device)
    cols = torch.arange(int(mask_size[1]), device=boxes.device)
    in_rows = (rows >= cells[..., 1, None]) & (rows < cells[..., 3, None])
    in_cols = (cols >= cells[..., 0, None]) & (cols < cells[..., 2, None])
    return in_rows[..., :, None] & in_cols[..., None, :]


def valid_region_masks(img_shapes: Tensor, mask_size: Sequence[int], stride: float) -> Tensor:
    """Cells of the padded mask grid whose centre lies inside each frame's image.

    Args:
        img_shapes: ``(..., 2)`` ``(height, width)`` of each frame before padding, in pixels.
        mask_size: ``(h, w)`` of the mask grid.
        stride: input pixels per mask cell.

    Returns:
        ``(..., h, w)`` bool, ``True`` on image cells, ``False`` on padding.
    """
    height, width = int(mask_size[0]), int(mask_size[1])
    img_shapes = img_shapes.float()
    row_centres = (torch.arange(height, device=img_shapes.device) + 0.5) * stride
    col_centres = (torch.arange(width, device=img_shapes.device) + 0.5) * stride
    rows_valid = row_centres < img_shapes[..., 0:1]
    cols_valid = col_centres < img_shapes[..., 1:2]
    return rows_valid[..., :, None] & cols_valid[..., None, :]


def mask_box_extents(masks: Tensor) -> Tensor:
    """Tight box of every binary mask, in cells.

    Args:
        masks: ``(..., h, w)`` bool.

    Returns:
        ``(..., 4)`` long xyxy half-open cell boxes ``(x0, y0, x1, y1)``: columns ``[x0, x1)``
        and rows ``[y0, y1)``. An empty mask gives ``(0, 0, 0, 0)`` (an empty box).
    """
    occupied_rows = masks.any(-1)
    occupied_cols = masks.any(-2)
    y_start, y_end = _occupied_span(occupied_rows)
    x_start, x_end = _occupied_span(occupied_cols)
    return torch.stack([x_start, y_start, x_end, y_end], dim=-1)


def _occupied_span(occupied: Tensor) -> Tuple[Tensor, Tensor]:
    """First occupied index and one past the last along the last dim; ``(0, 0)`` if none."""
    size = occupied.shape[-1]
    index = torch.arange(size, device=occupied.device)
    first = torch.where(occupied, index, size).amin(-1)
    last = torch.where(occupied, index + 1, 0).amax(-1)
    empty = last == 0
    return first.masked_fill(empty, 0), last
