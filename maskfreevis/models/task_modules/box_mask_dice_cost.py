"""Spatio-temporal box-mask dice cost for Hungarian matching without GT masks.

Shape letters (one meaning across ``maskfreevis.models``): Q queries, I annotated instances of
the clip, T frames per clip, h, w the mask grid, H, W its pixels (the padded input), P points.
"""

from typing import Optional, Sequence, Union

import torch
from mmdet.models.task_modules.assigners.match_cost import BaseMatchCost
from mmdet.registry import TASK_UTILS
from mmengine.structures import InstanceData
from torch import Tensor

from .mask_grid import mask_box_extents, sample_box_masks

__all__ = ['BoxMaskDiceCost', 'box_mask_dice_cost', 'sampled_box_mask_dice_cost']


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


def sampled_box_mask_dice_cost(
    pred_logits: Tensor, gt_pixel_boxes: Tensor, input_size: Sequence[int], points: Tensor
) -> Tensor:
    """The release's box-mask dice cost: both box masks read at shared random points.

    The predictions' filled tight boxes (as in :func:`box_mask_dice_cost`) on the ``(h, w)``
    mask grid and the GT boxes filled at input resolution ``(H, W)`` are read at the same
    ``P`` points in every frame with bilinear interpolation (``point_sample``,
    ``align_corners=False``; :func:`~maskfreevis.models.task_modules.sample_box_masks`), so
    points near a box edge read fractions. With ``x`` and ``y`` the ``T * P`` values,
    ``cost = 1 - (2 * sum(x * y) + 1) / (sum(x) + sum(y) + 1)``: the exact cost of
    :func:`box_mask_dice_cost` up to sampling noise and edge fractions.

    Args:
        pred_logits: ``(Q, T, h, w)`` mask logits.
        gt_pixel_boxes: ``(I, T, 4)`` long xyxy half-open GT boxes on the ``(H, W)`` pixel grid
            (``box_cells(boxes, present, (H, W), 1)``), ``(0, 0, 0, 0)`` where absent.
        input_size: ``(H, W)`` the GT boxes are filled at.
        points: ``(P, 2)`` ``(x, y)`` in ``[0, 1]``, shared by all frames, queries and GTs.

    Returns:
        ``(Q, I)`` float32 cost in ``[0, 1)``.
    """
    if (
        pred_logits.dim() != 4
        or gt_pixel_boxes.dim() != 3
        or gt_pixel_boxes.shape[-1] != 4
        or pred_logits.shape[1] != gt_pixel_boxes.shape[1]
    ):
        raise ValueError(
            'the sampled box-mask dice cost needs predictions (Q, T, h, w) and GT pixel '
            f'boxes (I, T, 4) of the same clip, got {tuple(pred_logits.shape)} and '
            f'{tuple(gt_pixel_boxes.shape)}'
        )
    pred_boxes = mask_box_extents(pred_logits > 0)  # (Q, T, 4)
    pred = sample_box_masks(pred_boxes, pred_logits.shape[-2:], points).flatten(1)  # (Q, T*P)
    gt = sample_box_masks(gt_pixel_boxes, input_size, points).flatten(1)  # (I, T*P)
    return 1 - (2 * pred @ gt.T + 1) / (pred.sum(1)[:, None] + gt.sum(1)[None, :] + 1)


def _box_area(boxes: Tensor) -> Tensor:
    """Cell count of ``(..., 4)`` half-open xyxy boxes → ``(...)``."""
    return (boxes[..., 2:] - boxes[..., :2]).clamp(min=0).prod(-1)


@TASK_UTILS.register_module()
class BoxMaskDiceCost(BaseMatchCost):
    """Box-mask dice match cost of the released MaskFreeVIS matcher (no BCE term).

    Compares the filled tight boxes of the binarised predicted masks with the GT boxes over every
    frame of the clip. Reads ``pred_instances.masks`` ``(Q, T, h, w)`` logits and, from
    :class:`~maskfreevis.models.criteria.MaskFreeCriterion`, the GT boxes: with
    ``num_points=None`` ``gt_instances.grid_boxes`` ``(I, T, 4)`` in mask-grid cells, the
    exact dice (:func:`box_mask_dice_cost`; ``img_meta`` is not needed); with ``num_points``
    ``gt_instances.pixel_boxes`` ``(I, T, 4)`` on the pixels of the mask grid and
    ``img_meta['mask_stride']``, the release's estimate on ``num_points`` random points
    (:func:`sampled_box_mask_dice_cost`, drawn from torch's global generator at every call).

    Args:
        weight: cost weight (5.0 in the release).
        num_points: ``None``: exact dice from the box coordinates; an int: the release's
            sampled dice on that many points per frame (20000 in the release).
    """

    def __init__(self, weight: Union[float, int] = 1.0, num_points: Optional[int] = None) -> None:
        super().__init__(weight=weight)
        if num_points is not None and (
            isinstance(num_points, bool) or not isinstance(num_points, int) or num_points < 1
        ):
            raise ValueError(
                f'BoxMaskDiceCost: num_points must be None (exact dice) or an int >= 1, '
                f'got {num_points!r}'
            )
        self.num_points = num_points

    def __call__(
        self,
        pred_instances: InstanceData,
        gt_instances: InstanceData,
        img_meta: Optional[dict] = None,
        **kwargs,
    ) -> Tensor:
        """Weighted ``(Q, I)`` cost matrix."""
        if self.num_points is None:
            if 'grid_boxes' not in gt_instances:
                raise KeyError(
                    'BoxMaskDiceCost needs gt_instances.grid_boxes, the (I, T, 4) GT '
                    'boxes in mask-grid cells (box_cells); MaskFreeCriterion provides them'
                )
            with torch.no_grad():
                cost = box_mask_dice_cost(pred_instances.masks, gt_instances.grid_boxes)
            return cost * self.weight
        if 'pixel_boxes' not in gt_instances or 'mask_stride' not in (img_meta or {}):
            raise KeyError(
                f'BoxMaskDiceCost(num_points={self.num_points}) needs '
                'gt_instances.pixel_boxes, the (I, T, 4) GT boxes on the pixels of the mask '
                "grid (box_cells at stride 1), and img_meta['mask_stride']; "
                'MaskFreeCriterion provides them'
            )
        logits = pred_instances.masks
        if logits.dim() == 3:
            logits = logits.unsqueeze(1)
        stride = int(img_meta['mask_stride'])
        input_size = (logits.shape[-2] * stride, logits.shape[-1] * stride)
        with torch.no_grad(), torch.autocast(device_type=logits.device.type, enabled=False):
            points = torch.rand((self.num_points, 2), device=logits.device)
            cost = sampled_box_mask_dice_cost(
                logits.float(), gt_instances.pixel_boxes, input_size, points
            )
        return cost * self.weight
