"""RoI masks and the frame's mask grid: box targets inside a RoI, RoI logits pasted onto the grid.

Shape letters: P RoIs, S the side of the RoI mask (28 for mmdet's FCN mask head), h, w the mask
grid of the padded frame (stride s input pixels per cell), boxes ``(x1, y1, x2, y2)`` in input
pixels.
"""

from typing import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor

__all__ = ['roi_box_masks', 'paste_roi_logits', 'BACKGROUND_LOGIT']

# What a pasted mask holds outside its RoI: the frame's mask there is background by construction
# (mmdet pastes zeros outside the box at test time), a confident but finite logit so that
# -log(agreement) stays bounded.
BACKGROUND_LOGIT = -10.0


def _cell_centres(rois: Tensor, size: int) -> tuple:
    """x and y of the centres of the ``size x size`` cells of each RoI, ``(P, size)`` each."""
    steps = (torch.arange(size, device=rois.device, dtype=torch.float32) + 0.5) / size
    widths = (rois[:, 2] - rois[:, 0]).clamp(min=1e-6)
    heights = (rois[:, 3] - rois[:, 1]).clamp(min=1e-6)
    xs = rois[:, 0, None] + steps[None] * widths[:, None]
    ys = rois[:, 1, None] + steps[None] * heights[:, None]
    return xs, ys


def roi_box_masks(rois: Tensor, gt_boxes: Tensor, size: int) -> Tensor:
    """The GT box filled on each RoI's ``size x size`` mask, by the cell-centre rule.

    A cell belongs to the box when its centre ``c`` satisfies ``x1 <= c_x < x2`` and
    ``y1 <= c_y < y2``; a box thinner than a cell keeps the cell holding the box centre (when
    that lies inside the RoI), so a positive RoI never gets an empty target.

    Args:
        rois: ``(P, 4)`` float RoI boxes.
        gt_boxes: ``(P, 4)`` float GT box of each RoI.
        size: S, the RoI mask side.

    Returns:
        ``(P, S, S)`` float 0/1 box masks.
    """
    if rois.shape != gt_boxes.shape or rois.dim() != 2 or rois.shape[1] != 4:
        raise ValueError(
            f'roi_box_masks expects (P, 4) RoIs and GT boxes, got {tuple(rois.shape)} and '
            f'{tuple(gt_boxes.shape)}'
        )
    rois, gt_boxes = rois.float(), gt_boxes.float()
    xs, ys = _cell_centres(rois, size)
    in_x = (xs >= gt_boxes[:, 0, None]) & (xs < gt_boxes[:, 2, None])
    in_y = (ys >= gt_boxes[:, 1, None]) & (ys < gt_boxes[:, 3, None])
    # thin boxes: the cell whose span holds the box centre
    centre_x = (gt_boxes[:, 0] + gt_boxes[:, 2]) / 2
    centre_y = (gt_boxes[:, 1] + gt_boxes[:, 3]) / 2
    cell_w = (rois[:, 2] - rois[:, 0]).clamp(min=1e-6) / size
    cell_h = (rois[:, 3] - rois[:, 1]).clamp(min=1e-6) / size
    col = torch.floor((centre_x - rois[:, 0]) / cell_w).long()
    row = torch.floor((centre_y - rois[:, 1]) / cell_h).long()
    cells = torch.arange(size, device=rois.device)
    in_x |= (~in_x.any(dim=1, keepdim=True)) & (cells[None] == col[:, None])
    in_y |= (~in_y.any(dim=1, keepdim=True)) & (cells[None] == row[:, None])
    return (in_y[:, :, None] & in_x[:, None, :]).float()


def paste_roi_logits(
    roi_logits: Tensor, rois: Tensor, grid_size: Sequence[int], stride: float
) -> Tensor:
    """RoI mask logits resampled onto the frame's mask grid, background outside the RoI.

    Each grid cell whose centre ``((j + 0.5) s, (i + 0.5) s)`` lies inside the RoI reads the RoI
    logits bilinearly at that point (differentiable); every other cell holds
    :data:`BACKGROUND_LOGIT` (no gradient).

    Args:
        roi_logits: ``(P, S, S)`` mask logits of each RoI.
        rois: ``(P, 4)`` float RoI boxes in input pixels.
        grid_size: ``(h, w)`` of the mask grid.
        stride: input pixels per mask cell.

    Returns:
        ``(P, h, w)`` logits on the mask grid, the dtype of ``roi_logits``.
    """
    if roi_logits.dim() != 3 or rois.shape != (roi_logits.shape[0], 4):
        raise ValueError(
            f'paste_roi_logits expects (P, S, S) logits and (P, 4) RoIs, got '
            f'{tuple(roi_logits.shape)} and {tuple(rois.shape)}'
        )
    height, width = int(grid_size[0]), int(grid_size[1])
    rois = rois.float()
    device = roi_logits.device
    xs = (torch.arange(width, device=device, dtype=torch.float32) + 0.5) * stride
    ys = (torch.arange(height, device=device, dtype=torch.float32) + 0.5) * stride
    widths = (rois[:, 2] - rois[:, 0]).clamp(min=1e-6)
    heights = (rois[:, 3] - rois[:, 1]).clamp(min=1e-6)
    # grid_sample's coordinates: -1 and 1 are the outer edges of the RoI (align_corners=False)
    u = (xs[None] - rois[:, 0, None]) / widths[:, None] * 2 - 1  # (P, w)
    v = (ys[None] - rois[:, 1, None]) / heights[:, None] * 2 - 1  # (P, h)
    grid = torch.stack(
        [u[:, None, :].expand(-1, height, -1), v[:, :, None].expand(-1, -1, width)], dim=-1
    )
    sampled = F.grid_sample(
        roi_logits[:, None].float(), grid, mode='bilinear', align_corners=False
    )[:, 0]
    inside = (u.abs() <= 1)[:, None, :] & (v.abs() <= 1)[:, :, None]
    return torch.where(inside, sampled, sampled.new_full((), BACKGROUND_LOGIT)).to(roi_logits.dtype)
