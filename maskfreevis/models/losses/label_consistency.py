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

Shape letters (one meaning across ``maskfreevis.models``): N instances, T frames per clip,
P frame pairs, S groups sharing candidate weights (the B clips for the temporal loss, the G
frames for the pairwise loss), K neighbours or candidates per pixel, h, w the mask grid.
"""

from typing import Optional, Sequence, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor
from torch.autograd.function import FunctionCtx, once_differentiable

from .frame_pairs import FramePair
from .neighbour_grid import Offset, overlap_slices

__all__ = ['weighted_consistency_sums']


def _pair_weight(
    candidate_weights: Tensor,
    pixel_weights: Tensor,
    group_of: Optional[Tensor],
    pair: int,
    k: int,
    p_rows: slice,
    p_cols: slice,
) -> Tensor:
    """Float weights ``(N, h', w')`` of candidate k of a pair on a p window."""
    weights = candidate_weights[pair, :, k, p_rows, p_cols]
    if group_of is not None:
        weights = weights[group_of]
    return weights.float() * pixel_weights[:, p_rows, p_cols].float()


class _WeightedConsistencySum(torch.autograd.Function):
    """Per frame pair: ``sum_{n,k,p} w[n,k,p] * c(x_b[n,p], x_a[n,p+d_k])``."""

    @staticmethod
    def forward(
        ctx: FunctionCtx,
        logits: Tensor,
        candidate_weights: Tensor,
        pixel_weights: Tensor,
        group_of: Optional[Tensor],
        frame_pairs: Tuple[FramePair, ...],
        offsets: Tuple[Offset, ...],
    ) -> Tensor:
        height, width = logits.shape[-2:]
        log_fg = F.logsigmoid(logits)
        log_bg = F.logsigmoid(-logits)
        pair_sums = []
        for pair, (frame_a, frame_b) in enumerate(frame_pairs):
            total = logits.new_zeros(())
            for k, offset in enumerate(offsets):
                slices = overlap_slices(offset, height, width)
                if slices is None:
                    continue
                (p_rows, p_cols), (q_rows, q_cols) = slices
                weights = _pair_weight(
                    candidate_weights, pixel_weights, group_of, pair, k, p_rows, p_cols
                )
                log_same = torch.logaddexp(
                    log_fg[:, frame_b, p_rows, p_cols] + log_fg[:, frame_a, q_rows, q_cols],
                    log_bg[:, frame_b, p_rows, p_cols] + log_bg[:, frame_a, q_rows, q_cols],
                )
                total = total - (weights * log_same).sum()
            pair_sums.append(total)
        ctx.save_for_backward(logits, candidate_weights, pixel_weights, group_of)
        ctx.frame_pairs = frame_pairs
        ctx.offsets = offsets
        return torch.stack(pair_sums) if pair_sums else logits.new_zeros(0)

    @staticmethod
    @once_differentiable
    def backward(ctx: FunctionCtx, grad_pair_sums: Tensor):
        logits, candidate_weights, pixel_weights, group_of = ctx.saved_tensors
        height, width = logits.shape[-2:]
        with torch.autocast(device_type=logits.device.type, enabled=False):
            grad_pair_sums = grad_pair_sums.float()
            fg_prob = torch.sigmoid(logits)
            grad_logits = torch.zeros_like(logits)
            for pair, (frame_a, frame_b) in enumerate(ctx.frame_pairs):
                for k, offset in enumerate(ctx.offsets):
                    slices = overlap_slices(offset, height, width)
                    if slices is None:
                        continue
                    (p_rows, p_cols), (q_rows, q_cols) = slices
                    weights = (
                        _pair_weight(
                            candidate_weights, pixel_weights, group_of, pair, k, p_rows, p_cols
                        )
                        * grad_pair_sums[pair]
                    )
                    both_fg = torch.sigmoid(
                        logits[:, frame_b, p_rows, p_cols] + logits[:, frame_a, q_rows, q_cols]
                    )
                    grad_logits[:, frame_b, p_rows, p_cols] += weights * (
                        fg_prob[:, frame_b, p_rows, p_cols] - both_fg
                    )
                    grad_logits[:, frame_a, q_rows, q_cols] += weights * (
                        fg_prob[:, frame_a, q_rows, q_cols] - both_fg
                    )
        return grad_logits, None, None, None, None, None


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
    Pairs whose partner leaves the image must carry weight 0 (they are
    skipped). Gradients flow to ``logits`` only.

    Args:
        logits: ``(N, T, h, w)`` float32 mask logits.
        candidate_weights: ``(P, S, K, h, w)`` bool (or 0/1) on the p grid.
        pixel_weights: ``(N, h, w)`` bool/float per-target weights.
        group_of: ``(N,)`` long, the group (into S) of each instance, or
            None (then S = N).
        frame_pairs: P pairs ``(a, b)``; ``a == b`` pairs pixels of a frame.
        offsets: K ``(dy, dx)`` offsets.

    Returns:
        ``(P,)`` float32 sums of ``w * c``.
    """
    return _WeightedConsistencySum.apply(
        logits, candidate_weights, pixel_weights, group_of, tuple(frame_pairs), tuple(offsets)
    )
