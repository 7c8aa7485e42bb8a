"""Box projection loss (BoxInst): mask x/y projections match the box's.

Shape letters (one meaning across ``maskfreevis.models``): M instance-frames, h, w the mask
grid.
"""

import torch
from mmdet.registry import MODELS
from torch import Tensor, nn

__all__ = ['box_projection_loss', 'BoxProjectionLoss']

_DICE_EPS = 1e-5


def _projection_dice_loss(pred: Tensor, target: Tensor) -> Tensor:
    """``1 - 2 sum(uv) / (sum(u^2) + sum(v^2) + 1e-5)`` per row of (M, L)."""
    overlap = (pred * target).sum(dim=1)
    energy = pred.square().sum(dim=1) + target.square().sum(dim=1) + _DICE_EPS
    return 1.0 - 2.0 * overlap / energy


def box_projection_loss(mask_logits: Tensor, box_masks: Tensor) -> Tensor:
    """Dice loss between max-projections of the mask and of its box mask.

    ``mean_m [D(max_y s, max_y b) + D(max_x s, max_x b)]`` with
    ``s = sigmoid(mask_logits)``. A frame without a box contributes the
    constant 1 per axis (no gradient), as in the release.

    Args:
        mask_logits: ``(M, h, w)`` logits of M instance-frames.
        box_masks: ``(M, h, w)`` 0/1 filled box masks (no gradient).

    Returns:
        Scalar float32 loss in [0, 2]; 0 (with a gradient) when M = 0.
    """
    if mask_logits.dim() != 3 or mask_logits.shape != box_masks.shape:
        raise ValueError(
            'box_projection_loss expects mask_logits and '
            'box_masks of the same (M, h, w) shape, got '
            f'{tuple(mask_logits.shape)} and '
            f'{tuple(box_masks.shape)}'
        )
    with torch.autocast(device_type=mask_logits.device.type, enabled=False):
        probs = mask_logits.float().sigmoid()
        if probs.shape[0] == 0:
            return probs.sum() * 0.0
        boxes = box_masks.detach().float()
        # dim=1 reduces over rows (y) -> (M, w); dim=2 over columns -> (M, h)
        loss_y = _projection_dice_loss(probs.amax(dim=1), boxes.amax(dim=1))
        loss_x = _projection_dice_loss(probs.amax(dim=2), boxes.amax(dim=2))
        return (loss_y + loss_x).mean()


@MODELS.register_module()
class BoxProjectionLoss(nn.Module):
    """Registered :func:`box_projection_loss` times ``loss_weight``.

    Args:
        loss_weight: multiplier of the loss (released: 5.0).
    """

    def __init__(self, loss_weight: float = 5.0) -> None:
        super().__init__()
        self.loss_weight = loss_weight

    def forward(self, mask_logits: Tensor, box_masks: Tensor, weight_scale: float = 1.0) -> Tensor:
        """``(M, h, w)`` logits and box masks -> ``loss_weight * weight_scale *`` loss
        (``weight_scale``: e.g. the criterion's warm-up ramp)."""
        return (self.loss_weight * weight_scale) * box_projection_loss(mask_logits, box_masks)
