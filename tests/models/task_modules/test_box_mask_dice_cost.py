"""The released spatio-temporal box-mask dice match cost."""
import pytest
import torch
from mmengine.config import ConfigDict
from mmengine.structures import InstanceData

import maskfreevis  # noqa: F401  (registers the cost)
from mmdet.registry import TASK_UTILS
from maskfreevis.models.task_modules import BoxMaskDiceCost, box_mask_dice_cost


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
        return filled_box(mask.shape, rows.min(), cols.min(), rows.max() + 1,
                          cols.max() + 1).float()

    pred = torch.stack([torch.stack([fill(frame > 0) for frame in q]) for q in pred_logits])
    gt = torch.stack([torch.stack([fill(frame > 0) for frame in g]) for g in gt_masks])
    pred, gt = pred.flatten(1), gt.flatten(1)
    return 1 - (2 * pred @ gt.T + 1) / (pred.sum(1)[:, None] + gt.sum(1)[None] + 1)


def test_hand_computed_values():
    shape = (4, 5)
    logits = torch.full((2, 2, *shape), -3.0)
    logits[0, 0, 1, 1] = logits[0, 0, 2, 3] = 2.0  # tight box rows 1-2, cols 1-3: 6 cells
    # query 0 frame 1 and all of query 1: empty predictions -> empty boxes
    gt = torch.stack([filled_box(shape, 1, 2, 3, 5), filled_box(shape, 0, 0, 1, 2)])[None]
    # query 0: overlap 2 x 2 = 4 cells, sizes 6 and 6 + 2 -> 1 - 9 / 15
    # query 1: 1 - 1 / (0 + 8 + 1)
    cost = box_mask_dice_cost(logits, gt)
    torch.testing.assert_close(cost, torch.tensor([[1 - 9 / 15], [8 / 9]]))


def test_gt_mask_is_replaced_by_its_tight_box():
    shape = (6, 6)
    l_shape = filled_box(shape, 1, 1, 5, 2) | filled_box(shape, 4, 1, 5, 5)  # box 4 x 4
    logits = torch.where(filled_box(shape, 1, 1, 5, 5), 1.0, -1.0)[None, None]
    cost = box_mask_dice_cost(logits, l_shape[None, None])
    torch.testing.assert_close(cost, torch.tensor([[1 - 33 / 33]]))


def test_logit_zero_is_background():
    logits = torch.zeros(1, 1, 3, 3)  # sigmoid = 0.5 exactly: not foreground
    gt = filled_box((3, 3), 0, 0, 1, 1)[None, None]
    torch.testing.assert_close(box_mask_dice_cost(logits, gt), torch.tensor([[1 - 1 / 2]]))


def test_matches_dense_reference_on_random_clips():
    generator = torch.Generator().manual_seed(0)
    logits = torch.randn(7, 3, 9, 11, generator=generator) - 1.2
    logits[2] = -5  # one empty query
    gt = torch.zeros(4, 3, 9, 11, dtype=torch.bool)
    for m, (top, left, bottom, right) in enumerate([(0, 0, 3, 4), (2, 5, 9, 11), (4, 1, 6, 9),
                                                     (1, 1, 2, 2)]):
        gt[m, :2, top:bottom, left:right] = True  # absent in the last frame
    torch.testing.assert_close(box_mask_dice_cost(logits, gt), dense_box_dice(logits, gt))


def test_single_frame_inputs_and_shape_errors():
    logits = torch.ones(2, 4, 4)
    gt = filled_box((4, 4), 0, 0, 2, 2)[None]
    torch.testing.assert_close(box_mask_dice_cost(logits, gt),
                               torch.full((2, 1), 1 - 9 / 21))
    with pytest.raises(ValueError, match='same clip grid'):
        box_mask_dice_cost(torch.ones(2, 3, 4, 4), torch.ones(1, 2, 4, 4))


def test_registered_cost_weights_and_needs_no_img_meta():
    cost = TASK_UTILS.build(dict(type='BoxMaskDiceCost', weight=5.0))
    assert isinstance(cost, BoxMaskDiceCost)
    logits = torch.randn(3, 2, 5, 5, requires_grad=True)
    gt = filled_box((5, 5), 1, 1, 4, 4).expand(1, 2, 5, 5)
    value = cost(InstanceData(masks=logits), InstanceData(masks=gt),
                 img_meta=dict(img_shape=[(20, 20), (20, 20)]))
    torch.testing.assert_close(value, 5.0 * box_mask_dice_cost(logits.detach(), gt))
    assert not value.requires_grad


def test_hungarian_assignment_with_class_and_box_dice():
    assigner = TASK_UTILS.build(
        ConfigDict(type='HungarianAssigner', match_costs=[
            dict(type='ClassificationCost', weight=2.0),
            dict(type='BoxMaskDiceCost', weight=5.0)
        ]))
    shape = (8, 8)
    gt_boxes = torch.stack([filled_box(shape, 0, 0, 3, 3), filled_box(shape, 4, 4, 8, 8)])
    gt = InstanceData(labels=torch.tensor([0, 1]), masks=gt_boxes[:, None].expand(2, 2, 8, 8))
    logits = torch.full((3, 2, 8, 8), -4.0)
    logits[2, :, 0:3, 0:3] = 4.0  # query 2 covers GT 0
    logits[0, :, 5:8, 4:8] = 4.0  # query 0 roughly covers GT 1
    scores = torch.zeros(3, 3)  # uniform classes: the box cost decides
    result = assigner.assign(InstanceData(scores=scores, masks=logits), gt)
    assert result.gt_inds.tolist() == [2, 0, 1]  # 1-based GT index, 0 = background
