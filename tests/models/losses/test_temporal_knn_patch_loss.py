"""Tests of the Temporal KNN-patch loss against a loop reference."""

import math
from functools import lru_cache

import numpy as np
import pytest
import torch
from mmdet.registry import MODELS

from maskfreevis.models.losses import (
    TemporalKNNPatchLoss,
    all_frame_pairs,
    cyclic_frame_pairs,
    knn_patch_selection,
    temporal_knn_patch_loss,
)
from maskfreevis.models.losses.temporal_knn_patch_loss import select_knn_candidates


def reference_tk_loss(
    logits,
    lab,
    box_masks,
    pairs,
    clip_of=None,
    patch_size=3,
    grid_size=3,
    dilation=3,
    topk=5,
    threshold=0.05,
    valid_masks=None,
):
    """Pixel loops straight from the definition (float64).

    Returns the loss (differentiable w.r.t. ``logits``), the number of
    weighted terms per pair and the number of top-k candidates rejected by
    the threshold (to prove a test exercises both branches).
    """
    num, frames, height, width = logits.shape
    if clip_of is None:
        clip_of = list(range(num))
    else:
        clip_of = clip_of.tolist()
    lab = lab.double().numpy()
    box_masks = box_masks.double().numpy()
    valid = (
        np.ones((lab.shape[0], frames, height, width), bool)
        if valid_masks is None
        else valid_masks.bool().numpy()
    )
    radius, half_grid = patch_size // 2, grid_size // 2

    @lru_cache(maxsize=None)
    def patch(clip, frame, y, x):
        values = []
        for channel in range(3):
            for oy in range(-radius, radius + 1):
                for ox in range(-radius, radius + 1):
                    yy, xx = y + oy, x + ox
                    # outside the image or in the padding: zero
                    inside = 0 <= yy < height and 0 <= xx < width and valid[clip, frame, yy, xx]
                    values.append(lab[clip, frame, channel, yy, xx] if inside else 0.0)
        return np.array(values)

    grid = [
        (dy, dx)
        for dy in range(-half_grid, half_grid + 1)
        for dx in range(-half_grid, half_grid + 1)
    ]
    probs = torch.sigmoid(logits.double())
    # 1 - s computed as sigmoid(-x) so that +-50 logits stay exact
    probs_bg = torch.sigmoid(-logits.double())
    total = probs.sum() * 0.0
    counts, rejected = [], 0
    for frame_a, frame_b in pairs:
        terms = []
        for n in range(num):
            clip = clip_of[n]
            for y in range(height):
                for x in range(width):
                    if box_masks[n, :, y, x].sum() < 1.0:
                        continue
                    if not valid[clip, frame_b, y, x]:
                        continue
                    candidates = []
                    for k, (dy, dx) in enumerate(grid):
                        qy, qx = y + dilation * dy, x + dilation * dx
                        if not (0 <= qy < height and 0 <= qx < width):
                            continue
                        if not valid[clip, frame_a, qy, qx]:
                            continue
                        distance = np.linalg.norm(
                            patch(clip, frame_b, y, x) - patch(clip, frame_a, qy, qx)
                        )
                        candidates.append((math.exp(-0.5 * distance), k, qy, qx))
                    candidates.sort(key=lambda item: (-item[0], item[1]))
                    for sim, _, qy, qx in candidates[:topk]:
                        if sim < threshold:
                            rejected += 1
                            continue
                        same_fg = probs[n, frame_b, y, x] * probs[n, frame_a, qy, qx]
                        same_bg = probs_bg[n, frame_b, y, x] * probs_bg[n, frame_a, qy, qx]
                        terms.append(-torch.log(same_fg + same_bg))
        counts.append(len(terms))
        if terms:
            total = total + torch.stack(terms).sum() / max(len(terms), 1)
    return total, counts, rejected


def moving_objects_clip(num_frames, height, width, noise, seed):
    """Two-clip batch: textured background, a square object moving 1 px down
    and 2 px right per frame; 2 instances in clip 0 (object, static patch)
    and 1 in clip 1. Returns logits, lab, boxes, clip_of."""
    gen = torch.Generator().manual_seed(seed)
    rows, cols = torch.meshgrid(
        torch.arange(height, dtype=torch.float64),
        torch.arange(width, dtype=torch.float64),
        indexing='ij',
    )
    background = torch.stack(
        [
            50 + 1.5 * torch.sin(0.9 * cols + 0.4 * rows),
            1.2 * torch.cos(0.7 * rows),
            1.0 * torch.sin(0.3 * cols * rows),
        ]
    )
    lab = background.expand(2, num_frames, 3, height, width).clone()
    lab[1] = lab[1].flip(-1) + 0.5
    boxes = torch.zeros(3, num_frames, height, width)
    logits = torch.randn(3, num_frames, height, width, generator=gen, dtype=torch.float64)
    for t in range(num_frames):
        y0, x0 = 1 + t, 1 + 2 * t
        lab[0, t, :, y0 : y0 + 3, x0 : x0 + 3] = torch.tensor([58.0, 4.0, -3.0])[:, None, None]
        boxes[0, t, y0 : y0 + 3, x0 : x0 + 3] = 1
        logits[0, t, y0 : y0 + 3, x0 : x0 + 3] += 3.0
        boxes[1, t, 3:, :4] = 1
        boxes[2, t, 2:6, 1:7] = 1
    lab = lab + noise * torch.randn(lab.shape, generator=gen, dtype=torch.float64)
    return (logits.float(), lab.float(), boxes, torch.tensor([0, 0, 1]))


@pytest.mark.parametrize('noise', [0.0, 0.3])
@pytest.mark.parametrize('num_frames,pair_fn', [(3, all_frame_pairs), (4, cyclic_frame_pairs)])
def test_matches_loop_reference_on_moving_objects(noise, num_frames, pair_fn):
    logits, lab, boxes, clip_of = moving_objects_clip(num_frames, 7, 10, noise, seed=1)
    pairs = pair_fn(num_frames)
    logits.requires_grad_(True)
    loss = temporal_knn_patch_loss(logits, lab, boxes, pairs, clip_of)
    loss.backward()
    ref_logits = logits.detach().double().requires_grad_(True)
    ref_loss, counts, rejected = reference_tk_loss(ref_logits, lab, boxes, pairs, clip_of)
    ref_loss.backward()
    assert min(counts) > 0 and rejected > 0  # both branches exercised
    assert loss.dtype == torch.float32
    assert loss.item() == pytest.approx(ref_loss.item(), rel=1e-5)
    torch.testing.assert_close(logits.grad.double(), ref_logits.grad, rtol=1e-4, atol=1e-7)


@pytest.mark.parametrize(
    'patch_size,grid_size,dilation,topk,threshold',
    [
        (3, 3, 3, 5, 0.05),
        (1, 5, 1, 3, 0.45),
        (5, 3, 2, 9, 0.03),
    ],
)
def test_matches_loop_reference_random(patch_size, grid_size, dilation, topk, threshold):
    gen = torch.Generator().manual_seed(7)
    logits = (3 * torch.randn(4, 3, 6, 8, generator=gen)).requires_grad_()
    lab = 0.6 * torch.randn(2, 3, 3, 6, 8, generator=gen)
    boxes = (torch.rand(4, 3, 6, 8, generator=gen) > 0.4).float()
    clip_of = torch.tensor([1, 0, 1, 1])
    pairs = [(0, 1), (2, 0), (1, 2)]
    kwargs = dict(
        patch_size=patch_size,
        grid_size=grid_size,
        dilation=dilation,
        topk=topk,
        threshold=threshold,
    )
    loss = temporal_knn_patch_loss(logits, lab, boxes, pairs, clip_of, **kwargs)
    loss.backward()
    ref_logits = logits.detach().double().requires_grad_(True)
    ref_loss, counts, rejected = reference_tk_loss(ref_logits, lab, boxes, pairs, clip_of, **kwargs)
    ref_loss.backward()
    assert min(counts) > 0 and rejected > 0
    assert loss.item() == pytest.approx(ref_loss.item(), rel=1e-5)
    torch.testing.assert_close(logits.grad.double(), ref_logits.grad, rtol=1e-4, atol=1e-7)


def test_valid_masks_match_reference_and_equal_unpadded_crop():
    logits, lab, boxes, clip_of = moving_objects_clip(3, 6, 8, 0.3, seed=3)
    pairs = all_frame_pairs(3)
    crop_loss = temporal_knn_patch_loss(logits, lab, boxes, pairs, clip_of)
    # Pad like a batch: junk Lab, logits and boxes at invalid pixels.
    pad_h, pad_w = 2, 3
    padded_logits = 5 * torch.randn(3, 3, 6 + pad_h, 8 + pad_w)
    padded_logits[..., :6, :8] = logits
    padded_lab = 50 * torch.rand(2, 3, 3, 6 + pad_h, 8 + pad_w)
    padded_lab[..., :6, :8] = lab
    padded_boxes = torch.ones(3, 3, 6 + pad_h, 8 + pad_w)
    padded_boxes[..., :6, :8] = boxes
    valid = torch.zeros(2, 3, 6 + pad_h, 8 + pad_w)
    valid[..., :6, :8] = 1
    padded_logits.requires_grad_(True)
    loss = temporal_knn_patch_loss(
        padded_logits, padded_lab, padded_boxes, pairs, clip_of, valid_masks=valid
    )
    loss.backward()
    ref_loss, _, _ = reference_tk_loss(
        padded_logits.detach(), padded_lab, padded_boxes, pairs, clip_of, valid_masks=valid
    )
    assert loss.item() == pytest.approx(ref_loss.item(), rel=1e-5)
    assert loss.item() == pytest.approx(crop_loss.item(), rel=1e-6)
    assert padded_logits.grad[..., 6:, :].abs().sum() == 0
    assert padded_logits.grad[..., :, 8:].abs().sum() == 0


def test_similarity_shared_per_clip_equals_per_instance_copy():
    logits, lab, boxes, clip_of = moving_objects_clip(3, 7, 9, 0.3, seed=5)
    pairs = all_frame_pairs(3)
    shared = temporal_knn_patch_loss(logits, lab, boxes, pairs, clip_of)
    per_instance = temporal_knn_patch_loss(logits, lab[clip_of], boxes, pairs)
    assert shared.item() == per_instance.item()


def test_precomputed_selection_is_reused():
    logits, lab, boxes, clip_of = moving_objects_clip(3, 7, 9, 0.3, seed=6)
    valid = torch.ones(2, 3, 7, 9, dtype=torch.bool)
    valid[1, :, :, 7:] = False
    module = TemporalKNNPatchLoss(pairing='all', loss_weight=1.0)
    selection = module.candidate_selection(lab, valid)
    assert selection.shape == (len(all_frame_pairs(3)), 2, 9, 7, 9)
    assert selection.dtype == torch.bool
    assert torch.equal(
        selection, knn_patch_selection(lab, all_frame_pairs(3), 3, 3, 3, 5, 0.05, valid)
    )
    assert not selection[:, 1, :, :, 7:].any()  # padding is never a target
    fresh = module(logits, lab, boxes, clip_of, valid)
    reused = module(logits, lab, boxes, clip_of, valid, selection=selection)
    assert fresh.item() == reused.item() > 0
    # the given selection is what is used: none selected -> zero loss
    assert (
        module(logits, lab, boxes, clip_of, valid, selection=torch.zeros_like(selection)).item()
        == 0.0
    )
    with pytest.raises(ValueError, match='selection must be'):
        module(logits, lab, boxes, clip_of, valid, selection=selection[:1])
    with pytest.raises(ValueError, match='valid_masks must be'):
        knn_patch_selection(lab, all_frame_pairs(3), valid_masks=valid[0])


def test_single_pixel_hand_computed():
    # 1x1 frames: only the centre candidate exists; s_b = 3/4, s_a = 1/4.
    logits = torch.tensor([[[[-math.log(3)]], [[math.log(3)]]]], requires_grad=True)
    lab = torch.zeros(1, 2, 3, 1, 1)
    boxes = torch.ones(1, 2, 1, 1)
    loss = temporal_knn_patch_loss(logits, lab, boxes, [(0, 1)])
    assert loss.item() == pytest.approx(-math.log(2 * 0.75 * 0.25), rel=1e-6)
    loss.backward()
    # dc/dx = s - sigmoid(x_a + x_b) = s - 1/2
    torch.testing.assert_close(logits.grad.flatten(), torch.tensor([0.25 - 0.5, 0.75 - 0.5]))


def test_row_image_hand_computed_counts():
    # 1x7 uniform frames, offsets {-3, 0, 3}: in-image candidates per x are
    # 2,2,2,3,2,2,2 -> 15 terms; top-5 keeps them all. Frame 0 logits are
    # +z left of x=3, -z from x=3; frame 1 all +z. Same-sign terms: 6.
    z = math.log(3.0)
    frame_a = torch.tensor([z, z, z, -z, -z, -z, -z])
    logits = torch.stack([frame_a, torch.full((7,), z)])[None, :, None]
    lab = torch.zeros(1, 2, 3, 1, 7)
    boxes = torch.ones(1, 2, 1, 7)
    loss = temporal_knn_patch_loss(logits, lab, boxes, [(0, 1)])
    same, cross = -math.log(0.625), -math.log(0.375)
    # candidates q in frame 0 with q < 3 (positive): x=0:{0}, 1:{1}, 2:{2},
    # 3:{0}, 4:{1}, 5:{2}, 6:{} -> 6 same, 9 cross
    assert loss.item() == pytest.approx((6 * same + 9 * cross) / 15, rel=1e-6)


def test_topk_ties_prefer_raster_order_and_threshold():
    sim = torch.tensor([0.5, 0.9, 0.5, 0.5, 0.04, 0.5]).view(1, 6, 1, 1)
    valid = torch.ones_like(sim, dtype=torch.bool)
    valid[0, 2] = False
    chosen = select_knn_candidates(sim, valid, topk=3, threshold=0.05)
    assert chosen.flatten().tolist() == [True, True, False, True, False, False]
    chosen = select_knn_candidates(sim, valid, topk=5, threshold=0.05)
    # 4th/5th best are candidate 5 and the 0.04 one, which fails the threshold
    assert chosen.flatten().tolist() == [True, True, False, True, False, True]


def test_box_union_uses_sum_over_frames():
    logits = torch.randn(1, 2, 5, 5)
    lab = torch.zeros(1, 2, 3, 5, 5)
    half_boxes = torch.zeros(1, 2, 5, 5)
    half_boxes[0, 0] = 0.5  # sum 0.5 < 1 everywhere -> no target pixel
    assert temporal_knn_patch_loss(logits, lab, half_boxes, [(0, 1)]).item() == 0.0
    half_boxes[0, 1, 2, 2] = 0.5  # one pixel reaches the union threshold
    loss = temporal_knn_patch_loss(logits, lab, half_boxes, [(0, 1)])
    ref_loss, counts, _ = reference_tk_loss(logits, lab, half_boxes, [(0, 1)])
    assert counts == [1]
    assert loss.item() == pytest.approx(ref_loss.item(), rel=1e-6)


@pytest.mark.parametrize('case', ['no_instances', 'no_pairs', 'no_boxes'])
def test_empty_inputs_give_zero_with_gradient(case):
    num, frames = {'no_instances': (0, 3), 'no_pairs': (2, 1), 'no_boxes': (2, 3)}[case]
    logits = torch.randn(num, frames, 6, 7, requires_grad=True)
    lab = torch.zeros(num, frames, 3, 6, 7)
    boxes = torch.zeros(num, frames, 6, 7)
    loss = temporal_knn_patch_loss(logits, lab, boxes, cyclic_frame_pairs(frames))
    loss.backward()
    assert loss.item() == 0.0
    assert logits.grad is not None and torch.all(logits.grad == 0)


def test_extreme_logits_finite_and_autocast_float32():
    logits, lab, boxes, clip_of = moving_objects_clip(3, 6, 8, 0.3, seed=2)
    extreme = (torch.sign(logits) * 50.0).requires_grad_(True)
    loss = temporal_knn_patch_loss(extreme, lab, boxes, all_frame_pairs(3), clip_of)
    loss.backward()
    ref_loss, _, _ = reference_tk_loss(extreme.detach(), lab, boxes, all_frame_pairs(3), clip_of)
    assert torch.isfinite(loss) and torch.isfinite(extreme.grad).all()
    assert loss.item() == pytest.approx(ref_loss.item(), rel=1e-5)
    half = logits.bfloat16().requires_grad_(True)
    with torch.autocast('cpu', dtype=torch.bfloat16):
        amp_loss = temporal_knn_patch_loss(half, lab.bfloat16(), boxes, all_frame_pairs(3), clip_of)
    amp_loss.backward()
    assert amp_loss.dtype == torch.float32
    assert half.grad.dtype == torch.bfloat16
    fp32_loss = temporal_knn_patch_loss(
        half.detach().float(), lab.bfloat16().float(), boxes, all_frame_pairs(3), clip_of
    )
    assert amp_loss.item() == fp32_loss.item()


def test_gradient_reaches_logits_only():
    logits, lab, boxes, clip_of = moving_objects_clip(3, 6, 8, 0.3, seed=4)
    logits.requires_grad_(True)
    lab.requires_grad_(True)
    boxes.requires_grad_(True)
    temporal_knn_patch_loss(logits, lab, boxes, all_frame_pairs(3), clip_of).backward()
    assert logits.grad.abs().sum() > 0
    assert lab.grad is None and boxes.grad is None


def test_bad_inputs_raise_clear_errors():
    logits = torch.zeros(2, 3, 4, 4)
    boxes = torch.zeros(2, 3, 4, 4)
    with pytest.raises(ValueError, match='one clip per instance'):
        temporal_knn_patch_loss(logits, torch.zeros(1, 3, 3, 4, 4), boxes, [(0, 1)])
    with pytest.raises(ValueError, match='lab must be'):
        temporal_knn_patch_loss(logits, torch.zeros(2, 3, 4, 4), boxes, [(0, 1)])
    with pytest.raises(ValueError, match='out of range'):
        temporal_knn_patch_loss(logits, torch.zeros(2, 3, 3, 4, 4), boxes, [(0, 3)])
    with pytest.raises(ValueError, match='clip_of values'):
        temporal_knn_patch_loss(
            logits, torch.zeros(1, 3, 3, 4, 4), boxes, [(0, 1)], clip_of=torch.tensor([0, 1])
        )


# --------------------------------------------------------------- the module
def test_module_weight_pairing_and_weight_scale():
    logits, lab, boxes, clip_of = moving_objects_clip(5, 6, 8, 0.3, seed=6)
    loss_cfg = dict(type='TemporalKNNPatchLoss', loss_weight=0.5)
    cyclic = MODELS.build(dict(loss_cfg, pairing='cyclic'))
    dense = MODELS.build(dict(loss_cfg, pairing='all'))
    explicit = MODELS.build(dict(loss_cfg, pairing=[[0, 4], [3, 1]]))
    expected = {
        name: temporal_knn_patch_loss(logits, lab, boxes, pairs, clip_of)
        for name, pairs in [
            ('cyclic', cyclic_frame_pairs(5)),
            ('all', all_frame_pairs(5)),
            ('explicit', [(0, 4), (3, 1)]),
        ]
    }
    assert cyclic.frame_pairs(5) == [(0, 1), (1, 2), (2, 3), (3, 4), (4, 0)]
    for module, name in [(cyclic, 'cyclic'), (dense, 'all'), (explicit, 'explicit')]:
        assert module(logits, lab, boxes, clip_of).item() == pytest.approx(
            0.5 * expected[name].item(), rel=1e-6
        )
        # the criterion's warm-up ramp arrives as weight_scale
        for factor in (0.0, 0.25, 1.0):
            value = module(logits, lab, boxes, clip_of, weight_scale=factor)
            assert value.item() == ((0.5 * factor) * expected[name]).item()


def test_warmup_iters_moved_to_the_criterion():
    with pytest.raises(
        TypeError,
        match=r'moved to the criterion, '
        r'criterion.warmup_iters=dict\(loss_tk=200\)',
    ):
        MODELS.build(dict(type='TemporalKNNPatchLoss', warmup_iters=200))
    with pytest.raises(TypeError, match='unexpected arguments'):
        TemporalKNNPatchLoss(radius=5)
    module = TemporalKNNPatchLoss()
    for gone in ('warmup_iters', 'warmup_factor', 'num_training_calls'):
        assert not hasattr(module, gone)


def test_module_rejects_unknown_pairing():
    with pytest.raises(ValueError, match='pairing'):
        TemporalKNNPatchLoss(pairing='dense')


# ------------------------------------------------------------- padding_mode='zeros' (release)
def consistency_term(a, b):
    """``-log(s_a s_b + (1 - s_a)(1 - s_b))``, differentiable (float64 inputs)."""
    return -torch.log(torch.sigmoid(a) * torch.sigmoid(b) + torch.sigmoid(-a) * torch.sigmoid(-b))


def lightness_clip(frame_a, frame_b):
    """``(1, 2, 3, 1, w)`` Lab of a 2-frame clip of one row, given the L values (a = b = 0)."""
    lab = torch.zeros(1, 2, 3, 1, len(frame_a))
    lab[0, 0, 0, 0] = torch.tensor(frame_a)
    lab[0, 1, 0, 0] = torch.tensor(frame_b)
    return lab


def check_value_and_gradient(loss_fn, logits64, expected_fn):
    """``loss_fn`` on float32 logits against ``expected_fn(x_a, x_b)`` (the instance's frames
    a = 0 and b = 1, rows flattened) in float64: value and gradient."""
    logits64 = logits64.clone().requires_grad_(True)
    expected = expected_fn(logits64[0, 0].flatten(), logits64[0, 1].flatten())
    expected.backward()
    logits = logits64.detach().float().requires_grad_(True)
    loss = loss_fn(logits)
    loss.backward()
    assert loss.item() == pytest.approx(expected.item(), rel=1e-6)
    torch.testing.assert_close(logits.grad.double(), logits64.grad, rtol=1e-5, atol=1e-7)


def test_zero_padding_lets_candidates_outside_the_image_into_the_top_k():
    # The release's formulas (reference 1.2-1.4): descriptors unfolded with zero padding, so a
    # candidate outside the image has descriptor 0; top-5 of the 9 similarities, >= 0.05; the
    # term of a zero-padded candidate is 0 (log-probabilities 0) but it counts in sum(w).
    # 1 x 2 frames, patch 1 (the descriptor is the pixel's Lab), 3 x 3 grid at dilation 1.
    # Target p = 0 (L = 1): candidate a0 (L = 1.2, similarity e^-0.1 = 0.90), a1 (L = 60.3, ~0)
    #   and 7 outside (distance 1: e^-0.5 = 0.61): top-5 = a0 + 4 outside -> 5 weights.
    # Target p = 1 (L = 60): a1 (L = 60.3: 0.86); a0 and the outside ones are ~0 -> 1 weight.
    # zeros: (c(b0, a0) + c(b1, a1)) / 6; exclude: the same terms over 2.
    lab = lightness_clip([1.2, 60.3], [1.0, 60.0])
    boxes = torch.ones(1, 2, 1, 2)
    logits64 = torch.tensor([[[[0.4, -2.0]], [[1.1, 0.3]]]], dtype=torch.float64)

    def loss_fn(padding_mode):
        return lambda x: temporal_knn_patch_loss(
            x, lab, boxes, [(0, 1)], patch_size=1, dilation=1, padding_mode=padding_mode
        )

    def terms(x_a, x_b):
        return consistency_term(x_b[0], x_a[0]) + consistency_term(x_b[1], x_a[1])

    check_value_and_gradient(loss_fn('zeros'), logits64, lambda x_a, x_b: terms(x_a, x_b) / 6)
    check_value_and_gradient(loss_fn('exclude'), logits64, lambda x_a, x_b: terms(x_a, x_b) / 2)
    selection = knn_patch_selection(lab, [(0, 1)], 1, 3, 1, padding_mode='zeros')
    assert selection.sum().item() == 6
    # ties among the outside candidates go to the earlier ones in raster order
    assert selection[0, 0, :, 0, 0].tolist() == [1, 1, 1, 1, 1, 0, 0, 0, 0]


def test_zero_padded_candidate_descriptor_is_all_zero():
    # 1 x 1 frames, 3 x 3 patches: the target's descriptor is its Lab at the centre and zeros
    # around. A candidate outside the image is an all-zero descriptor (the release unfolds the
    # zero-padded descriptor map), at distance ||P_b|| = 1: similarity e^-0.5 = 0.61 >= 0.55;
    # its zero-extended patch would hold a's pixel too (distance 1.49, 0.48 < 0.55).
    # The centre candidate (L 1.1 vs 1: 0.95) + 4 outside are the top-5: loss c(b, a) / 5.
    lab = lightness_clip([1.1], [1.0])
    boxes = torch.ones(1, 2, 1, 1)
    logits64 = torch.tensor([[[[0.9]], [[-0.6]]]], dtype=torch.float64)

    def loss_fn(padding_mode):
        return lambda x: temporal_knn_patch_loss(
            x, lab, boxes, [(0, 1)], dilation=1, threshold=0.55, padding_mode=padding_mode
        )

    check_value_and_gradient(
        loss_fn('zeros'), logits64, lambda x_a, x_b: consistency_term(x_b[0], x_a[0]) / 5
    )
    check_value_and_gradient(
        loss_fn('exclude'), logits64, lambda x_a, x_b: consistency_term(x_b[0], x_a[0])
    )


def test_zero_padding_reads_the_batch_padding_as_black_pixels():
    # with padding_mode='zeros' valid_masks only blanks the padding's Lab: padded pixels take
    # part like any other pixel
    logits, lab, boxes, clip_of = moving_objects_clip(3, 6, 8, 0.3, seed=3)
    valid = torch.ones(2, 3, 6, 8, dtype=torch.bool)
    valid[1, :, 4:] = False
    boxes[2] = 0
    boxes[2, :, 4:, 2:5] = 1  # instance 2 (clip 1) is boxed over the padding
    pairs = all_frame_pairs(3)
    padded = temporal_knn_patch_loss(
        logits, lab, boxes, pairs, clip_of, valid_masks=valid, padding_mode='zeros'
    )
    black = lab * valid[:, :, None]
    assert (
        padded.item()
        == temporal_knn_patch_loss(
            logits, black, boxes, pairs, clip_of, padding_mode='zeros'
        ).item()
    )
    assert (
        padded.item()
        != temporal_knn_patch_loss(logits, lab, boxes, pairs, clip_of, valid_masks=valid).item()
    )


def test_zero_padding_mode_is_a_module_setting_and_checked():
    lab = lightness_clip([1.2, 60.3], [1.0, 60.0])
    boxes = torch.ones(1, 2, 1, 2)
    logits = torch.tensor([[[[0.4, -2.0]], [[1.1, 0.3]]]])
    module = MODELS.build(
        dict(
            type='TemporalKNNPatchLoss',
            patch_size=1,
            dilation=1,
            pairing='all',
            loss_weight=1.0,
            padding_mode='zeros',
        )
    )
    expected = temporal_knn_patch_loss(
        logits, lab, boxes, [(0, 1)], patch_size=1, dilation=1, padding_mode='zeros'
    )
    assert module(logits, lab, boxes).item() == expected.item()
    assert module.candidate_selection(lab).sum().item() == 6
    with pytest.raises(ValueError, match="padding_mode must be 'exclude' .* or 'zeros'"):
        TemporalKNNPatchLoss(padding_mode='zero')


def test_trusted_clip_indices_are_not_read_on_the_host():
    from maskfreevis_demo.analysis.profiling import HostSyncRecorder

    logits, lab, boxes, clip_of = moving_objects_clip(3, 6, 8, 0.3, seed=5)
    logits.requires_grad_(True)
    selection = knn_patch_selection(lab, cyclic_frame_pairs(3))
    with HostSyncRecorder() as recorder:
        loss = temporal_knn_patch_loss(
            logits,
            lab,
            boxes,
            cyclic_frame_pairs(3),
            clip_of,
            selection=selection,
            check_indices=False,
        )
        loss.backward()
    assert recorder.records == []
