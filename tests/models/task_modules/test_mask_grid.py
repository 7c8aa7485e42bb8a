"""Box rasterisation (cell centres; the release's bilinear resize), point reads of box masks, valid
region and tight boxes on the stride-4 mask grid."""

import pytest
import torch
import torch.nn.functional as F
from mmcv.ops import point_sample

from maskfreevis.models.task_modules import (
    bilinear_box_masks,
    box_cells,
    mask_box_extents,
    rasterize_boxes,
    sample_box_masks,
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


# ------------------------------------------------ the release's box masks (reference doc 2.1)
# Filled at the padded input resolution ([min_y:max_y+1, min_x:max_x+1] of a box from a mask,
# i.e. pixels x1 .. x2 - 1 of an integer xyxy box), then F.interpolate(bilinear,
# align_corners=False) to the mask grid: at stride 4 cell c reads the mean of pixels 4c + 1 and
# 4c + 2 along each axis (source position 4c + 1.5).


def filled(size, x0, y0, x1, y1):
    mask = torch.zeros(size)
    mask[y0:y1, x0:x1] = 1.0
    return mask


def test_box_pixels_follow_the_centre_rule_at_stride_one():
    boxes = torch.tensor([[5.0, 2.0, 14.0, 6.0], [4.6, 2.0, 13.5, 6.2]])
    pixels = box_cells(boxes, torch.tensor([True, True]), (8, 16), 1)
    # integer box: pixels 5..13 / 2..5; fractional: pixel x when 4.6 <= x + .5 < 13.5 -> 5..12,
    # y when 2 <= y + .5 < 6.2 -> 2..5
    assert pixels.tolist() == [[5, 2, 14, 6], [5, 2, 13, 6]]


def test_bilinear_box_masks_hand_values():
    # pixels x 5..13, y 2..5 on 8 x 16 -> 2 x 4 cells
    # columns: cell 0 reads px 1, 2 (out) -> 0; cells 1, 2 read 5, 6 / 9, 10 -> 1;
    #          cell 3 reads 13 (in), 14 (out) -> 0.5
    # rows:    cell 0 reads 1 (out), 2 (in) -> 0.5; cell 1 reads 5 (in), 6 (out) -> 0.5
    masks = bilinear_box_masks(torch.tensor([[5, 2, 14, 6]]), (8, 16), (2, 4))
    assert masks.dtype == torch.float32 and masks.shape == (1, 2, 4)
    assert masks[0].tolist() == [[0.0, 0.5, 0.5, 0.25], [0.0, 0.5, 0.5, 0.25]]
    # the cell-centre rule fills the cells whose centre (2, 6, 10, 14) the box holds, 0/1
    centre_rule = rasterize_boxes(
        torch.tensor([[5.0, 2.0, 14.0, 6.0]]), torch.tensor([True]), (2, 4), 4
    )
    assert centre_rule[0].int().tolist() == [[0, 1, 1, 0], [0, 0, 0, 0]]


def test_bilinear_box_masks_whole_cells_and_empty_boxes():
    boxes = torch.tensor([[[4, 0, 12, 8], [0, 0, 0, 0]]])  # (1, 2, 4): whole cells, then absent
    masks = bilinear_box_masks(boxes, (8, 16), (2, 4))
    assert masks.shape == (1, 2, 2, 4)
    assert masks[0, 0].tolist() == [[0.0, 1.0, 1.0, 0.0]] * 2
    assert not masks[0, 1].any()


def test_bilinear_box_masks_are_the_interpolated_full_resolution_masks():
    torch.manual_seed(0)
    for size, grid in (((64, 96), (16, 24)), ((62, 90), (16, 23)), ((20, 12), (40, 24))):
        corners = torch.stack(
            [torch.randint(0, size[1] + 1, (40, 2)), torch.randint(0, size[0] + 1, (40, 2))], -1
        )  # (40, 2, 2) (x, y) pairs
        low, high = corners.min(1).values, corners.max(1).values
        boxes = torch.cat([low, high], -1)  # xyxy
        full = torch.stack([filled(size, *box) for box in boxes.tolist()])[:, None]
        expected = F.interpolate(full, grid, mode='bilinear', align_corners=False)[:, 0]
        torch.testing.assert_close(
            bilinear_box_masks(boxes, size, grid), expected, atol=1e-6, rtol=0
        )


def test_sample_box_masks_hand_values():
    # columns [1, 3) of 4: x = p * 4 - 0.5 on the index axis
    boxes = torch.tensor([[1, 0, 3, 2]])  # rows [0, 2) of 2: every row read fully inside
    xs = torch.tensor([0.5, 0.125, 0.25, 0.8125, 1.0, 0.0])
    points = torch.stack([xs, torch.full_like(xs, 0.5)], -1)
    values = sample_box_masks(boxes, (2, 4), points)
    # u = 1.5 (inside), 0 (column 0, out), 0.5 (half 0 / half 1), 2.75 (.25 of 2, .75 of 3),
    # 3.5 (column 3 and the zero padding), -0.5 (padding and column 0)
    assert values[0].tolist() == [1.0, 0.0, 0.5, 0.25, 0.0, 0.0]
    # rows [0, 2) read at y = 0: u = -0.5, half zero padding -> 0.5
    assert sample_box_masks(boxes, (2, 4), torch.tensor([[0.5, 0.0]]))[0].tolist() == [0.5]
    assert not sample_box_masks(torch.zeros(1, 4, dtype=torch.long), (2, 4), points).any()


def test_sample_box_masks_read_what_point_sample_reads():
    torch.manual_seed(1)
    points = torch.rand(3000, 2)
    points[:4] = torch.tensor([[0.0, 0.0], [1.0, 1.0], [0.0, 1.0], [1.0, 0.0]])
    for size in ((16, 24), (5, 7), (96, 160)):
        corners = torch.stack(
            [torch.randint(0, size[1] + 1, (30, 2)), torch.randint(0, size[0] + 1, (30, 2))], -1
        )
        boxes = torch.cat([corners.min(1).values, corners.max(1).values], -1)
        full = torch.stack([filled(size, *box) for box in boxes.tolist()])[:, None]
        expected = point_sample(full, points[None].expand(len(boxes), -1, -1))[:, 0]
        torch.testing.assert_close(
            sample_box_masks(boxes, size, points), expected, atol=1e-5, rtol=0
        )
    with pytest.raises(ValueError, match='points'):
        sample_box_masks(boxes, size, points[:, :1])
