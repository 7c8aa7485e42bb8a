"""Colour-gated pairwise label-consistency loss within a frame (BoxInst)."""
from typing import Optional

import torch
from mmdet.registry import MODELS
from torch import Tensor, nn

from .label_consistency import weighted_consistency_sums
from .neighbour_grid import grid_offsets, overlap_slices, pair_validity

__all__ = ['pairwise_color_loss', 'PairwiseColorLoss']


def _similar_neighbours(lab: Tensor, offsets, threshold: float) -> Tensor:
    """``exp(-||lab(p) - lab(q)||_2 / 2) >= threshold`` per offset.

    Args:
        lab: ``(M, 3, H, W)`` float32 Lab images.

    Returns:
        ``(M, K, H, W)`` bool; False where q leaves the image.
    """
    num, _, height, width = lab.shape
    similar = lab.new_zeros((num, len(offsets), height, width),
                            dtype=torch.bool)
    for k, offset in enumerate(offsets):
        slices = overlap_slices(offset, height, width)
        if slices is None:
            continue
        (p_rows, p_cols), (q_rows, q_cols) = slices
        distance = (lab[:, :, p_rows, p_cols]
                    - lab[:, :, q_rows, q_cols]).square().sum(dim=1).sqrt()
        similar[:, k, p_rows, p_cols] = torch.exp(-0.5 * distance) >= threshold
    return similar


def pairwise_color_loss(mask_logits: Tensor,
                        lab: Tensor,
                        box_masks: Tensor,
                        kernel_size: int = 3,
                        dilation: int = 2,
                        threshold: float = 0.3,
                        valid_masks: Optional[Tensor] = None) -> Tensor:
    """Neighbouring pixels of similar colour should share their label.

    For every pixel p inside the box and each of the ``kernel_size**2 - 1``
    in-image neighbours ``q = p + dilation * (dy, dx)`` the weight is
    ``[exp(-||lab(p) - lab(q)||_2 / 2) >= threshold] * box_masks[p]`` and the
    term ``-log(s_p s_q + (1 - s_p)(1 - s_q))``; the loss is
    ``sum(w * term) / max(sum(w), 1)`` over everything. Box masks are meant
    to be 0/1; fractional values (e.g. bilinearly resized boxes, as in the
    release) act as soft weights of p.

    Args:
        mask_logits: ``(M, H, W)`` logits of M instance-frames.
        lab: ``(M, 3, H, W)`` Lab image of each instance-frame (no grad).
        box_masks: ``(M, H, W)`` box masks (no grad).
        kernel_size: odd neighbourhood side (3 -> 8 neighbours).
        dilation: neighbour spacing in pixels.
        threshold: colour-similarity threshold (0.3 <=> Lab distance 2.41).
        valid_masks: optional ``(M, H, W)`` 0/1; pixels outside (batch
            padding) are never p nor q. None = all valid.

    Returns:
        Scalar float32 loss; 0 with a gradient when nothing is weighted.
    """
    if (mask_logits.dim() != 3 or box_masks.shape != mask_logits.shape
            or lab.shape != (mask_logits.shape[0], 3) + mask_logits.shape[1:]):
        raise ValueError('pairwise_color_loss expects mask_logits (M, H, W), '
                         'lab (M, 3, H, W) and box_masks (M, H, W), got '
                         f'{tuple(mask_logits.shape)}, {tuple(lab.shape)} '
                         f'and {tuple(box_masks.shape)}')
    if valid_masks is not None and valid_masks.shape != mask_logits.shape:
        raise ValueError('pairwise_color_loss: valid_masks must be (M, H, W)'
                         f' like mask_logits, got {tuple(valid_masks.shape)}')
    with torch.autocast(device_type=mask_logits.device.type, enabled=False):
        logits = mask_logits.float()
        offsets = grid_offsets(kernel_size, dilation, include_centre=False)
        with torch.no_grad():
            valid = (torch.ones_like(logits, dtype=torch.bool)
                     if valid_masks is None else valid_masks.bool())
            neighbour_weights = (pair_validity(valid, valid, offsets)
                                 & _similar_neighbours(lab.float(), offsets,
                                                       threshold))
            pixel_weights = box_masks.float() * valid
            total_weight = (neighbour_weights.sum(dim=1, dtype=torch.float64)
                            * pixel_weights).sum()
        sums = weighted_consistency_sums(logits.unsqueeze(1),
                                         neighbour_weights.unsqueeze(0),
                                         pixel_weights, None, [(0, 0)],
                                         offsets)
        return sums[0] / total_weight.clamp(min=1.0).float()


@MODELS.register_module()
class PairwiseColorLoss(nn.Module):
    """Registered :func:`pairwise_color_loss` times ``loss_weight``.

    Args:
        kernel_size: odd neighbourhood side (released 3).
        dilation: neighbour spacing (released 2).
        threshold: colour-similarity threshold (released 0.3).
        loss_weight: multiplier (released 5.0; not warmed up in the video
            model).
    """

    def __init__(self, kernel_size: int = 3, dilation: int = 2,
                 threshold: float = 0.3, loss_weight: float = 5.0) -> None:
        super().__init__()
        grid_offsets(kernel_size, dilation, include_centre=False)  # validate
        self.kernel_size = kernel_size
        self.dilation = dilation
        self.threshold = threshold
        self.loss_weight = loss_weight

    def forward(self, mask_logits: Tensor, lab: Tensor, box_masks: Tensor,
                valid_masks: Optional[Tensor] = None) -> Tensor:
        """(M, H, W) logits, (M, 3, H, W) Lab, (M, H, W) boxes -> scalar."""
        return self.loss_weight * pairwise_color_loss(
            mask_logits, lab, box_masks, self.kernel_size, self.dilation,
            self.threshold, valid_masks)
