"""The loss benchmark's release-style unfold baseline computes the same losses; measurements."""

import pytest
import torch

from maskfreevis.analysis import loss_benchmark as bench
from maskfreevis.analysis.profiling import forward_backward, peak_bytes, saved_bytes
from maskfreevis.models.losses import (
    all_frame_pairs,
    cyclic_frame_pairs,
    pairwise_colour_loss,
    temporal_knn_patch_loss,
)


@pytest.mark.parametrize('num_frames,pair_fn', [(3, all_frame_pairs), (5, cyclic_frame_pairs)])
def test_unfold_baseline_matches_and_saves_more(num_frames, pair_fn):
    batch = bench.loss_batch(2, 2, num_frames, 32, 48, 'cpu')
    pairs = pair_fn(num_frames)
    args = (batch['lab'], batch['boxes'])

    def ours(x):
        return temporal_knn_patch_loss(x, *args, pairs, batch['clip_index'])

    def unfold(x):
        return bench.unfold_tk_loss(x, *args, pairs, batch['clip_index'])

    value = forward_backward(ours, batch['logits'])
    assert value > 0
    assert value == pytest.approx(forward_backward(unfold, batch['logits']), rel=1e-5)
    assert 4 * saved_bytes(ours, batch['logits']) <= saved_bytes(unfold, batch['logits'])


def test_unfold_pairwise_baseline_matches():
    batch = bench.loss_batch(2, 2, 2, 32, 48, 'cpu')
    lab = batch['lab'][batch['clip_index']].flatten(0, 1)
    boxes = batch['boxes'].flatten(0, 1)
    logits = batch['logits'].flatten(0, 1)
    ours = pairwise_colour_loss(logits, lab, boxes)
    assert ours.item() > 0
    assert ours.item() == pytest.approx(
        bench.unfold_pairwise_loss(logits, lab, boxes).item(), rel=1e-5
    )


def test_peak_bytes_counts_allocations():
    logits = torch.randn(4, 256, 256)

    def exp_sum(x):
        return x.exp().sum()  # keeps one (4, 256, 256) float32 result

    assert peak_bytes(exp_sum, logits, 'cpu') >= 4 * 256 * 256 * 4


def test_layer_sharing_benchmark_gives_the_same_losses():
    batch = bench.loss_batch(2, 2, 3, 24, 32, 'cpu')
    row = bench.layer_sharing_timing(batch, num_layers=3, repeats=1, device='cpu')
    assert row['layers'] == 3 and row['value_shared'] > 0
    assert row['value_shared'] == pytest.approx(row['value_per_layer'], rel=1e-5)
    assert row['time_shared'] > 0 and row['time_per_layer'] > 0
