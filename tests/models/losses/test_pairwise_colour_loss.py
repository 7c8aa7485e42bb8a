"""Tests of the colour-gated pairwise loss against a loop reference."""

import math

import pytest
import torch
from mmdet.registry import MODELS

from maskfreevis.models.losses import (
    PairwiseColourLoss,
    colour_neighbour_weights,
    pairwise_colour_loss,
)


def reference_pairwise_loss(
    logits, lab, box_masks, kernel_size=3, dilation=2, threshold=0.3, valid_masks=None
):
    """Pixel loops straight from the definition (float64).

    Returns the loss, the total weight and how many in-box in-image pairs
    the colour threshold rejected.
    """
    num, height, width = logits.shape
    lab = lab.double()
    box_masks = box_masks.double()
    valid = (
        torch.ones(num, height, width, dtype=torch.bool)
        if valid_masks is None
        else valid_masks.bool()
    )
    probs = torch.sigmoid(logits.double())
    probs_bg = torch.sigmoid(-logits.double())  # exact 1 - s for +-50
    radius = kernel_size // 2
    weighted_terms, total_weight, rejected = [], 0.0, 0
    for m in range(num):
        for y in range(height):
            for x in range(width):
                if box_masks[m, y, x] == 0 or not valid[m, y, x]:
                    continue
                for dy in range(-radius, radius + 1):
                    for dx in range(-radius, radius + 1):
                        if (dy, dx) == (0, 0):
                            continue
                        qy, qx = y + dilation * dy, x + dilation * dx
                        if not (0 <= qy < height and 0 <= qx < width):
                            continue
                        if not valid[m, qy, qx]:
                            continue
                        distance = torch.linalg.norm(lab[m, :, y, x] - lab[m, :, qy, qx])
                        if math.exp(-0.5 * distance.item()) < threshold:
                            rejected += 1
                            continue
                        weight = box_masks[m, y, x]
                        same = (
                            probs[m, y, x] * probs[m, qy, qx]
                            + probs_bg[m, y, x] * probs_bg[m, qy, qx]
                        )
                        weighted_terms.append(-weight * torch.log(same))
                        total_weight += weight.item()
    loss = probs.sum() * 0.0
    if weighted_terms:
        loss = loss + torch.stack(weighted_terms).sum() / max(total_weight, 1.0)
    return loss, total_weight, rejected


def textured_frames(num, height, width, seed):
    """Lab frames with smooth texture plus a distinct square per frame."""
    gen = torch.Generator().manual_seed(seed)
    rows, cols = torch.meshgrid(
        torch.arange(height, dtype=torch.float32),
        torch.arange(width, dtype=torch.float32),
        indexing='ij',
    )
    lab = torch.stack(
        [
            50 + 1.2 * torch.sin(0.8 * cols + 0.3 * rows),
            1.0 * torch.cos(0.6 * rows),
            0.5 * cols / width,
        ]
    )
    lab = lab.expand(num, 3, height, width).clone()
    boxes = torch.zeros(num, height, width)
    for m in range(num):
        y0, x0 = m % 3, (2 * m) % 4
        lab[m, :, y0 : y0 + 3, x0 : x0 + 4] += torch.tensor([6.0, -3.0, 2.0])[:, None, None]
        boxes[m, max(y0 - 1, 0) : y0 + 4, x0 : x0 + 5] = 1
    lab = lab + 0.2 * torch.randn(lab.shape, generator=gen)
    logits = 2 * torch.randn(num, height, width, generator=gen)
    return logits, lab, boxes


@pytest.mark.parametrize('kernel_size,dilation,threshold', [(3, 2, 0.3), (5, 1, 0.5), (3, 3, 0.2)])
def test_matches_loop_reference(kernel_size, dilation, threshold):
    logits, lab, boxes = textured_frames(3, 7, 9, seed=0)
    boxes[2] = 1.0  # a box touching every border
    logits.requires_grad_(True)
    loss = pairwise_colour_loss(logits, lab, boxes, kernel_size, dilation, threshold)
    loss.backward()
    ref_logits = logits.detach().double().requires_grad_(True)
    ref_loss, total_weight, rejected = reference_pairwise_loss(
        ref_logits, lab, boxes, kernel_size, dilation, threshold
    )
    ref_loss.backward()
    assert total_weight > 0 and rejected > 0
    assert loss.item() == pytest.approx(ref_loss.item(), rel=1e-5)
    torch.testing.assert_close(logits.grad.double(), ref_logits.grad, rtol=1e-4, atol=1e-7)


def test_fractional_box_masks_act_as_weights():
    logits, lab, boxes = textured_frames(2, 6, 8, seed=1)
    boxes = boxes * torch.rand(
        boxes.shape, generator=torch.Generator().manual_seed(2)
    ).round().clamp(0.25, 1.0)
    loss = pairwise_colour_loss(logits, lab, boxes)
    ref_loss, _, _ = reference_pairwise_loss(logits, lab, boxes)
    assert loss.item() == pytest.approx(ref_loss.item(), rel=1e-5)


def test_valid_masks_match_reference_and_unpadded_crop():
    logits, lab, boxes = textured_frames(2, 6, 7, seed=3)
    crop_loss = pairwise_colour_loss(logits, lab, boxes)
    padded_logits = 4 * torch.randn(2, 9, 10)
    padded_logits[:, :6, :7] = logits
    padded_lab = 50 * torch.rand(2, 3, 9, 10)  # junk colours in the padding
    padded_lab[:, :, :6, :7] = lab
    padded_boxes = torch.ones(2, 9, 10)
    padded_boxes[:, :6, :7] = boxes
    valid = torch.zeros(2, 9, 10)
    valid[:, :6, :7] = 1
    padded_logits.requires_grad_(True)
    loss = pairwise_colour_loss(padded_logits, padded_lab, padded_boxes, valid_masks=valid)
    loss.backward()
    ref_loss, _, _ = reference_pairwise_loss(
        padded_logits.detach(), padded_lab, padded_boxes, valid_masks=valid
    )
    assert loss.item() == pytest.approx(ref_loss.item(), rel=1e-5)
    assert loss.item() == pytest.approx(crop_loss.item(), rel=1e-6)
    assert padded_logits.grad[:, 6:].abs().sum() == 0
    assert padded_logits.grad[:, :, 7:].abs().sum() == 0


def test_uniform_colour_row_hand_computed():
    # 1x5 frame, one colour: every in-image pair has weight 1. Neighbours at
    # +-2 px: p=0:{2}, 1:{3}, 2:{0,4}, 3:{1}, 4:{2} -> 6 pairs, 2 of them
    # between equal logits (+z,+z) and 4 between +z and -z.
    z = math.log(3.0)  # s = 3/4
    logits = torch.tensor([[[z, z, z, -z, -z]]])
    lab = torch.full((1, 3, 1, 5), 40.0)
    loss = pairwise_colour_loss(logits, lab, torch.ones(1, 1, 5))
    same, cross = -math.log(0.625), -math.log(0.375)
    assert loss.item() == pytest.approx((2 * same + 4 * cross) / 6, rel=1e-6)


def test_uniform_colour_square_all_weights_one():
    # 5x5, dilation 2: 11 in-image (p, q) per axis incl. q = p -> 11*11 - 25
    # = 96 pairs. The gradient of x_p = 0 next to all-zero logits is
    # sum_q (1/2 - sigmoid(x_p)) = 0, so test the value with x = z: every
    # term is -log(s^2 + (1 - s)^2).
    z = 1.3
    logits = torch.full((1, 5, 5), z)
    lab = torch.full((1, 3, 5, 5), 12.0)
    s = 1 / (1 + math.exp(-z))
    loss = pairwise_colour_loss(logits, lab, torch.ones(1, 5, 5))
    assert loss.item() == pytest.approx(-math.log(s * s + (1 - s) ** 2), rel=1e-6)
    _, total_weight, _ = reference_pairwise_loss(logits, lab, torch.ones(1, 5, 5))
    assert total_weight == 96


def test_colour_threshold_hand_computed():
    # Lab distance 2 -> sim e^-1 = 0.37 >= 0.3 kept; 3 -> 0.22 dropped.
    lab = torch.zeros(1, 3, 1, 3)
    lab[0, 0, 0, 2] = 2.0  # pixel 0 vs 2: distance 2
    logits = torch.tensor([[[math.log(3.0), 0.0, -math.log(3.0)]]])
    boxes = torch.tensor([[[1.0, 0.0, 0.0]]])
    loss = pairwise_colour_loss(logits, lab, boxes)
    assert loss.item() == pytest.approx(-math.log(0.375), rel=1e-6)
    lab[0, 0, 0, 2] = 3.0
    assert pairwise_colour_loss(logits, lab, boxes).item() == 0.0


@pytest.mark.parametrize('case', ['no_instances', 'no_boxes'])
def test_empty_inputs_give_zero_with_gradient(case):
    num = 0 if case == 'no_instances' else 2
    logits = torch.randn(num, 5, 6, requires_grad=True)
    loss = pairwise_colour_loss(logits, torch.zeros(num, 3, 5, 6), torch.zeros(num, 5, 6))
    loss.backward()
    assert loss.item() == 0.0 and torch.all(logits.grad == 0)


def test_extreme_logits_autocast_and_gradient_only_to_logits():
    logits, lab, boxes = textured_frames(2, 6, 8, seed=4)
    extreme = (torch.sign(logits) * 50.0).requires_grad_(True)
    lab.requires_grad_(True)
    boxes.requires_grad_(True)
    loss = pairwise_colour_loss(extreme, lab, boxes)
    loss.backward()
    ref_loss, _, _ = reference_pairwise_loss(extreme.detach(), lab.detach(), boxes.detach())
    assert torch.isfinite(loss) and torch.isfinite(extreme.grad).all()
    assert loss.item() == pytest.approx(ref_loss.item(), rel=1e-5)
    assert lab.grad is None and boxes.grad is None
    half = logits.bfloat16().requires_grad_(True)
    with torch.autocast('cpu', dtype=torch.bfloat16):
        amp_loss = pairwise_colour_loss(half, lab.detach(), boxes.detach())
    amp_loss.backward()
    assert amp_loss.dtype == torch.float32 and half.grad is not None
    assert (
        amp_loss.item()
        == pairwise_colour_loss(half.detach().float(), lab.detach(), boxes.detach()).item()
    )


def test_module_applies_weight_and_validates():
    logits, lab, boxes = textured_frames(2, 6, 8, seed=5)
    module = MODELS.build(dict(type='PairwiseColourLoss', loss_weight=5.0))
    assert isinstance(module, PairwiseColourLoss)
    assert module(logits, lab, boxes).item() == pytest.approx(
        5.0 * pairwise_colour_loss(logits, lab, boxes).item(), rel=1e-6
    )
    with pytest.raises(ValueError, match='odd'):
        PairwiseColourLoss(kernel_size=4)
    with pytest.raises(ValueError, match=r'lab \(G, 3, h, w\)'):
        pairwise_colour_loss(logits, lab[:, :2], boxes)


def test_instances_of_one_frame_share_its_similarities():
    # three instance-frames on two frames: indexing the frames must equal
    # giving every instance-frame its own copy, in value and gradient
    _, frames, _ = textured_frames(2, 6, 8, seed=6)
    gen = torch.Generator().manual_seed(7)
    logits = (2 * torch.randn(3, 6, 8, generator=gen)).requires_grad_(True)
    boxes = torch.zeros(3, 6, 8)
    boxes[0, 1:4, 2:6] = boxes[1, 0:5, 0:3] = boxes[2, 2:6, 3:8] = 1
    valid = torch.ones(2, 6, 8)
    valid[1, :, 6:] = 0
    frame_of = torch.tensor([0, 1, 1])
    shared = pairwise_colour_loss(logits, frames, boxes, valid_masks=valid, frame_of=frame_of)
    shared.backward()
    shared_grad, logits.grad = logits.grad.clone(), None
    copied = pairwise_colour_loss(logits, frames[frame_of], boxes, valid_masks=valid[frame_of])
    copied.backward()
    # bit-identical: sharing changes where weights are read, not the arithmetic
    assert shared.item() == copied.item()
    assert torch.equal(shared_grad, logits.grad)
    ref_loss, _, _ = reference_pairwise_loss(
        logits.detach(), frames[frame_of], boxes, valid_masks=valid[frame_of]
    )
    assert shared.item() == pytest.approx(ref_loss.item(), rel=1e-5)
    with pytest.raises(ValueError, match=r'frame_of values .* \[0, 2\)'):
        pairwise_colour_loss(logits, frames, boxes, frame_of=torch.tensor([0, 1, 2]))


def test_precomputed_neighbour_weights_are_reused():
    _, frames, _ = textured_frames(2, 6, 8, seed=8)
    logits = torch.randn(2, 6, 8)
    boxes = torch.ones(2, 6, 8)
    valid = torch.ones(2, 6, 8, dtype=torch.bool)
    valid[0, 5] = False
    module = PairwiseColourLoss(kernel_size=3, dilation=2, threshold=0.3, loss_weight=1.0)
    weights = module.neighbour_weights(frames, valid)
    assert weights.shape == (2, 8, 6, 8) and weights.dtype == torch.bool
    assert torch.equal(weights, colour_neighbour_weights(frames, 3, 2, 0.3, valid))
    assert not weights[0, :, 5].any()  # padding is never p
    assert (
        module(logits, frames, boxes, valid, neighbour_weights=weights).item()
        == module(logits, frames, boxes, valid).item()
    )
    # the precomputed weights are what is used: none -> zero loss
    assert (
        module(logits, frames, boxes, valid, neighbour_weights=torch.zeros_like(weights)).item()
        == 0.0
    )
    with pytest.raises(ValueError, match='neighbour_weights must be'):
        module(logits, frames, boxes, neighbour_weights=weights[:, :4])


def test_weight_scale_multiplies_the_loss_weight():
    logits, lab, boxes = textured_frames(2, 6, 8, seed=9)
    module = PairwiseColourLoss(loss_weight=5.0)
    assert module(logits, lab, boxes, weight_scale=1.0).item() == module(logits, lab, boxes).item()
    assert (
        module(logits, lab, boxes, weight_scale=0.3).item()
        == ((5.0 * 0.3) * pairwise_colour_loss(logits, lab, boxes)).item()
    )


def test_only_the_current_spellings_exist():
    import maskfreevis.models.losses as losses

    assert MODELS.get('PairwiseColourLoss') is PairwiseColourLoss
    assert MODELS.get('PairwiseColorLoss') is None
    for old in ('pairwise_color_loss', 'color_neighbour_weights', 'deprecated_names'):
        assert not hasattr(losses, old), old


# ------------------------------------------------------------- padding_mode='zeros' (release)
def consistency_term(a, b):
    """``-log(s_a s_b + (1 - s_a)(1 - s_b))``, differentiable (float64 inputs)."""
    return -torch.log(torch.sigmoid(a) * torch.sigmoid(b) + torch.sigmoid(-a) * torch.sigmoid(-b))


def row_lab(*lightness):
    """A 1-row Lab frame ``(1, 3, 1, w)`` of the given L values (a = b = 0)."""
    lab = torch.zeros(1, 3, 1, len(lightness))
    lab[0, 0, 0] = torch.tensor(lightness)
    return lab


def check_value_and_gradient(loss_fn, logits64, expected_fn):
    """``loss_fn`` on float32 logits against ``expected_fn`` in float64: value and gradient."""
    logits64 = logits64.clone().requires_grad_(True)
    expected = expected_fn(logits64[0, 0])
    expected.backward()
    logits = logits64.detach().float().requires_grad_(True)
    loss = loss_fn(logits)
    loss.backward()
    assert loss.item() == pytest.approx(expected.item(), rel=1e-6)
    torch.testing.assert_close(logits.grad.double(), logits64.grad, rtol=1e-5, atol=1e-7)


def test_zero_padding_counts_dark_neighbours_outside_the_image():
    # The release's formula (reference 2.3): w = [exp(-||lab(p) - lab(q)|| / 2) >= 0.3] * box(p)
    # with Lab 0 outside the image, term -log(s_p s_q + (1-s_p)(1-s_q)) with log-probabilities 0
    # outside, i.e. a term of 0. A 1 x 3 frame, all in the box, 8 neighbours at dilation 1.
    # Pixel 0 (L = 1, distance 1 to black: similarity e^-0.5 = 0.61) has 7 neighbours outside,
    # all similar; pixels 1 and 2 (L = 50, 50.5) are similar to each other only.
    # sum(w) = 7 + 1 + 1 = 9; numerator c(x1, x2) + c(x2, x1).
    lab, boxes = row_lab(1.0, 50.0, 50.5), torch.ones(1, 1, 3)
    logits64 = torch.tensor([[[0.7, -1.2, 2.0]]], dtype=torch.float64)

    def release(padding_mode):
        return lambda x: pairwise_colour_loss(
            x, lab, boxes, kernel_size=3, dilation=1, padding_mode=padding_mode
        )

    check_value_and_gradient(
        release('zeros'), logits64, lambda x: 2 * consistency_term(x[1], x[2]) / 9
    )
    # ours: the neighbours outside do not exist, sum(w) = 2
    check_value_and_gradient(release('exclude'), logits64, lambda x: consistency_term(x[1], x[2]))
    assert colour_neighbour_weights(lab, 3, 1, padding_mode='zeros').sum() == 9
    assert colour_neighbour_weights(lab, 3, 1).sum() == 2


def test_zero_padding_makes_the_batch_padding_black():
    # Pixel 2 is batch padding: its Lab (L = 80) reads as 0, and it takes part as a neighbour
    # with the logit predicted there. Pixels 0 and 1 (L = 1, 2) are in the box.
    # zeros: p = 0: 7 neighbours outside (distance 1) + pixel 1 (distance 1): 8, term c(x0, x1);
    #        p = 1: 6 outside (distance 2, similarity e^-1 = 0.37) + pixel 0 (distance 1) +
    #        pixel 2 (black padding, distance 2): 8, terms c(x1, x0) + c(x1, x2).
    #        loss = (2 c(x0, x1) + c(x1, x2)) / 16
    # exclude: p = 0 -> pixel 1 and p = 1 -> pixel 0 only: loss = c(x0, x1)
    lab, boxes = row_lab(1.0, 2.0, 80.0), torch.tensor([[[1.0, 1.0, 0.0]]])
    valid = torch.tensor([[[True, True, False]]])
    logits64 = torch.tensor([[[1.5, -0.4, 3.0]]], dtype=torch.float64)

    def loss_fn(padding_mode):
        return lambda x: pairwise_colour_loss(
            x, lab, boxes, 3, 1, valid_masks=valid, padding_mode=padding_mode
        )

    check_value_and_gradient(
        loss_fn('zeros'),
        logits64,
        lambda x: (2 * consistency_term(x[0], x[1]) + consistency_term(x[1], x[2])) / 16,
    )
    check_value_and_gradient(loss_fn('exclude'), logits64, lambda x: consistency_term(x[0], x[1]))


def test_zero_padding_mode_is_a_module_setting_and_checked():
    loss = MODELS.build(dict(type='PairwiseColourLoss', dilation=1, padding_mode='zeros'))
    lab, boxes = row_lab(1.0, 50.0, 50.5), torch.ones(1, 1, 3)
    logits = torch.tensor([[[0.7, -1.2, 2.0]]])
    expected = pairwise_colour_loss(logits, lab, boxes, 3, 1, padding_mode='zeros')
    assert loss(logits, lab, boxes).item() == pytest.approx(5.0 * expected.item())
    assert loss.neighbour_weights(lab).sum() == 9
    with pytest.raises(ValueError, match="padding_mode must be 'exclude' .* or 'zeros'"):
        PairwiseColourLoss(padding_mode='release')


def test_trusted_frame_indices_are_not_read_on_the_host():
    from maskfreevis_demo.analysis.profiling import HostSyncRecorder

    logits, lab, boxes = textured_frames(4, 6, 8, seed=9)
    frame_of = torch.tensor([0, 1, 1, 0])
    logits.requires_grad_(True)
    with HostSyncRecorder() as recorder:
        loss = pairwise_colour_loss(logits, lab[:2], boxes, frame_of=frame_of, check_indices=False)
        loss.backward()
    assert recorder.records == []
    with pytest.raises(ValueError, match=r'frame_of values must lie in \[0, 2\)'):
        pairwise_colour_loss(logits, lab[:2], boxes, frame_of=torch.tensor([0, 1, 2, 0]))
