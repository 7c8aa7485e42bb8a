"""Box rasterisation, valid region and tight boxes on the stride-4 mask grid."""

import pytest
import torch

from maskfreevis.models.task_modules import (
    box_cells,
    mask_box_extents,
    rasterize_boxes,
    valid_region_masks,
)


def cells(mask: torch.Tensor) -> set:
    return {tuple(index) for index in mask.nonzero().tolist()}


def test_box_fills_the_cells_whose_centre_it_contains():
    # cell centres are at 2, 6, 10, 14 px; x in [2, 6) holds centre 2 only, y in [2, 10)
    # holds 2 and 6; the right/bottom edges are exclusive
    box = torch.tensor([[2.0, 2.0, 6.0, 10.0]])
    mask = rasterize_boxes(box, torch.tensor([True]), (4, 4), stride=4)
    assert mask.shape == (1, 4, 4) and mask.dtype == torch.bool
    assert cells(mask[0]) == {(0, 0), (1, 0)}


def test_box_edges_just_past_a_centre_take_that_cell():
    box = torch.tensor([[5.9, 1.0, 14.1, 6.1]])  # x: centres 6, 10, 14; y: 2, 6
    mask = rasterize_boxes(box, torch.tensor([True]), (4, 5), stride=4)
    assert cells(mask[0]) == {(y, x) for y in (0, 1) for x in (1, 2, 3)}


def test_box_thinner_than_a_cell_keeps_the_cell_of_its_centre():
    box = torch.tensor([[5.0, 9.0, 7.0, 9.5]])  # centre (6, 9.25) -> cell (y 2, x 1)
    mask = rasterize_boxes(box, torch.tensor([True]), (4, 4), stride=4)
    assert cells(mask[0]) == {(2, 1)}


def test_absent_instance_gives_empty_mask_and_batch_shapes_broadcast():
    boxes = torch.tensor([[[0.0, 0.0, 16.0, 16.0], [0.0, 0.0, 16.0, 16.0]]])  # (1, 2, 4)
    present = torch.tensor([[True, False]])
    masks = rasterize_boxes(boxes, present, (4, 4), stride=4)
    assert masks.shape == (1, 2, 4, 4)
    assert masks[0, 0].all() and not masks[0, 1].any()


def test_box_beyond_the_grid_is_clamped():
    box = torch.tensor([[-8.0, 10.0, 40.0, 40.0]])
    mask = rasterize_boxes(box, torch.tensor([True]), (4, 4), stride=4)
    assert cells(mask[0]) == {(y, x) for y in (2, 3) for x in range(4)}


def test_rasterize_rejects_mismatched_shapes():
    with pytest.raises(ValueError, match='boxes must be'):
        rasterize_boxes(torch.zeros(2, 4), torch.ones(3, dtype=torch.bool), (4, 4), 4)


def test_valid_region_excludes_padding_by_cell_centre():
    # 62 x 90 image padded to a 16 x 24 grid: rows with 4 (y + .5) < 62 -> y <= 14,
    # columns with 4 (x + .5) < 90 -> x <= 21
    valid = valid_region_masks(torch.tensor([[62, 90], [64, 96]]), (16, 24), stride=4)
    assert valid.shape == (2, 16, 24)
    assert valid[0, :15, :22].all()
    assert not valid[0, 15:].any() and not valid[0, :, 22:].any()
    assert valid[1].all()


def test_tight_box_extents_are_half_open_xyxy_and_empty_is_zero():
    masks = torch.zeros(3, 5, 6, dtype=torch.bool)
    masks[0, 1, 2] = masks[0, 3, 4] = True
    masks[1, 4, 5] = True
    extents = mask_box_extents(masks)
    assert extents.tolist() == [[2, 1, 5, 4], [5, 4, 6, 5], [0, 0, 0, 0]]


def test_box_cells_are_the_xyxy_extents_of_the_rasterised_box():
    boxes = torch.tensor(
        [
            [2.0, 2.0, 6.0, 10.0],
            [5.9, 1.0, 14.1, 6.1],
            [5.0, 9.0, 7.0, 9.5],
            [-8.0, 10.0, 40.0, 40.0],
            [0.0, 0.0, 16.0, 16.0],
            [20.0, 20.0, 30.0, 30.0],
        ]
    )
    present = torch.tensor([True, True, True, True, False, True])
    cells = box_cells(boxes, present, (4, 5), stride=4)
    assert cells.dtype == torch.long
    assert cells.tolist() == [
        [0, 0, 1, 2],
        [1, 0, 4, 2],
        [1, 2, 2, 3],
        [0, 2, 5, 4],
        [0, 0, 0, 0],  # absent
        [0, 0, 0, 0],
    ]  # no cell of the grid
    masks = rasterize_boxes(boxes, present, (4, 5), stride=4)
    assert torch.equal(cells, mask_box_extents(masks))
    with pytest.raises(ValueError, match='boxes must be'):
        box_cells(torch.zeros(2, 4), torch.ones(3, dtype=torch.bool), (4, 4), 4)
