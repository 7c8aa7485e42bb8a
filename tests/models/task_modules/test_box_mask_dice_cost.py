"""The released spatio-temporal box-mask dice match cost."""

import pytest
import torch
from mmcv.ops import point_sample
from mmdet.registry import TASK_UTILS
from mmengine.config import ConfigDict
from mmengine.structures import InstanceData

import maskfreevis  # noqa: F401  (registers the cost)
from maskfreevis.models.task_modules import (
    BoxMaskDiceCost,
    box_cells,
    box_mask_dice_cost,
    mask_box_extents,
    rasterize_boxes,
    sampled_box_mask_dice_cost,
)


def filled_box(shape, top, left, bottom, right):
    """Bool mask with rows [top, bottom) and columns [left, right) set."""
    mask = torch.zeros(shape, dtype=torch.bool)
    mask[top:bottom, left:right] = True
    return mask


def dense_box_dice(pred_logits, gt_masks):
    """Reference from the definition: materialise the filled tight boxes and sum."""

    def fill(mask):
        rows, cols = mask.any(1).nonzero(), mask.any(0).nonzero()
        if len(rows) == 0:
            return torch.zeros_like(mask, dtype=torch.float32)
        return filled_box(
            mask.shape, rows.min(), cols.min(), rows.max() + 1, cols.max() + 1
        ).float()

    pred = torch.stack([torch.stack([fill(frame > 0) for frame in q]) for q in pred_logits])
    gt = torch.stack([torch.stack([fill(frame > 0) for frame in g]) for g in gt_masks])
    pred, gt = pred.flatten(1), gt.flatten(1)
    return 1 - (2 * pred @ gt.T + 1) / (pred.sum(1)[:, None] + gt.sum(1)[None] + 1)


def mask_route_cost(pred_logits, gt_box_masks):
    """The cost as it was computed before it took boxes: rasterised GT box masks turned back
    into their tight boxes (``y0, x0, y1, x1`` then), areas and overlaps from coordinates."""

    def extents(masks):
        rows, cols = masks.any(-1), masks.any(-2)

        def span(occupied):
            index = torch.arange(occupied.shape[-1])
            first = torch.where(occupied, index, occupied.shape[-1]).amin(-1)
            last = torch.where(occupied, index + 1, 0).amax(-1)
            return first.masked_fill(last == 0, 0), last

        (y0, y1), (x0, x1) = span(rows), span(cols)
        return torch.stack([y0, x0, y1, x1], dim=-1)

    def area(boxes):
        return (boxes[..., 2:] - boxes[..., :2]).clamp(min=0).prod(-1)

    pred_boxes, gt_boxes = extents(pred_logits > 0), extents(gt_box_masks > 0)
    start = torch.maximum(pred_boxes[:, None, :, :2], gt_boxes[None, :, :, :2])
    end = torch.minimum(pred_boxes[:, None, :, 2:], gt_boxes[None, :, :, 2:])
    overlap = (end - start).clamp(min=0).prod(-1).sum(-1).float()
    pred_area, gt_area = area(pred_boxes).sum(-1).float(), area(gt_boxes).sum(-1).float()
    return 1 - (2 * overlap + 1) / (pred_area[:, None] + gt_area[None, :] + 1)


def test_hand_computed_values():
    shape = (4, 5)
    logits = torch.full((2, 2, *shape), -3.0)
    logits[0, 0, 1, 1] = logits[0, 0, 2, 3] = 2.0  # tight box rows 1-2, cols 1-3: 6 cells
    # query 0 frame 1 and all of query 1: empty predictions -> empty boxes
    gt = torch.tensor([[[2, 1, 5, 3], [0, 0, 2, 1]]])  # xyxy cells, one instance, 2 frames
    # query 0: overlap 2 x 2 = 4 cells, sizes 6 and 6 + 2 -> 1 - 9 / 15
    # query 1: 1 - 1 / (0 + 8 + 1)
    cost = box_mask_dice_cost(logits, gt)
    torch.testing.assert_close(cost, torch.tensor([[1 - 9 / 15], [8 / 9]]))


def test_gt_mask_is_replaced_by_its_tight_box():
    shape = (6, 6)
    l_shape = filled_box(shape, 1, 1, 5, 2) | filled_box(shape, 4, 1, 5, 5)  # box 4 x 4
    logits = torch.where(filled_box(shape, 1, 1, 5, 5), 1.0, -1.0)[None, None]
    cost = box_mask_dice_cost(logits, mask_box_extents(l_shape[None, None]))
    torch.testing.assert_close(cost, torch.tensor([[1 - 33 / 33]]))


def test_logit_zero_is_background():
    logits = torch.zeros(1, 1, 3, 3)  # sigmoid = 0.5 exactly: not foreground
    gt = torch.tensor([[[0, 0, 1, 1]]])
    torch.testing.assert_close(box_mask_dice_cost(logits, gt), torch.tensor([[1 - 1 / 2]]))


def test_matches_dense_reference_on_random_clips():
    generator = torch.Generator().manual_seed(0)
    logits = torch.randn(7, 3, 9, 11, generator=generator) - 1.2
    logits[2] = -5  # one empty query
    gt = torch.zeros(4, 3, 9, 11, dtype=torch.bool)
    for m, (top, left, bottom, right) in enumerate(
        [(0, 0, 3, 4), (2, 5, 9, 11), (4, 1, 6, 9), (1, 1, 2, 2)]
    ):
        gt[m, :2, top:bottom, left:right] = True  # absent in the last frame
    torch.testing.assert_close(
        box_mask_dice_cost(logits, mask_box_extents(gt)), dense_box_dice(logits, gt)
    )


def test_gt_boxes_give_exactly_the_cost_of_their_rasterised_masks():
    """No box -> mask -> box round trip any more, and not one bit of the cost moved: random
    boxes, absent instances, boxes thinner than a cell and boxes on and beyond the border."""
    generator = torch.Generator().manual_seed(3)
    grid, stride = (10, 14), 4
    num_gts, num_frames = 40, 3
    corner = torch.rand(num_gts, num_frames, 2, generator=generator) * torch.tensor([60.0, 44.0])
    size = torch.rand(num_gts, num_frames, 2, generator=generator) * torch.tensor([30.0, 20.0])
    boxes = torch.cat([corner - 4, corner + size], dim=-1)  # some cross the top / left border
    boxes[:6, :, 2:] = boxes[:6, :, :2] + torch.tensor([1.5, 0.7])  # thinner than a cell
    boxes[6:9, :, 2:] = torch.tensor([56.0, 40.0])  # ending on the padded grid's border
    boxes[9, :] = torch.tensor([57.0, 41.0, 70.0, 50.0])  # beyond the grid: no cell
    present = torch.rand(num_gts, num_frames, generator=generator) > 0.2
    logits = torch.randn(9, num_frames, *grid, generator=generator) - 0.8
    logits[0] = -1.0  # an empty prediction
    cells = box_cells(boxes, present, grid, stride)
    old = mask_route_cost(logits, rasterize_boxes(boxes, present, grid, stride))
    new = box_mask_dice_cost(logits, cells)
    assert torch.equal(new, old)
    # every case occurred: absent, one cell wide, on the border, outside, matching queries
    assert (~present).any() and (cells[~present] == 0).all()
    assert ((cells[:6, :, 2:] - cells[:6, :, :2])[present[:6]] == 1).any()
    assert (cells[6:9, :, 2:][present[6:9]] == torch.tensor([14, 10])).all()
    assert (cells[9] == 0).all()
    assert (new < 0.9).any()


def test_single_frame_inputs_and_shape_errors():
    logits = torch.ones(2, 4, 4)
    gt = torch.tensor([[0, 0, 2, 2]])
    torch.testing.assert_close(box_mask_dice_cost(logits, gt), torch.full((2, 1), 1 - 9 / 21))
    with pytest.raises(ValueError, match='same clip'):
        box_mask_dice_cost(torch.ones(2, 3, 4, 4), torch.ones(1, 2, 4, dtype=torch.long))
    with pytest.raises(KeyError, match='grid_boxes'):
        BoxMaskDiceCost()(
            InstanceData(masks=torch.ones(2, 3, 4, 4)), InstanceData(masks=torch.ones(1, 3, 4, 4))
        )


def test_registered_cost_weights_and_needs_no_img_meta():
    cost = TASK_UTILS.build(dict(type='BoxMaskDiceCost', weight=5.0))
    assert isinstance(cost, BoxMaskDiceCost)
    logits = torch.randn(3, 2, 5, 5, requires_grad=True)
    gt = torch.tensor([[1, 1, 4, 4]]).expand(1, 2, 4)
    value = cost(
        InstanceData(masks=logits),
        InstanceData(grid_boxes=gt),
        img_meta=dict(img_shape=[(20, 20), (20, 20)]),
    )
    torch.testing.assert_close(value, 5.0 * box_mask_dice_cost(logits.detach(), gt))
    assert not value.requires_grad


def test_hungarian_assignment_with_class_and_box_dice():
    assigner = TASK_UTILS.build(
        ConfigDict(
            type='HungarianAssigner',
            match_costs=[
                dict(type='ClassificationCost', weight=2.0),
                dict(type='BoxMaskDiceCost', weight=5.0),
            ],
        )
    )
    gt_boxes = torch.tensor([[0, 0, 3, 3], [4, 4, 8, 8]])  # xyxy cells
    gt = InstanceData(labels=torch.tensor([0, 1]), grid_boxes=gt_boxes[:, None].expand(2, 2, 4))
    logits = torch.full((3, 2, 8, 8), -4.0)
    logits[2, :, 0:3, 0:3] = 4.0  # query 2 covers GT 0
    logits[0, :, 5:8, 4:8] = 4.0  # query 0 roughly covers GT 1
    scores = torch.zeros(3, 3)  # uniform classes: the box cost decides
    result = assigner.assign(InstanceData(scores=scores, masks=logits), gt)
    assert result.gt_inds.tolist() == [2, 0, 1]  # 1-based GT index, 0 = background


# ----------------------------------------------- num_points: the release's sampled estimate
# Reference doc section 3: prediction -> tight box of (sigmoid > 0.5) on the (h, w) grid,
# filled; GT -> box filled at input resolution (H, W); both read with point_sample (bilinear,
# align_corners=False) at the same random points on every frame; cost
# 1 - (2 sum xy + 1) / (sum x + sum y + 1) over the T * P values.


def test_sampled_cost_hand_values():
    logits = torch.full((1, 1, 4, 4), -2.0)
    logits[0, 0, :2, :2] = 2.0  # prediction: cells [0, 2) x [0, 2)
    gt = torch.tensor([[[0, 0, 8, 8]], [[12, 12, 16, 16]]])  # pixels [0, 8)^2 and [12, 16)^2
    points = torch.tensor([[0.25, 0.25], [0.5, 0.25], [0.75, 0.75]])
    # point 1: grid u = 0.5 (cells 0, 1: in), pixel u = 3.5 (in)            -> x = 1, y0 = 1
    # point 2: grid u_x = 1.5 (cell 1 in, 2 out), pixel u_x = 7.5 (7 in, 8 out) -> .5, .5
    # point 3: grid u = 2.5 (out), pixel u = 11.5 (11 out, 12 in)           -> 0, y1 = .5 * .5
    # GT 0: sum xy = 1.25, sum x = 1.5, sum y = 1.5  -> 1 - 3.5 / 4
    # GT 1: sum xy = 0,    sum x = 1.5, sum y = .25  -> 1 - 1 / 2.75
    cost = sampled_box_mask_dice_cost(logits, gt, (16, 16), points)
    torch.testing.assert_close(cost, torch.tensor([[1 - 3.5 / 4, 1 - 1 / 2.75]]))


def test_sampled_cost_is_the_point_sampled_dice_of_the_filled_masks():
    """The definition, materialised: filled box masks, mmcv's point_sample, the dice."""
    generator = torch.Generator().manual_seed(5)
    logits = torch.randn(6, 3, 8, 12, generator=generator) - 1.0
    logits[1] = -3.0  # an empty prediction
    corners = torch.randint(0, 33, (4, 3, 2, 2), generator=generator)
    corners[..., 0] = corners[..., 0] * 48 // 32  # x within 48 pixels, y within 32
    gt = torch.cat([corners.min(2).values, corners.max(2).values], -1)  # (4, 3, 4) xyxy
    gt[0, 2] = 0  # absent in the last frame
    points = torch.rand(500, 2, generator=generator)

    def filled_masks(boxes, size):
        masks = torch.zeros(boxes.shape[:-1] + size)
        for index in torch.cartesian_prod(*[torch.arange(n) for n in boxes.shape[:-1]]):
            x0, y0, x1, y1 = boxes[tuple(index)].tolist()
            masks[tuple(index)][y0:y1, x0:x1] = 1.0
        return masks

    pred = filled_masks(mask_box_extents(logits > 0), (8, 12))
    target = filled_masks(gt, (32, 48))
    pred_points = point_sample(pred, points[None].expand(6, -1, -1)).flatten(1)
    gt_points = point_sample(target, points[None].expand(4, -1, -1)).flatten(1)
    expected = 1 - (2 * pred_points @ gt_points.T + 1) / (
        pred_points.sum(1)[:, None] + gt_points.sum(1)[None] + 1
    )
    cost = sampled_box_mask_dice_cost(logits, gt, (32, 48), points)
    torch.testing.assert_close(cost, expected, atol=1e-5, rtol=0)


def test_sampled_cost_estimates_the_exact_cost():
    generator = torch.Generator().manual_seed(6)
    logits = torch.randn(8, 3, 24, 40, generator=generator) - 1.5
    cells = torch.tensor([[2, 3, 20, 15], [10, 0, 40, 24], [5, 5, 9, 20]])  # xyxy cells
    cells = cells[:, None].expand(3, 3, 4)
    exact = box_mask_dice_cost(logits, cells)
    torch.manual_seed(0)
    sampled = sampled_box_mask_dice_cost(logits, cells * 4, (96, 160), torch.rand(20000, 2))
    assert (sampled - exact).abs().max() < 0.02


def test_registered_cost_with_num_points_draws_its_points_and_needs_pixel_boxes():
    cost = TASK_UTILS.build(dict(type='BoxMaskDiceCost', weight=5.0, num_points=1000))
    assert cost.num_points == 1000
    logits = torch.randn(3, 2, 5, 5)
    pixels = torch.tensor([[4, 4, 16, 16]]).expand(1, 2, 4)
    torch.manual_seed(7)
    value = cost(
        InstanceData(masks=logits), InstanceData(pixel_boxes=pixels), img_meta=dict(mask_stride=4)
    )
    torch.manual_seed(7)
    expected = sampled_box_mask_dice_cost(logits, pixels, (20, 20), torch.rand(1000, 2))
    torch.testing.assert_close(value, 5.0 * expected)
    with pytest.raises(KeyError, match=r"pixel_boxes.*img_meta\['mask_stride'\]"):
        cost(InstanceData(masks=logits), InstanceData(grid_boxes=pixels // 4), img_meta={})
    for bad in (0, 2.5, True):
        with pytest.raises(ValueError, match='num_points must be None'):
            BoxMaskDiceCost(num_points=bad)
    assert BoxMaskDiceCost().num_points is None  # exact dice by default
