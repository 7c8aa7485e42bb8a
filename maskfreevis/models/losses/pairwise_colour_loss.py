"""Colour-gated pairwise label-consistency loss within a frame (BoxInst).

Shape letters (one meaning across ``maskfreevis.models``): M instance-frames, G frames carrying
colour cues (``B * T`` in the model), K neighbours per pixel, h, w the mask grid.

``padding_mode`` says what lies outside the image and on the batch padding
(:data:`~.neighbour_grid.PADDING_MODES`): ``'exclude'`` (default) makes neighbours there
non-existent; ``'zeros'`` is the release's zero padding, where they are pixels of Lab 0 and
log-probabilities 0, so a neighbour outside the image whose centre is near black counts in the
normaliser with a term of 0.
"""

from typing import Optional

import torch
from mmdet.registry import MODELS
from torch import Tensor, nn

from .label_consistency import weighted_consistency_sums
from .neighbour_grid import (
    PairGeometry,
    check_padding_mode,
    gather_partners,
    grid_offsets,
    pack_pair_bits,
    pair_geometry,
)

__all__ = ['pairwise_colour_loss', 'colour_neighbour_weights', 'PairwiseColourLoss']


def _similar_neighbours(lab: Tensor, geometry: PairGeometry, threshold: float) -> Tensor:
    """``exp(-||lab(p) - lab(q)||_2 / 2) >= threshold`` for every offset at once.

    Args:
        lab: ``(G, 3, h, w)`` float32 Lab images; outside the image reads as Lab 0.
        geometry: :func:`pair_geometry` of the offsets (one frame, pair ``(0, 0)``).

    Returns:
        ``(G, K, h, w)`` bool, also where q leaves the image (against Lab 0).
    """
    neighbours = gather_partners(lab.unsqueeze(2), geometry)[:, :, 0]  # (G, 3, K, h, w)
    difference = lab.unsqueeze(2) - neighbours
    distance = (difference * difference).sum(dim=1).sqrt()
    return torch.exp(-0.5 * distance) >= threshold


def _per_instance_frame(per_frame: Tensor, frame_of: Optional[Tensor]) -> Tensor:
    """``(G, ...)`` -> ``(M, ...)`` through ``frame_of`` (None: G = M, as is)."""
    return per_frame if frame_of is None else per_frame[frame_of]


def _check_valid_masks(caller: str, lab: Tensor, valid_masks: Optional[Tensor]) -> None:
    """Valid masks must be per frame of ``lab``: ``(G, h, w)``."""
    if valid_masks is not None and valid_masks.shape != lab[:, 0].shape:
        raise ValueError(
            f'{caller}: valid_masks must be (G, h, w) = '
            f'{tuple(lab[:, 0].shape)}, got '
            f'{tuple(valid_masks.shape)}'
        )


def colour_neighbour_weights(
    lab: Tensor,
    kernel_size: int = 3,
    dilation: int = 2,
    threshold: float = 0.3,
    valid_masks: Optional[Tensor] = None,
    padding_mode: str = 'exclude',
) -> Tensor:
    """Which neighbour pairs of each frame are colour-similar and valid.

    Depends on the frames only, so a caller with several predictions of the
    same frames (every decoder layer, every instance) computes it once and
    passes it to :func:`pairwise_colour_loss` as ``neighbour_weights``.

    Args:
        lab: ``(G, 3, h, w)`` Lab frames.
        kernel_size, dilation, threshold, padding_mode: see :func:`pairwise_colour_loss`.
        valid_masks: optional ``(G, h, w)`` 0/1 (False on batch padding).

    Returns:
        ``(G, K, h, w)`` bool, ``K = kernel_size**2 - 1``, on the p grid; with
        ``padding_mode='zeros'`` also True for similar neighbours outside the image.
    """
    if lab.dim() != 4 or lab.shape[1] != 3:
        raise ValueError(
            f'colour_neighbour_weights expects lab (G, 3, h, w), got {tuple(lab.shape)}'
        )
    _check_valid_masks('colour_neighbour_weights', lab, valid_masks)
    check_padding_mode(padding_mode)
    offsets = grid_offsets(kernel_size, dilation, include_centre=False)
    geometry = pair_geometry(offsets, [(0, 0)], 1, *lab.shape[-2:], lab.device)
    with torch.no_grad(), torch.autocast(device_type=lab.device.type, enabled=False):
        lab = lab.float()
        if padding_mode == 'zeros':
            if valid_masks is not None:
                lab = lab * valid_masks.unsqueeze(1)  # the padding is black, Lab 0
            return _similar_neighbours(lab, geometry, threshold)
        if valid_masks is None:
            return _similar_neighbours(lab, geometry, threshold) & geometry.in_image
        valid = valid_masks.bool().unsqueeze(1)  # (G, 1, h, w)
        similar = _similar_neighbours(lab, geometry, threshold)
        # a pair exists where both pixels are valid (False outside the image)
        return similar & valid & gather_partners(valid, geometry)[:, 0]


def pairwise_colour_loss(
    mask_logits: Tensor,
    lab: Tensor,
    box_masks: Tensor,
    kernel_size: int = 3,
    dilation: int = 2,
    threshold: float = 0.3,
    valid_masks: Optional[Tensor] = None,
    frame_of: Optional[Tensor] = None,
    neighbour_weights: Optional[Tensor] = None,
    padding_mode: str = 'exclude',
    check_indices: bool = True,
) -> Tensor:
    """Neighbouring pixels of similar colour should share their label.

    For every pixel p inside the box and each of the ``kernel_size**2 - 1``
    in-image (see ``padding_mode``) neighbours ``q = p + dilation * (dy, dx)`` the weight is
    ``[exp(-||lab(p) - lab(q)||_2 / 2) >= threshold] * box_masks[p]`` and the
    term ``-log(s_p s_q + (1 - s_p)(1 - s_q))``; the loss is
    ``sum(w * term) / max(sum(w), 1)`` over everything. Box masks are meant
    to be 0/1; fractional values (e.g. bilinearly resized boxes, as in the
    release) act as soft weights of p.

    Args:
        mask_logits: ``(M, h, w)`` logits of M instance-frames.
        lab: ``(G, 3, h, w)`` Lab frames (no grad); G = M without
            ``frame_of``.
        box_masks: ``(M, h, w)`` box masks (no grad).
        kernel_size: odd neighbourhood side (3 -> 8 neighbours).
        dilation: neighbour spacing in pixels.
        threshold: colour-similarity threshold (0.3 <=> Lab distance 2.41).
        valid_masks: optional ``(G, h, w)`` 0/1; pixels outside (batch
            padding) are never p nor q with ``padding_mode='exclude'``, and
            read as Lab 0 with ``'zeros'``. None = all valid.
        frame_of: optional ``(M,)`` long, ``frame_of[m]`` is the frame of
            ``lab`` that instance-frame m lies in (instances of one frame
            share its colour similarities); default ``arange(M)``.
        neighbour_weights: optional ``(G, K, h, w)`` bool from
            :func:`colour_neighbour_weights` with the same frames, settings,
            valid masks and padding mode (skips recomputing it).
        padding_mode: ``'exclude'`` (default): neighbours outside the image
            or on the batch padding do not exist. ``'zeros'``: the release's
            zero padding; a neighbour outside the image is Lab 0 with
            log-probabilities 0, so when similar it adds its weight to
            ``sum(w)`` and a term of 0; padded pixels are Lab 0 and take part
            like any other pixel.
        check_indices: check that ``frame_of`` lies in ``[0, G)``, a read of
            its values on the host (a sync on an accelerator); callers that
            built it themselves pass False (an out-of-range index still fails
            in the indexing).

    Returns:
        Scalar float32 loss; 0 with a gradient when nothing is weighted.
    """
    num_frames = lab.shape[0] if lab.dim() == 4 else -1
    if (
        mask_logits.dim() != 3
        or box_masks.shape != mask_logits.shape
        or lab.shape != (num_frames, 3) + mask_logits.shape[1:]
        or (frame_of is None and num_frames != mask_logits.shape[0])
        or (frame_of is not None and frame_of.shape != mask_logits.shape[:1])
    ):
        raise ValueError(
            'pairwise_colour_loss expects mask_logits (M, h, w), '
            'lab (G, 3, h, w), box_masks (M, h, w) and '
            'frame_of (M,) into G (G = M without it), got '
            f'{tuple(mask_logits.shape)}, {tuple(lab.shape)}, '
            f'{tuple(box_masks.shape)} and '
            f'{None if frame_of is None else tuple(frame_of.shape)}'
        )
    if (
        check_indices
        and frame_of is not None
        and frame_of.numel()
        and (frame_of.min() < 0 or frame_of.max() >= num_frames)
    ):
        raise ValueError(
            'pairwise_colour_loss: frame_of values must lie in'
            f' [0, {num_frames}), got {frame_of.tolist()}'
        )
    _check_valid_masks('pairwise_colour_loss', lab, valid_masks)
    check_padding_mode(padding_mode)
    offsets = grid_offsets(kernel_size, dilation, include_centre=False)
    made_here = neighbour_weights is None
    if made_here:
        neighbour_weights = colour_neighbour_weights(
            lab, kernel_size, dilation, threshold, valid_masks, padding_mode
        )
    elif neighbour_weights.shape != (num_frames, len(offsets)) + lab.shape[2:]:
        raise ValueError(
            'pairwise_colour_loss: neighbour_weights must be '
            f'(G, K, h, w) = {(num_frames, len(offsets))}'
            f' + {tuple(lab.shape[2:])}, got '
            f'{tuple(neighbour_weights.shape)}'
        )
    if frame_of is not None:
        frame_of = frame_of.to(device=mask_logits.device, dtype=torch.long)
    with torch.autocast(device_type=mask_logits.device.type, enabled=False):
        logits = mask_logits.float()
        with torch.no_grad():
            pixel_weights = box_masks.float()
            if valid_masks is not None and padding_mode == 'exclude':
                pixel_weights = pixel_weights * _per_instance_frame(valid_masks, frame_of)
            neighbour_counts = neighbour_weights.sum(dim=1, dtype=torch.float64)
            total_weight = (_per_instance_frame(neighbour_counts, frame_of) * pixel_weights).sum()
            if padding_mode == 'zeros':
                # a neighbour outside the image has a term of 0: it only counts in the total
                height, width = logits.shape[-2:]
                geometry = pair_geometry(offsets, [(0, 0)], 1, height, width, logits.device)
                neighbour_weights = neighbour_weights & geometry.in_image
                made_here = True
            if made_here:
                # nothing else keeps them: autograd keeps 1 byte per pixel, not K
                neighbour_weights = pack_pair_bits(neighbour_weights)
        # each instance-frame is a one-frame "instance" paired with itself
        sums = weighted_consistency_sums(
            logits.unsqueeze(1),
            neighbour_weights.unsqueeze(0),
            pixel_weights,
            frame_of,
            [(0, 0)],
            offsets,
        )
        return sums[0] / total_weight.clamp(min=1.0).float()


@MODELS.register_module()
class PairwiseColourLoss(nn.Module):
    """Registered :func:`pairwise_colour_loss` times ``loss_weight``.

    Args:
        kernel_size: odd neighbourhood side (released 3).
        dilation: neighbour spacing (released 2).
        threshold: colour-similarity threshold (released 0.3).
        loss_weight: multiplier (released 5.0; not warmed up in the video
            model).
        padding_mode: ``'exclude'`` (default) or the release's ``'zeros'``
            (see :func:`pairwise_colour_loss`).
    """

    def __init__(
        self,
        kernel_size: int = 3,
        dilation: int = 2,
        threshold: float = 0.3,
        loss_weight: float = 5.0,
        padding_mode: str = 'exclude',
    ) -> None:
        super().__init__()
        grid_offsets(kernel_size, dilation, include_centre=False)  # validate
        self.kernel_size = kernel_size
        self.dilation = dilation
        self.threshold = threshold
        self.loss_weight = loss_weight
        self.padding_mode = check_padding_mode(padding_mode)

    def neighbour_weights(self, lab: Tensor, valid_masks: Optional[Tensor] = None) -> Tensor:
        """``(G, 3, h, w)`` Lab (+ ``(G, h, w)`` valid) -> ``(G, K, h, w)``
        bool colour-similar neighbours, reusable by every :meth:`forward`
        on these frames."""
        return colour_neighbour_weights(
            lab, self.kernel_size, self.dilation, self.threshold, valid_masks, self.padding_mode
        )

    def forward(
        self,
        mask_logits: Tensor,
        lab: Tensor,
        box_masks: Tensor,
        valid_masks: Optional[Tensor] = None,
        frame_of: Optional[Tensor] = None,
        neighbour_weights: Optional[Tensor] = None,
        weight_scale: float = 1.0,
        check_indices: bool = True,
    ) -> Tensor:
        """(M, h, w) logits, (G, 3, h, w) Lab, (M, h, w) boxes, optional
        (G, h, w) valid masks, (M,) ``frame_of`` and (G, K, h, w)
        precomputed neighbour weights -> ``loss_weight * weight_scale *``
        loss (``weight_scale``: e.g. the criterion's warm-up ramp;
        ``check_indices``: see :func:`pairwise_colour_loss`)."""
        return (self.loss_weight * weight_scale) * pairwise_colour_loss(
            mask_logits,
            lab,
            box_masks,
            self.kernel_size,
            self.dilation,
            self.threshold,
            valid_masks,
            frame_of,
            neighbour_weights,
            self.padding_mode,
            check_indices,
        )
