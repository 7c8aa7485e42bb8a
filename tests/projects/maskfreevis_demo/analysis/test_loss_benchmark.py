"""The loss benchmark's release-style unfold baseline computes the same losses; measurements."""

import os.path as osp

import pytest
import torch

from maskfreevis.models.losses import (
    all_frame_pairs,
    cyclic_frame_pairs,
    pairwise_colour_loss,
    temporal_knn_patch_loss,
)
from maskfreevis_demo.analysis import loss_benchmark as bench
from maskfreevis_demo.analysis.profiling import (
    aten_op_count,
    forward_backward,
    peak_bytes,
    saved_bytes,
)

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))))


@pytest.mark.parametrize('padding_mode', ['exclude', 'zeros'])
@pytest.mark.parametrize('num_frames,pair_fn', [(3, all_frame_pairs), (5, cyclic_frame_pairs)])
def test_unfold_baseline_matches_and_saves_more(num_frames, pair_fn, padding_mode):
    batch = bench.loss_batch(2, 2, num_frames, 32, 48, 'cpu')
    pairs = pair_fn(num_frames)
    args = (batch['lab'], batch['boxes'])

    def ours(x):
        return temporal_knn_patch_loss(
            x, *args, pairs, batch['clip_index'], padding_mode=padding_mode
        )

    def unfold(x):
        return bench.unfold_tk_loss(x, *args, pairs, batch['clip_index'], padding_mode=padding_mode)

    value = forward_backward(ours, batch['logits'])
    assert value > 0
    assert value == pytest.approx(forward_backward(unfold, batch['logits']), rel=1e-5)
    assert 20 * saved_bytes(ours, batch['logits']) <= saved_bytes(unfold, batch['logits'])
    assert aten_op_count(ours, batch['logits']) <= aten_op_count(unfold, batch['logits'])


def test_zero_padding_changes_the_loss_of_dark_frames():
    # outside the image the release sees black: it matters where the frames are dark
    batch = bench.loss_batch(2, 2, 3, 32, 48, 'cpu')
    dark = batch['lab'] * 0.02
    args = (batch['logits'], dark, batch['boxes'], all_frame_pairs(3), batch['clip_index'])
    assert (
        bench.unfold_tk_loss(*args).item()
        != bench.unfold_tk_loss(*args, padding_mode='zeros').item()
    )


@pytest.mark.parametrize('padding_mode', ['exclude', 'zeros'])
def test_unfold_pairwise_baseline_matches(padding_mode):
    batch = bench.loss_batch(2, 2, 2, 32, 48, 'cpu')
    lab = batch['lab'][batch['clip_index']].flatten(0, 1)
    boxes = batch['boxes'].flatten(0, 1)
    logits = batch['logits'].flatten(0, 1)
    ours = pairwise_colour_loss(logits, lab, boxes, padding_mode=padding_mode)
    assert ours.item() > 0
    assert ours.item() == pytest.approx(
        bench.unfold_pairwise_loss(logits, lab, boxes, padding_mode=padding_mode).item(), rel=1e-5
    )


def test_targets_are_ratios_ours_over_unfold():
    row = dict(ops_ours=90, ops_unfold=100, time_ours=0.6, time_unfold=1.0)
    row.update(saved_ours=4, saved_unfold=100)
    assert bench.targets_met(row) == dict(ops=True, time=False, saved=True)


def test_criterion_host_syncs_of_the_demo_model():
    config = osp.join(REPO_ROOT, 'configs', 'maskfreevis', bench.demo_config_name())
    call = bench.criterion_call(config, clips=2, frames=3, size=(64, 96), objects=2, device='cpu')
    row = bench.criterion_host_syncs(*call)
    assert row['layers'] == 4 and row['clips'] == 2 and row['frames'] == 3
    # the finiteness check, once per step: an .item() is aten::item + _local_scalar_dense
    assert row['sync_profile'] == {
        'aten::_local_scalar_dense': 1,
        'aten::item': 1,
        'aten::nonzero': 0,
    }
    assert row['sync_places'] == {'maskfree_criterion.py _check_finite': 1}
    assert 'host syncs in the profile' in bench.format_criterion_syncs(row)


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
