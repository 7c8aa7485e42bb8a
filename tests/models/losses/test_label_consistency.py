"""Tests of the pixel-pair consistency term and its analytic backward."""

import math

import pytest
import torch

from maskfreevis.models.losses.label_consistency import weighted_consistency_sums
from maskfreevis.models.losses.neighbour_grid import (
    grid_offsets,
    overlap_slices,
    pack_pair_bits,
    pair_validity,
    unpack_pair_bits,
)


def test_grid_offsets_and_overlap():
    assert grid_offsets(3, 3, True) == [
        (-3, -3),
        (-3, 0),
        (-3, 3),
        (0, -3),
        (0, 0),
        (0, 3),
        (3, -3),
        (3, 0),
        (3, 3),
    ]
    assert (0, 0) not in grid_offsets(3, 2, False)
    assert overlap_slices((2, -1), 4, 5) == ((slice(0, 2), slice(1, 5)), (slice(2, 4), slice(0, 4)))
    assert overlap_slices((-4, 0), 4, 5) is None
    valid = pair_validity(
        torch.ones(1, 2, 3, dtype=torch.bool), torch.ones(1, 2, 3, dtype=torch.bool), [(1, 1)]
    )
    assert valid[0, 0].tolist() == [[True, True, False], [False, False, False]]


def test_gradcheck_float64():
    gen = torch.Generator().manual_seed(0)
    logits = (3 * torch.randn(3, 2, 4, 5, generator=gen, dtype=torch.float64)).requires_grad_(True)
    offsets = grid_offsets(3, 1, include_centre=True)
    candidate = torch.rand(2, 2, len(offsets), 4, 5, generator=gen) > 0.3
    pixel = torch.rand(3, 4, 5, generator=gen, dtype=torch.float64)
    group_of = torch.tensor([1, 0, 1])

    def sums(x):
        return weighted_consistency_sums(x, candidate, pixel, group_of, [(0, 1), (1, 0)], offsets)

    assert torch.autograd.gradcheck(sums, (logits,))


def test_extreme_logits_exact_terms():
    # c(50, 50) = -log(1 - 2 s(1 - s)) ~ 2 e^-50; c(50, -50) = 50 - log 2
    logits = torch.tensor([[[[50.0, 50.0, -50.0]]]], requires_grad=True)
    weights = torch.tensor([True, False, False]).view(1, 1, 1, 1, 3)
    pair_sum = weighted_consistency_sums(
        logits, weights, torch.ones(1, 1, 3), None, [(0, 0)], [(0, 1)]
    )
    assert pair_sum.item() == pytest.approx(2 * math.exp(-50), rel=1e-4)
    weights = torch.tensor([False, True, False]).view(1, 1, 1, 1, 3)
    pair_sum = weighted_consistency_sums(
        logits, weights, torch.ones(1, 1, 3), None, [(0, 0)], [(0, 1)]
    )
    pair_sum.sum().backward()
    assert abs(pair_sum.item() - (50 - 0.6931472)) < 1e-5
    # dc/dx_p = s_p - sigmoid(x_p + x_q): 1 - 1/2 and 0 - 1/2
    torch.testing.assert_close(logits.grad.flatten(), torch.tensor([0.0, 0.5, -0.5]))


@pytest.mark.parametrize('num_offsets', [8, 9, 15, 16])
def test_packed_pair_bits_round_trip_and_give_the_same_sums(num_offsets):
    gen = torch.Generator().manual_seed(num_offsets)
    weights = torch.rand(2, 3, num_offsets, 4, 5, generator=gen) > 0.5
    bits = pack_pair_bits(weights)
    assert bits.shape == (2, 3, 4, 5) and bits.element_size() <= 4
    assert torch.equal(unpack_pair_bits(bits, num_offsets), weights)
    offsets = [(dy, dx) for dy in range(-2, 2) for dx in range(-2, 2)][:num_offsets]
    logits = torch.randn(4, 2, 4, 5, generator=gen)
    group_of = torch.tensor([2, 0, 1, 2])
    pixel = torch.rand(4, 4, 5, generator=gen) > 0.2
    pairs = [(0, 1), (1, 0)]
    grads = []
    for candidate in (weights, bits):
        leaf = logits.clone().requires_grad_(True)
        sums = weighted_consistency_sums(leaf, candidate, pixel, group_of, pairs, offsets)
        sums.sum().backward()
        grads.append((sums.detach(), leaf.grad))
    torch.testing.assert_close(grads[0], grads[1], rtol=0, atol=0)
