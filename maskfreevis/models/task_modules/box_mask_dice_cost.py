"""Spatio-temporal box-mask dice cost for Hungarian matching without GT masks.

Shape letters (one meaning across ``maskfreevis.models``): Q queries, I annotated instances of
the clip, T frames per clip, h, w the mask grid.
"""

from typing import Optional, Union

import torch
from mmdet.models.task_modules.assigners.match_cost import BaseMatchCost
from mmdet.registry import TASK_UTILS
from mmengine.structures import InstanceData
from torch import Tensor

from .mask_grid import mask_box_extents

__all__ = ['BoxMaskDiceCost', 'box_mask_dice_cost']


def box_mask_dice_cost(pred_logits: Tensor, gt_boxes: Tensor) -> Tensor:
    """Dice cost between the filled tight boxes of the predictions and the GT boxes, over a clip.

    Each predicted mask is binarised (``sigmoid > 0.5``, i.e. logit ``> 0``) and replaced by its
    filled tight box per frame (an empty prediction gives an empty box); the GT boxes are already
    on the mask grid. With ``x`` and ``y`` the two filled box masks summed over all frames and
    cells of the clip, ``cost = 1 - (2 * sum(x * y) + 1) / (sum(x) + sum(y) + 1)``.
    Because both are rectangles per frame, the sums are computed exactly from box coordinates
    (areas and overlaps), never materialising a mask.

    Args:
        pred_logits: ``(Q, T, h, w)`` (or ``(Q, h, w)`` for one frame) mask logits.
        gt_boxes: ``(I, T, 4)`` (or ``(I, 4)``) long xyxy half-open GT cell boxes on the same
            grid (:func:`~maskfreevis.models.task_modules.box_cells`), ``(0, 0, 0, 0)`` where
            the instance is absent.

    Returns:
        ``(Q, I)`` float32 cost in ``[0, 1)``.
    """
    if pred_logits.dim() == 3:
        pred_logits = pred_logits.unsqueeze(1)
    if gt_boxes.dim() == 2:
        gt_boxes = gt_boxes.unsqueeze(1)
    if (
        pred_logits.dim() != 4
        or gt_boxes.dim() != 3
        or gt_boxes.shape[-1] != 4
        or pred_logits.shape[1] != gt_boxes.shape[1]
    ):
        raise ValueError(
            'BoxMaskDiceCost needs predictions (Q, T, h, w) and GT cell boxes '
            '(I, T, 4) of the same clip, got '
            f'{tuple(pred_logits.shape)} and {tuple(gt_boxes.shape)}'
        )
    pred_boxes = mask_box_extents(pred_logits > 0)  # (Q, T, 4)
    pred_area = _box_area(pred_boxes).sum(-1)  # (Q,)
    gt_area = _box_area(gt_boxes).sum(-1)  # (I,)
    overlap_start = torch.maximum(pred_boxes[:, None, :, :2], gt_boxes[None, :, :, :2])
    overlap_end = torch.minimum(pred_boxes[:, None, :, 2:], gt_boxes[None, :, :, 2:])
    overlap = (overlap_end - overlap_start).clamp(min=0).prod(-1).sum(-1)  # (Q, I)
    # exact integers up to ~2**24 cells; float32 keeps the cost in the assigner's dtype
    overlap, pred_area, gt_area = overlap.float(), pred_area.float(), gt_area.float()
    return 1 - (2 * overlap + 1) / (pred_area[:, None] + gt_area[None, :] + 1)


def _box_area(boxes: Tensor) -> Tensor:
    """Cell count of ``(..., 4)`` half-open xyxy boxes → ``(...)``."""
    return (boxes[..., 2:] - boxes[..., :2]).clamp(min=0).prod(-1)


@TASK_UTILS.register_module()
class BoxMaskDiceCost(BaseMatchCost):
    """Box-mask dice match cost of the released MaskFreeVIS matcher (no BCE term).

    Compares the filled tight boxes of the binarised predicted masks with the GT boxes over every
    frame of the clip (see :func:`box_mask_dice_cost`). Reads ``pred_instances.masks``
    ``(Q, T, h, w)`` logits and ``gt_instances.grid_boxes`` ``(I, T, 4)`` GT cell boxes on the
    same grid (:class:`~maskfreevis.models.criteria.MaskFreeCriterion` provides them).
    ``img_meta`` (a per-video dict of per-frame lists on the VIS path) is not needed.

    Args:
        weight: cost weight (5.0 in the release).
    """

    def __init__(self, weight: Union[float, int] = 1.0) -> None:
        super().__init__(weight=weight)

    def __call__(
        self,
        pred_instances: InstanceData,
        gt_instances: InstanceData,
        img_meta: Optional[dict] = None,
        **kwargs,
    ) -> Tensor:
        """Weighted ``(Q, I)`` cost matrix."""
        if 'grid_boxes' not in gt_instances:
            raise KeyError(
                'BoxMaskDiceCost needs gt_instances.grid_boxes, the (I, T, 4) GT '
                'boxes in mask-grid cells (box_cells); MaskFreeCriterion provides them'
            )
        with torch.no_grad():
            cost = box_mask_dice_cost(pred_instances.masks, gt_instances.grid_boxes)
        return cost * self.weight
