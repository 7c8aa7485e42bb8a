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

The released MaskFreeVIS builds its box masks differently, and :func:`bilinear_box_masks` does
what it does: a filled box mask at the padded input resolution, resized to the mask grid by
bilinear interpolation (``align_corners=False``), so cells on a box edge get fractional values
(0.25, 0.5 at stride 4). The pixels such a full-resolution box fills follow the same centre rule
at stride 1: ``box_cells(boxes, present, (H, W), 1)`` fills pixel ``x`` when
``x1 <= x + 1/2 < x2``, i.e. pixels ``x1 .. x2 - 1`` of an integer box, the release's
``[min_x, max_x + 1)`` of a box taken from a mask. :func:`sample_box_masks` reads filled box
masks at continuous points as the release's matching does (``point_sample``).

Shape letters (one meaning across ``maskfreevis.models``): h, w the mask grid, H, W its pixels
(the padded input), P points.
"""

from typing import Sequence, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor

__all__ = [
    'box_cells',
    'rasterize_boxes',
    'bilinear_box_masks',
    'sample_box_masks',
    'valid_region_masks',
    'mask_box_extents',
]


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


def bilinear_box_masks(
    pixel_boxes: Tensor, input_size: Sequence[int], mask_size: Sequence[int]
) -> Tensor:
    """Box masks of the release: filled at input resolution, bilinearly resized to the mask grid.

    Equal to ``F.interpolate(full, mask_size, mode='bilinear', align_corners=False)`` of the
    filled ``(..., H, W)`` masks, computed without them: a filled box is the outer product of
    a row and a column indicator, and bilinear resizing is linear resizing along each axis, so
    the two ``(..., H)`` and ``(..., W)`` indicators are resized on their own.

    Args:
        pixel_boxes: ``(..., 4)`` long xyxy half-open boxes on the ``(H, W)`` pixel grid
            (``box_cells(boxes, present, (H, W), 1)``); ``(0, 0, 0, 0)`` is empty.
        input_size: ``(H, W)`` of the full-resolution masks (the padded input).
        mask_size: ``(h, w)`` of the mask grid.

    Returns:
        ``(..., h, w)`` float32 in ``[0, 1]``: 1 inside, fractions on the box edges, 0 outside
        and for an empty box.
    """
    if pixel_boxes.shape[-1] != 4:
        raise ValueError(f'pixel_boxes must be (..., 4), got {tuple(pixel_boxes.shape)}')
    rows = _resized_span(pixel_boxes[..., 1], pixel_boxes[..., 3], input_size[0], mask_size[0])
    cols = _resized_span(pixel_boxes[..., 0], pixel_boxes[..., 2], input_size[1], mask_size[1])
    return rows[..., :, None] * cols[..., None, :]


def _resized_span(start: Tensor, end: Tensor, size: int, new_size: int) -> Tensor:
    """Indicator of ``[start, end)`` on ``size`` pixels, linearly resized to ``new_size``.

    Args:
        start, end: ``(...)`` long.

    Returns:
        ``(..., new_size)`` float32.
    """
    index = torch.arange(int(size), device=start.device)
    inside = (index >= start[..., None]) & (index < end[..., None])
    flat = inside.float().reshape(-1, 1, int(size))
    resized = F.interpolate(flat, size=int(new_size), mode='linear', align_corners=False)
    return resized.reshape(start.shape + (int(new_size),))


def sample_box_masks(boxes: Tensor, grid_size: Sequence[int], points: Tensor) -> Tensor:
    """Filled box masks read at continuous points with bilinear interpolation.

    The values ``point_sample`` (``grid_sample``, ``align_corners=False``, zeros outside) reads
    from the filled binary ``(..., h, w)`` masks, computed from the boxes: point ``(px, py)``
    lies at ``u = px * w - 1/2`` on the column index axis, where the filled columns
    ``[x0, x1)`` interpolate to ``clamp(min(u - x0 + 1, x1 - u), 0, 1)``; likewise for rows,
    and the mask value is the product of the two.

    Args:
        boxes: ``(..., 4)`` long xyxy half-open boxes on a grid of ``grid_size``;
            ``(0, 0, 0, 0)`` is empty.
        grid_size: ``(h, w)`` of the grid the boxes fill (cells or pixels).
        points: ``(P, 2)`` ``(x, y)`` in ``[0, 1]``, relative to the whole grid.

    Returns:
        ``(..., P)`` float32 in ``[0, 1]``.
    """
    if boxes.shape[-1] != 4 or points.dim() != 2 or points.shape[-1] != 2:
        raise ValueError(
            'sample_box_masks needs boxes (..., 4) and points (P, 2), got '
            f'{tuple(boxes.shape)} and {tuple(points.shape)}'
        )
    points = points.float()
    rows = _sampled_span(boxes[..., 1], boxes[..., 3], grid_size[0], points[:, 1])
    cols = _sampled_span(boxes[..., 0], boxes[..., 2], grid_size[1], points[:, 0])
    return rows * cols


def _sampled_span(start: Tensor, end: Tensor, size: int, coords: Tensor) -> Tensor:
    """Indicator of ``[start, end)`` on ``size`` indices read at relative ``coords``.

    Args:
        start, end: ``(...)`` long; coords: ``(P,)`` in ``[0, 1]``.

    Returns:
        ``(..., P)`` float32.
    """
    position = coords * int(size) - 0.5
    start, end = start.float()[..., None], end.float()[..., None]
    value = torch.minimum(position - start + 1, end - position).clamp(0, 1)
    return value * (end > start)


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
