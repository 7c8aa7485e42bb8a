"""The released spatio-temporal box-mask dice match cost."""

import pytest
import torch
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
