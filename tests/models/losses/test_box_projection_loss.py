"""Tests of the box projection loss."""

import pytest
import torch
from mmdet.registry import MODELS

from maskfreevis.models.losses import BoxProjectionLoss, box_projection_loss


def reference_projection_loss(logits, box_masks):
    """Loops over instances and axes straight from the definition."""
    probs = torch.sigmoid(logits.double())
    boxes = box_masks.double()
    per_instance = []
    for m in range(logits.shape[0]):
        total = 0.0
        for axis in (0, 1):  # 0: max over rows (y), 1: max over columns (x)
            u = probs[m].max(dim=axis).values
            v = boxes[m].max(dim=axis).values
            total = total + 1 - 2 * (u * v).sum() / ((u * u).sum() + (v * v).sum() + 1e-5)
        per_instance.append(total)
    return torch.stack(per_instance).mean()


def test_matches_reference_values_and_gradients():
    gen = torch.Generator().manual_seed(0)
    logits = (2 * torch.randn(4, 6, 9, generator=gen)).requires_grad_(True)
    boxes = torch.zeros(4, 6, 9)
    boxes[0, 1:4, 2:7] = 1
    boxes[1, :, :] = 1
    boxes[2, 5:, 8:] = 1  # border pixel only; instance 3 has no box
    loss = box_projection_loss(logits, boxes)
    loss.backward()
    ref_logits = logits.detach().double().requires_grad_(True)
    ref_loss = reference_projection_loss(ref_logits, boxes)
    ref_loss.backward()
    assert loss.item() == pytest.approx(ref_loss.item(), rel=1e-6)
    torch.testing.assert_close(logits.grad.double(), ref_logits.grad, rtol=1e-5, atol=1e-8)


def test_hand_computed_cases():
    boxes = torch.zeros(1, 4, 5)
    boxes[0, 1:3, 1:4] = 1
    # prediction identical to the box -> only the 1e-5 epsilon remains:
    # per axis 1 - 2n / (2n + 1e-5) with n = 3 (x) and n = 2 (y)
    perfect = box_projection_loss(boxes * 100 - 50, boxes)
    expected = (1 - 6 / (6 + 1e-5)) + (1 - 4 / (4 + 1e-5))
    assert perfect.item() == pytest.approx(expected, abs=1e-7)
    # all-background prediction (s = 0): D = 1 on both axes
    assert box_projection_loss(torch.full((1, 4, 5), -50.0), boxes).item() == pytest.approx(
        2.0, abs=1e-6
    )
    # s = 1/2 everywhere vs box projections of 3 and 2 ones:
    # x: 1 - 2*1.5 / (5*0.25 + 3 + eps) ; y: 1 - 2*1 / (4*0.25 + 2 + eps)
    half = box_projection_loss(torch.zeros(1, 4, 5), boxes)
    expected = (1 - 3 / (4.25 + 1e-5)) + (1 - 2 / (3 + 1e-5))
    assert half.item() == pytest.approx(expected, rel=1e-6)


def test_empty_and_extreme_inputs():
    logits = torch.zeros(0, 4, 5, requires_grad=True)
    loss = box_projection_loss(logits, torch.zeros(0, 4, 5))
    loss.backward()
    assert loss.item() == 0.0 and logits.grad.shape == (0, 4, 5)
    extreme = torch.tensor([[[50.0, -50.0], [-50.0, 50.0]]], requires_grad=True)
    loss = box_projection_loss(extreme, torch.ones(1, 2, 2))
    loss.backward()
    assert torch.isfinite(loss) and torch.isfinite(extreme.grad).all()


def test_autocast_gradient_only_to_logits_and_module():
    gen = torch.Generator().manual_seed(1)
    logits = torch.randn(3, 5, 6, generator=gen)
    boxes = (torch.rand(3, 5, 6, generator=gen) > 0.5).float()
    half = logits.bfloat16().requires_grad_(True)
    boxes.requires_grad_(True)
    with torch.autocast('cpu', dtype=torch.bfloat16):
        loss = box_projection_loss(half, boxes)
    loss.backward()
    assert loss.dtype == torch.float32 and half.grad is not None
    assert boxes.grad is None
    assert loss.item() == box_projection_loss(half.detach().float(), boxes.detach()).item()
    module = MODELS.build(dict(type='BoxProjectionLoss', loss_weight=5.0))
    assert isinstance(module, BoxProjectionLoss)
    assert module(logits, boxes).item() == pytest.approx(
        5.0 * box_projection_loss(logits, boxes).item(), rel=1e-6
    )
    with pytest.raises(ValueError, match='same'):
        box_projection_loss(logits, boxes[:, :4])
