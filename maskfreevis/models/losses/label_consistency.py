"""Weighted pixel-pair label-consistency sums with an analytic backward.

For two pixels with logits ``x_p`` and ``x_q`` and ``s = sigmoid(x)`` the
consistency term is

    c(x_p, x_q) = -log(s_p s_q + (1 - s_p)(1 - s_q))
                = -logaddexp(logsig(x_p) + logsig(x_q),
                             logsig(-x_p) + logsig(-x_q)),

stable for any logits. Its derivatives are closed-form,
``dc/dx_p = s_p - sigmoid(x_p + x_q)`` (same for q), so the backward pass
recomputes everything from the logits: autograd keeps only the logits and the
boolean pair weights instead of ~8 float ``(N, K, h, w)`` tensors per pair.

Every offset and frame pair is handled at once: the partners' log-probabilities come from one
gather (:func:`~.neighbour_grid.gather_partners`), the backward moves the partners' gradients
home with one gather (:func:`~.neighbour_grid.return_to_partners`) and sums per-pair gradients
into their frames with one matrix product, so forward and backward each dispatch about twenty
ops whatever K and P are, and are deterministic (no scatter with repeated indices).

Shape letters (one meaning across ``maskfreevis.models``): N instances, T frames per clip,
P frame pairs, S groups sharing candidate weights (the B clips for the temporal loss, the G
frames for the pairwise loss), K neighbours or candidates per pixel, h, w the mask grid.
"""

from typing import Optional, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor
from torch.autograd.function import FunctionCtx, once_differentiable

from .frame_pairs import FramePair
from .neighbour_grid import (
    Offset,
    PairGeometry,
    gather_partners,
    pair_geometry,
    return_to_partners,
    unpack_pair_bits,
)

__all__ = ['weighted_consistency_sums']


def _instance_weights(
    candidate_weights: Tensor, group_of: Optional[Tensor], geometry: PairGeometry
) -> Tensor:
    """``(P, S, K, h, w)`` group weights (or their ``(P, S, h, w)`` bits) -> ``(N, P, K, h, w)``
    (a view when S = N and not packed)."""
    if candidate_weights.dim() == 4:
        candidate_weights = unpack_pair_bits(candidate_weights, geometry.in_image.shape[0])
    per_instance = candidate_weights.transpose(0, 1)
    return per_instance if group_of is None else per_instance[group_of]


class _WeightedConsistencySum(torch.autograd.Function):
    """Per frame pair j: ``sum_{n,k,p} w[n,j,k,p] * c(x_b[n,p], x_a[n,p+d_k])``."""

    @staticmethod
    def forward(
        ctx: FunctionCtx,
        logits: Tensor,
        candidate_weights: Tensor,
        pixel_weights: Tensor,
        group_of: Optional[Tensor],
        geometry: PairGeometry,
    ) -> Tensor:
        weights = _instance_weights(candidate_weights, group_of, geometry)  # (N, P, K, h, w)
        log_probs = torch.stack([F.logsigmoid(logits), F.logsigmoid(-logits)], dim=1)
        # (N, 2, P, K, h, w): log s and log(1 - s) of both pixels of every pair, summed
        joint = gather_partners(log_probs, geometry)
        joint += log_probs[:, :, geometry.target_frames].unsqueeze(3)
        log_same = torch.logaddexp(joint[:, 0], joint[:, 1])  # (N, P, K, h, w)
        per_target = (log_same * weights).sum(dim=2)  # (N, P, h, w)
        pair_sums = -(per_target * pixel_weights.unsqueeze(1)).sum(dim=(0, 2, 3))
        ctx.save_for_backward(logits, candidate_weights, pixel_weights, group_of)
        ctx.geometry = geometry
        return pair_sums

    @staticmethod
    @once_differentiable
    def backward(ctx: FunctionCtx, grad_pair_sums: Tensor):
        logits, candidate_weights, pixel_weights, group_of = ctx.saved_tensors
        geometry = ctx.geometry
        with torch.autocast(device_type=logits.device.type, enabled=False):
            weights = _instance_weights(candidate_weights, group_of, geometry)
            partner = gather_partners(logits, geometry)  # (N, P, K, h, w)
            target = logits[:, geometry.target_frames]  # (N, P, h, w)
            both_fg = torch.sigmoid(partner + target.unsqueeze(2))
            scale = pixel_weights.unsqueeze(1) * grad_pair_sums.to(logits.dtype).view(-1, 1, 1)
            weights = weights * scale.unsqueeze(2)  # (N, P, K, h, w) float
            grad_target = (weights * (torch.sigmoid(target).unsqueeze(2) - both_fg)).sum(dim=2)
            grad_partner = return_to_partners(
                weights * (torch.sigmoid(partner) - both_fg), geometry
            )
            per_pair = torch.cat([grad_target, grad_partner], dim=1).flatten(2)  # (N, 2P, h*w)
            incidence = geometry.frame_incidence.to(logits.dtype)
            grad_logits = torch.matmul(incidence, per_pair).view_as(logits)
        return grad_logits, None, None, None, None


def weighted_consistency_sums(
    logits: Tensor,
    candidate_weights: Tensor,
    pixel_weights: Tensor,
    group_of: Optional[Tensor],
    frame_pairs: Sequence[FramePair],
    offsets: Sequence[Offset],
) -> Tensor:
    """Weighted label-consistency sums, one per frame pair.

    The weight of (pair j, instance n, candidate k, target pixel p) is
    ``candidate_weights[j, group_of[n], k, p] * pixel_weights[n, p]``
    (``group_of`` None: the identity, S = N); the
    target p lives in frame b, its partner ``p + offsets[k]`` in frame a.
    Pairs whose partner leaves the image must carry weight 0 (their
    partner reads as a logit of 0). Gradients flow to ``logits`` only.

    Args:
        logits: ``(N, T, h, w)`` float32 mask logits.
        candidate_weights: ``(P, S, K, h, w)`` bool (or 0/1) on the p grid, or their
            ``(P, S, h, w)`` bits (:func:`~.neighbour_grid.pack_pair_bits`), which is what
            autograd then keeps.
        pixel_weights: ``(N, h, w)`` bool/float per-target weights.
        group_of: ``(N,)`` long, the group (into S) of each instance, or
            None (then S = N).
        frame_pairs: P pairs ``(a, b)``; ``a == b`` pairs pixels of a frame.
        offsets: K ``(dy, dx)`` offsets.

    Returns:
        ``(P,)`` float32 sums of ``w * c``.
    """
    num_frames, height, width = logits.shape[1:]
    geometry = pair_geometry(offsets, frame_pairs, num_frames, height, width, logits.device)
    return _WeightedConsistencySum.apply(
        logits, candidate_weights, pixel_weights, group_of, geometry
    )
