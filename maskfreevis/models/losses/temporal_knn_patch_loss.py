"""Temporal KNN-patch loss (TK-Loss, MaskFreeVIS): label consistency between
each pixel and its best-matching patches in another frame of the clip.

Shape letters (one meaning across ``maskfreevis.models``): B clips, T frames
per clip, N instances, P frame pairs, K candidates per pixel, h, w the mask
grid.

``padding_mode`` says what lies outside the image and on the batch padding
(:data:`PADDING_MODES`): ``'exclude'`` (default) makes out-of-image candidates
and padded pixels non-existent; ``'zeros'`` is the release's zero padding, where
they are pixels of Lab 0 and log-probabilities 0 (term 0) that can enter the
top-k and count in the normaliser.
"""

import functools
from typing import List, Optional, Sequence, Tuple, Union

import torch
import torch.nn.functional as F
from mmdet.registry import MODELS
from torch import Tensor, nn

from .frame_pairs import FramePair, build_frame_pairs, check_frame_pairs
from .label_consistency import weighted_consistency_sums
from .neighbour_grid import (
    PADDING_MODES,
    Offset,
    check_padding_mode,
    gather_partners,
    grid_offsets,
    pack_pair_bits,
    pair_geometry,
)

__all__ = [
    'PADDING_MODES',
    'temporal_knn_patch_loss',
    'patch_distances',
    'patch_similarity',
    'select_knn_candidates',
    'knn_patch_selection',
    'TemporalKNNPatchLoss',
]


def _box_sum(values: Tensor, patch_size: int) -> Tensor:
    """``(..., h + 2r, w + 2r)`` -> ``(..., h, w)`` sums over ``patch_size**2`` windows."""
    flat = values.flatten(0, -3).unsqueeze(1)
    sums = F.avg_pool2d(flat, patch_size, stride=1, divisor_override=1)
    return sums.view(*values.shape[:-2], *sums.shape[-2:])


def patch_distances(
    lab: Tensor,
    pairs: Sequence[Tuple[int, int]],
    patch_size: int,
    offsets: Sequence[Offset],
    padding_mode: str = 'exclude',
) -> Tensor:
    """Squared distances ``||P_b(p) - P_a(p + offset_k)||^2`` of every pair, offset and pixel.

    ``P(p)`` is the ``patch_size**2`` Lab patch around p, zero outside the image, flattened to
    ``3 * patch_size**2`` values. The squared distance is a box filter of the per-pixel squared
    Lab difference of the two zero-extended frames, so no 27-dim descriptor is built; every
    pair and offset comes from one gather.

    Args:
        lab: ``(B, T, 3, h, w)`` float32 Lab frames.
        pairs: P ``(a, b)``: candidates in frame a, targets in frame b.
        patch_size: odd patch side.
        offsets: K ``(dy, dx)`` candidate offsets.
        padding_mode: ``'exclude'``: a candidate outside the image gets the distance of its
            zero-extended patch (callers mask it out); ``'zeros'``: its descriptor is all zero,
            as the release unfolds zero-padded descriptors, so the distance is ``||P_b(p)||^2``.

    Returns:
        ``(B, P, K, h, w)`` float32.
    """
    if patch_size < 1 or patch_size % 2 == 0:
        raise ValueError(f'patch_size must be a positive odd number, got {patch_size}')
    num_frames, _, height, width = lab.shape[1:]
    radius = patch_size // 2
    # targets and candidates on the grid extended by the patch radius
    extended = F.pad(lab.transpose(1, 2), (radius,) * 4)  # (B, 3, T, h + 2r, w + 2r)
    geometry = pair_geometry(
        offsets, pairs, num_frames, height + 2 * radius, width + 2 * radius, lab.device
    )
    candidates = gather_partners(extended, geometry)  # (B, 3, P, K, h + 2r, w + 2r)
    targets = extended[:, :, geometry.target_frames].unsqueeze(3)  # (B, 3, P, 1, ...)
    difference = targets - candidates
    distances = _box_sum((difference * difference).sum(dim=1), patch_size)
    if padding_mode == 'zeros':
        in_image = pair_geometry(offsets, pairs, num_frames, height, width, lab.device).in_image
        target_energy = _box_sum((targets * targets).sum(dim=1), patch_size)  # (B, P, 1, h, w)
        distances = torch.where(in_image, distances, target_energy)
    return distances


def patch_similarity(
    lab_a: Tensor, lab_b: Tensor, patch_size: int, offsets: Sequence[Offset]
) -> Tensor:
    """``exp(-||P_b(p) - P_a(p + offset_k)||_2 / 2)`` for every pixel p.

    ``P(p)`` is the ``patch_size**2`` Lab patch around p (zero outside the
    image), flattened to ``3 * patch_size**2`` values (:func:`patch_distances`).
    Candidates outside the image get the value against zeros (callers mask
    them out).

    Args:
        lab_a: ``(B, 3, h, w)`` candidate frames.
        lab_b: ``(B, 3, h, w)`` target frames.
        patch_size: odd patch side (released 3).
        offsets: K ``(dy, dx)`` candidate offsets.

    Returns:
        ``(B, K, h, w)`` float32 similarities in (0, 1].
    """
    lab = torch.stack([lab_a, lab_b], dim=1).float()
    distances = patch_distances(lab, [(0, 1)], patch_size, offsets)[:, 0]
    return torch.exp(-0.5 * distances.sqrt())


@functools.lru_cache(maxsize=8)
def _reverse_raster_order(num_candidates: int, device: torch.device) -> Tensor:
    """``(K, 1, 1)`` long, ``K - 1 - k`` at candidate k."""
    return torch.arange(num_candidates - 1, -1, -1).view(-1, 1, 1).to(device)


def select_knn_candidates(
    similarity: Tensor, candidate_valid: Optional[Tensor], topk: int, threshold: float
) -> Tensor:
    """Keep the ``topk`` most similar valid candidates with sim >= threshold.

    Ties are broken towards the lower candidate index (raster order of the
    grid), as a stable sort would, so the result is deterministic on any
    device. Similarities are compared in float32; the rank of each
    candidate is counted with one ``K x K`` comparison of distinct integer
    keys (cheaper than sorting K = 9 values per pixel).

    Args:
        similarity: ``(..., K, h, w)`` candidate similarities.
        candidate_valid: bool broadcastable to ``similarity``, the candidates that exist;
            None: all of them.
        topk: number of nearest candidates kept.
        threshold: similarity threshold.

    Returns:
        ``(..., K, h, w)`` bool selection.
    """
    keep = similarity >= threshold
    if candidate_valid is not None:
        keep &= candidate_valid
    num_candidates = similarity.shape[-3]
    if topk >= num_candidates:
        return keep
    ranked = similarity.float()
    if candidate_valid is not None:
        # similarities are >= 0, so -1 ranks non-existent candidates last
        ranked = torch.where(candidate_valid, ranked, ranked.new_tensor(-1.0))
    # Integer sort keys, all distinct: the bits of a float32 >= 0 grow with its value (-1 is
    # below them all), and the low digits put the earlier candidate first among equal values.
    keys = ranked.contiguous().view(torch.int32).long() * num_candidates
    keys += _reverse_raster_order(num_candidates, similarity.device)
    # the rank of candidate k (dim -4) is the number of candidates j (dim -3) ahead of it
    ahead = keys.unsqueeze(-4) > keys.unsqueeze(-3)
    count_dtype = torch.uint8 if num_candidates < 256 else torch.int32
    rank = ahead.view(torch.uint8).sum(dim=-3, dtype=count_dtype)
    return (rank < topk) & keep


def _check_inputs(
    mask_logits: Tensor,
    lab: Tensor,
    box_masks: Tensor,
    clip_of: Optional[Tensor],
    valid_masks: Optional[Tensor],
    check_indices: bool,
) -> Tensor:
    """Validate shapes (and, with ``check_indices``, the values of ``clip_of``: a host read);
    returns the ``(N,)`` long clip index, or None for one clip per instance."""
    if mask_logits.dim() != 4 or box_masks.shape != mask_logits.shape:
        raise ValueError(
            'temporal_knn_patch_loss expects mask_logits and '
            'box_masks of the same (N, T, h, w) shape, got '
            f'{tuple(mask_logits.shape)} and '
            f'{tuple(box_masks.shape)}'
        )
    num, frames, height, width = mask_logits.shape
    if lab.dim() != 5 or lab.shape[1:] != (frames, 3, height, width):
        raise ValueError(
            'temporal_knn_patch_loss: lab must be (B, T, 3, h, '
            f'w) = (B, {frames}, 3, {height}, {width}), got '
            f'{tuple(lab.shape)}'
        )
    num_clips = lab.shape[0]
    if valid_masks is not None and valid_masks.shape != (num_clips, frames, height, width):
        raise ValueError(
            'temporal_knn_patch_loss: valid_masks must be (B, '
            f'T, h, w) = {(num_clips, frames, height, width)}, '
            f'got {tuple(valid_masks.shape)}'
        )
    if clip_of is None:
        if num_clips != num:
            raise ValueError(
                f'temporal_knn_patch_loss: without clip_of '
                f'lab needs one clip per instance (B = N = '
                f'{num}), got B = {num_clips}'
            )
        return None
    if clip_of.shape != (num,):
        raise ValueError(
            f'temporal_knn_patch_loss: clip_of must be ({num},), got {tuple(clip_of.shape)}'
        )
    clip_of = clip_of.to(device=mask_logits.device, dtype=torch.long)
    if check_indices and num and (clip_of.min() < 0 or clip_of.max() >= num_clips):
        raise ValueError(
            f'temporal_knn_patch_loss: clip_of values must '
            f'lie in [0, {num_clips}), got {clip_of.tolist()}'
        )
    return clip_of


def knn_patch_selection(
    lab: Tensor,
    pairs: Sequence[Sequence[int]],
    patch_size: int = 3,
    grid_size: int = 3,
    dilation: int = 3,
    topk: int = 5,
    threshold: float = 0.05,
    valid_masks: Optional[Tensor] = None,
    padding_mode: str = 'exclude',
) -> Tensor:
    """The K-nearest patch candidates of every target pixel, per frame pair.

    Depends on the frames only, so a caller with several predictions of the
    same clips (every decoder layer) computes it once and passes it to
    :func:`temporal_knn_patch_loss` as ``selection``.

    Args:
        lab: ``(B, T, 3, h, w)`` Lab frames of B clips.
        pairs: P ``(a, b)`` frame pairs: candidates in a, targets in b.
        patch_size, grid_size, dilation, topk, threshold, valid_masks, padding_mode: see
            :func:`temporal_knn_patch_loss` (valid masks ``(B, T, h, w)``).

    Returns:
        ``(P, B, K, h, w)`` bool on the target grid of frame b,
        ``K = grid_size**2`` in raster order of the grid. With ``padding_mode='zeros'`` it
        may select candidates outside the image.
    """
    if lab.dim() != 5 or lab.shape[2] != 3:
        raise ValueError(f'knn_patch_selection expects lab (B, T, 3, h, w), got {tuple(lab.shape)}')
    if valid_masks is not None and valid_masks.shape != lab[:, :, 0].shape:
        raise ValueError(
            'knn_patch_selection: valid_masks must be (B, T, h, '
            f'w) = {tuple(lab[:, :, 0].shape)}, got '
            f'{tuple(valid_masks.shape)}'
        )
    if topk < 1:
        raise ValueError(f'topk must be >= 1, got {topk}')
    check_padding_mode(padding_mode)
    pairs = check_frame_pairs(pairs, lab.shape[1])
    offsets = grid_offsets(grid_size, dilation, include_centre=True)
    num_frames, _, height, width = lab.shape[1:]
    geometry = pair_geometry(offsets, pairs, num_frames, height, width, lab.device)
    with torch.no_grad(), torch.autocast(device_type=lab.device.type, enabled=False):
        lab = lab.float()
        valid = None if valid_masks is None else valid_masks.bool()
        if valid is not None:
            # the batch padding reads as Lab 0 in descriptors, like zero-padded frames
            lab = lab * valid[:, :, None]
        distances = patch_distances(lab, pairs, patch_size, offsets, padding_mode)
        similarity = torch.exp(-0.5 * distances.sqrt())  # (B, P, K, h, w)
        if padding_mode == 'zeros':
            candidate_valid = None
        elif valid is None:
            candidate_valid = geometry.in_image
        else:
            # a pair exists where target and candidate are valid (False outside the image)
            candidate_valid = gather_partners(valid, geometry) & valid[
                :, geometry.target_frames
            ].unsqueeze(2)
        selected = select_knn_candidates(similarity, candidate_valid, topk, threshold)
    return selected.transpose(0, 1)


def temporal_knn_patch_loss(
    mask_logits: Tensor,
    lab: Tensor,
    box_masks: Tensor,
    pairs: Sequence[Sequence[int]],
    clip_of: Optional[Tensor] = None,
    patch_size: int = 3,
    grid_size: int = 3,
    dilation: int = 3,
    topk: int = 5,
    threshold: float = 0.05,
    valid_masks: Optional[Tensor] = None,
    selection: Optional[Tensor] = None,
    padding_mode: str = 'exclude',
    check_indices: bool = True,
) -> Tensor:
    """Temporal KNN-patch loss summed over frame pairs.

    For each pair ``(a, b)`` and instance n, every target pixel p of frame b
    is matched to the candidates ``q_k = p + dilation * (dy, dx)`` of frame a
    (``grid_size x grid_size`` grid incl. the centre, in-image only unless
    ``padding_mode='zeros'``) by
    ``sim_k = exp(-||P_b(p) - P_a(q_k)||_2 / 2)`` over Lab patches. The
    ``topk`` most similar candidates with ``sim_k >= threshold`` are kept,
    only where p lies in the instance's box union over all T frames
    (``sum_t box_masks[n, t, p] >= 1``). Term
    ``-log(s_b(p) s_a(q_k) + (1 - s_b(p))(1 - s_a(q_k)))``; per pair
    ``sum(w * term) / max(sum(w), 1)`` over n, k, p; summed over pairs.
    Similarities are computed once per clip and pair (no grad), shared by
    all instances of the clip. Released: 3x3 patches, 3x3 grid with
    dilation 3 (offsets 0, +-3), top-5, threshold 0.05.

    Args:
        mask_logits: ``(N, T, h, w)`` logits of N instances.
        lab: ``(B, T, 3, h, w)`` Lab frames of the B clips (no grad).
        box_masks: ``(N, T, h, w)`` box masks (no grad).
        pairs: ``(a, b)`` frame pairs: candidates in a, targets in b.
        clip_of: ``(N,)`` long, ``clip_of[n]`` is the clip of instance n;
            default ``arange(N)`` (then B must equal N).
        patch_size: odd patch side.
        grid_size: odd side of the candidate grid.
        dilation: candidate grid spacing in pixels.
        topk: nearest candidates kept per target pixel.
        threshold: similarity threshold.
        valid_masks: optional ``(B, T, h, w)`` 0/1; a pixel outside (batch
            padding) reads as zero in patch descriptors, and with
            ``padding_mode='exclude'`` it is never a target nor a candidate,
            exactly like a pixel outside the image (so a padded clip gives the
            loss of the unpadded one). None = all valid.
        selection: optional ``(P, B, K, h, w)`` bool from
            :func:`knn_patch_selection` with the same frames, pairs, settings,
            valid masks and padding mode (skips recomputing it).
        padding_mode: ``'exclude'`` (default): candidates outside the image
            and padded pixels do not exist. ``'zeros'``: the release's zero
            padding; a candidate outside the image has an all-zero descriptor
            and log-probabilities 0, so it can enter the top-k, its term is 0
            and it counts in ``sum(w)``; padded pixels are Lab 0 and take part
            like any other pixel (target where the box union covers them,
            candidate).
        check_indices: check that ``clip_of`` lies in ``[0, B)``, a read of
            its values on the host (a sync on an accelerator); callers that
            built it themselves pass False (an out-of-range index still fails
            in the indexing).

    Returns:
        Scalar float32 loss; 0 with a gradient for N = 0, no pairs or no
        selected candidate.
    """
    clip_of = _check_inputs(mask_logits, lab, box_masks, clip_of, valid_masks, check_indices)
    check_padding_mode(padding_mode)
    pairs = check_frame_pairs(pairs, mask_logits.shape[1])
    offsets = grid_offsets(grid_size, dilation, include_centre=True)
    if topk < 1:
        raise ValueError(f'topk must be >= 1, got {topk}')
    expected = (len(pairs), lab.shape[0], len(offsets)) + lab.shape[3:]
    if selection is not None and tuple(selection.shape) != expected:
        raise ValueError(
            'temporal_knn_patch_loss: selection must be (P, B, '
            f'K, h, w) = {expected}, got '
            f'{tuple(selection.shape)}'
        )
    with torch.autocast(device_type=mask_logits.device.type, enabled=False):
        logits = mask_logits.float()
        if logits.shape[0] == 0 or not pairs:
            return logits.sum() * 0.0
        made_here = selection is None
        if made_here:
            selection = knn_patch_selection(
                lab,
                pairs,
                patch_size,
                grid_size,
                dilation,
                topk,
                threshold,
                valid_masks,
                padding_mode,
            )
        with torch.no_grad():
            box_union = box_masks.float().sum(dim=1) >= 1.0
            candidate_counts = selection.sum(dim=2)  # (P, B, h, w)
            if clip_of is not None:
                candidate_counts = candidate_counts[:, clip_of]
            weight_totals = (candidate_counts.double() * box_union).sum(dim=(1, 2, 3))
            if padding_mode == 'zeros':
                # an out-of-image candidate's term is 0: it only counts in the totals
                num_frames, height, width = logits.shape[1:]
                geometry = pair_geometry(offsets, pairs, num_frames, height, width, logits.device)
                selection = selection & geometry.in_image
                made_here = True
            if made_here:
                # nothing else keeps it: autograd keeps its bits, not K bools per pixel
                selection = pack_pair_bits(selection)
        pair_sums = weighted_consistency_sums(logits, selection, box_union, clip_of, pairs, offsets)
        return (pair_sums / weight_totals.clamp(min=1.0).float()).sum()


@MODELS.register_module()
class TemporalKNNPatchLoss(nn.Module):
    """Registered TK-Loss with pairing mode and weight.

    Returns ``loss_weight * weight_scale * temporal_knn_patch_loss(...)``.
    The warm-up ramp of the release is not the loss's business: the
    criterion that knows the training iteration passes it as
    ``weight_scale`` (``MaskFreeCriterion(warmup_iters=dict(loss_tk=200))``).

    Args:
        patch_size, grid_size, dilation, topk, threshold: see
            :func:`temporal_knn_patch_loss` (released 3, 3, 3, 5, 0.05; the
            paper states R = 5, the release searches a 3x3 grid with
            dilation 3, see docs/en/advanced_guides/losses.md).
        pairing: ``'cyclic'``, ``'all'`` or an explicit list of ``(a, b)``;
            pairs are built from T at call time.
        loss_weight: multiplier (released 5.0 x 0.1 = 0.5).
        padding_mode: ``'exclude'`` (default) or the release's ``'zeros'``
            (see :func:`temporal_knn_patch_loss`).
    """

    def __init__(
        self,
        patch_size: int = 3,
        grid_size: int = 3,
        dilation: int = 3,
        topk: int = 5,
        threshold: float = 0.05,
        pairing: Union[str, Sequence[Sequence[int]]] = 'cyclic',
        loss_weight: float = 0.5,
        padding_mode: str = 'exclude',
        **unexpected,
    ) -> None:
        super().__init__()
        if 'warmup_iters' in unexpected:
            raise TypeError(
                'TemporalKNNPatchLoss takes no warmup_iters any more: the warm-up '
                'moved to the criterion, criterion.warmup_iters=dict(loss_tk='
                f'{unexpected["warmup_iters"]}) (MaskFreeCriterion)'
            )
        if unexpected:
            raise TypeError(f'TemporalKNNPatchLoss got unexpected arguments {sorted(unexpected)}')
        grid_offsets(grid_size, dilation, include_centre=True)  # validate
        if isinstance(pairing, str) and pairing not in ('all', 'cyclic'):
            raise ValueError(
                f"pairing must be 'all', 'cyclic' or a list of (a, b) pairs, got {pairing!r}"
            )
        self.patch_size = patch_size
        self.grid_size = grid_size
        self.dilation = dilation
        self.topk = topk
        self.threshold = threshold
        self.pairing = pairing if isinstance(pairing, str) else [tuple(pair) for pair in pairing]
        self.loss_weight = loss_weight
        self.padding_mode = check_padding_mode(padding_mode)

    def frame_pairs(self, num_frames: int) -> List[FramePair]:
        """The ``(a, b)`` pairs used for a clip of ``num_frames`` frames."""
        return build_frame_pairs(self.pairing, num_frames)

    def candidate_selection(self, lab: Tensor, valid_masks: Optional[Tensor] = None) -> Tensor:
        """``(B, T, 3, h, w)`` Lab (+ ``(B, T, h, w)`` valid) -> the
        ``(P, B, K, h, w)`` bool :func:`knn_patch_selection` of this
        module's pairing and settings, reusable by every :meth:`forward` on
        these clips."""
        return knn_patch_selection(
            lab,
            self.frame_pairs(lab.shape[1]),
            self.patch_size,
            self.grid_size,
            self.dilation,
            self.topk,
            self.threshold,
            valid_masks,
            self.padding_mode,
        )

    def forward(
        self,
        mask_logits: Tensor,
        lab: Tensor,
        box_masks: Tensor,
        clip_of: Optional[Tensor] = None,
        valid_masks: Optional[Tensor] = None,
        selection: Optional[Tensor] = None,
        weight_scale: float = 1.0,
        check_indices: bool = True,
    ) -> Tensor:
        """``(N, T, h, w)`` logits, ``(B, T, 3, h, w)`` Lab, ``(N, T, h, w)``
        box masks, optional ``(N,)`` ``clip_of``, ``(B, T, h, w)`` valid
        masks and ``(P, B, K, h, w)`` precomputed :meth:`candidate_selection`
        -> ``loss_weight * weight_scale *`` loss (``weight_scale``: e.g. the
        criterion's warm-up ramp; ``check_indices``: see
        :func:`temporal_knn_patch_loss`)."""
        loss = temporal_knn_patch_loss(
            mask_logits,
            lab,
            box_masks,
            self.frame_pairs(mask_logits.shape[1]),
            clip_of,
            self.patch_size,
            self.grid_size,
            self.dilation,
            self.topk,
            self.threshold,
            valid_masks,
            selection,
            self.padding_mode,
            check_indices,
        )
        return (self.loss_weight * weight_scale) * loss
