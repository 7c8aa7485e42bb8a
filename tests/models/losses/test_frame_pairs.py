"""Tests of the frame pairing helpers."""

import pytest

from maskfreevis.models.losses import all_frame_pairs, build_frame_pairs, cyclic_frame_pairs


def test_all_pairs():
    assert all_frame_pairs(3) == [(0, 1), (0, 2), (1, 2)]
    assert len(all_frame_pairs(5)) == 10
    assert all_frame_pairs(1) == [] and all_frame_pairs(0) == []


def test_cyclic_pairs():
    assert cyclic_frame_pairs(5) == [(0, 1), (1, 2), (2, 3), (3, 4), (4, 0)]
    assert cyclic_frame_pairs(3) == [(0, 1), (1, 2), (2, 0)]
    assert cyclic_frame_pairs(2) == [(0, 1)]
    assert cyclic_frame_pairs(1) == []


def test_build_frame_pairs_modes_and_errors():
    assert build_frame_pairs('all', 4) == all_frame_pairs(4)
    assert build_frame_pairs('cyclic', 4) == cyclic_frame_pairs(4)
    assert build_frame_pairs([[2, 0], (1, 3)], 4) == [(2, 0), (1, 3)]
    with pytest.raises(ValueError, match='out of range'):
        build_frame_pairs([(0, 4)], 4)
    with pytest.raises(ValueError, match='itself'):
        build_frame_pairs([(1, 1)], 4)
    with pytest.raises(ValueError, match='pairing'):
        build_frame_pairs('dense', 4)
    with pytest.raises(ValueError, match='>= 0'):
        all_frame_pairs(-1)
