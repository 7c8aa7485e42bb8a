"""MaskFreeCriterion(box_mask=...): the release's bilinear box masks next to the cell-centre rule.

Reference doc sections 2.1 and 1.3: the release fills each box at the padded input resolution
and resizes it with F.interpolate(bilinear, align_corners=False) to the mask grid; the
projection and pairwise terms take the fractional values, the TK union keeps sum_t >= 1.
"""

import pytest
import torch
from mmdet.registry import MODELS
from mmengine.structures import InstanceData

from maskfreevis.models.losses import box_projection_loss
from maskfreevis.models.task_modules import box_cells, rasterize_boxes
from tests.models.small_models import maskfreevis_criterion


def criterion(**options):
    cfg = maskfreevis_criterion()
    cfg.update(num_classes=5, mask_stride=4, **options)
    return MODELS.build(cfg)


def clip_gt(boxes, present):
    """A box-supervised clip's GT as the head collates it: ``(I, T, 4)`` boxes, ``(I, T)``."""
    boxes = torch.tensor(boxes, dtype=torch.float32)
    return InstanceData(
        metainfo=dict(mask_supervised=False),
        labels=torch.arange(boxes.shape[0]),
        bboxes=boxes,
        presence=torch.tensor(present),
    )


# box 0: pixels x 5..13, y 2..5 (the integer xyxy box (5, 2, 14, 6)); box 1 absent in frame 1
BOXES = [[[5.0, 2.0, 14.0, 6.0]] * 2, [[16.0, 8.0, 32.0, 24.0]] * 2]
PRESENT = [[True, True], [True, False]]
GRID = (8, 12)  # 32 x 48 pixels at stride 4


def test_bilinear_box_masks_hand_values():
    target = criterion(box_mask='bilinear')._clip_targets(clip_gt(BOXES, PRESENT), GRID)
    masks = target.masks
    assert masks.dtype == torch.float32 and masks.shape == (2, 2, 8, 12)
    # cell c reads pixels 4c + 1 and 4c + 2: columns 0, 1, 1, .5 then 0; rows .5, .5 then 0
    expected = torch.zeros(8, 12)
    expected[:2, 1:3], expected[:2, 3] = 0.5, 0.25
    assert torch.equal(masks[0, 0], expected) and torch.equal(masks[0, 1], expected)
    # box 1: pixels 16..31 x 8..23 cover cells 4..7 x 2..5 whole; edge cells read
    # pixels 13, 14 (out) and 33, 34 (out): no fraction on a box aligned with the cells
    expected_1 = torch.zeros(8, 12)
    expected_1[2:6, 4:8] = 1.0
    assert torch.equal(masks[1, 0], expected_1) and not masks[1, 1].any()
    assert target.pixel_boxes.tolist() == [[[5, 2, 14, 6]] * 2, [[16, 8, 32, 24], [0, 0, 0, 0]]]
    assert target.mask_stride == 4


def test_cell_centre_stays_the_default():
    gt = clip_gt(BOXES, PRESENT)
    target = criterion()._clip_targets(gt, GRID)
    assert criterion().box_mask == 'cell_centre'
    assert torch.equal(target.masks, rasterize_boxes(gt.bboxes, gt.presence, GRID, 4))
    assert torch.equal(target.grid_boxes, box_cells(gt.bboxes, gt.presence, GRID, 4))
    # same boxes, other rule: box 0 holds the centres x 6, 10 and y 2 -> cells (0, 1), (0, 2)
    assert target.masks[0, 0].nonzero().tolist() == [[0, 1], [0, 2]]


def test_losses_see_the_fractional_box_masks():
    """The projection term takes the bilinear masks as they are; both rules run end to end."""
    torch.manual_seed(0)
    gts = [clip_gt(BOXES, PRESENT)]
    num_queries, num_layers = 6, 2
    cls_scores = [torch.randn(1, num_queries, 6) for _ in range(num_layers)]
    mask_preds = [torch.randn(1, num_queries, 2, *GRID, requires_grad=True) for _ in range(2)]
    lab = torch.rand(1, 2, 3, *GRID) * 60
    losses = {}
    for rule in ('cell_centre', 'bilinear'):
        module = criterion(box_mask=rule)
        seen = []
        real_proj = module.loss_proj.forward

        def recording_proj(logits, boxes, real=real_proj, seen=seen, **kwargs):
            seen.append((logits, boxes))
            return real(logits, boxes, **kwargs)

        module.loss_proj.forward = recording_proj
        losses[rule] = module(cls_scores, mask_preds, gts, lab)
        logits, boxes = seen[-1]
        target = module._clip_targets(gts[0], GRID)
        matched = sorted(boxes.flatten(1).sum(1).tolist())
        assert matched == sorted(target.masks.flatten(0, 1).flatten(1).sum(1).tolist())
        assert losses[rule]['loss_proj'].item() == pytest.approx(
            5.0 * box_projection_loss(logits, boxes).item()
        )
        for value in losses[rule].values():
            assert torch.isfinite(value)
    # the bilinear rule hands fractions to the losses, the cell-centre rule 0/1
    assert set(seen[-1][1].unique().tolist()) == {0.0, 0.25, 0.5, 1.0}
    assert losses['bilinear']['loss_proj'] != losses['cell_centre']['loss_proj']
    sum(losses['bilinear'].values()).backward()


def test_release_matching_with_bilinear_box_masks():
    """num_points=20000 and bilinear box masks together: query 3 predicts box 1 exactly."""
    assigner = dict(
        type='HungarianAssigner',
        match_costs=[
            dict(type='ClassificationCost', weight=2.0),
            dict(type='BoxMaskDiceCost', weight=5.0, num_points=20000),
        ],
    )
    module = criterion(box_mask='bilinear', assigner=assigner)
    target = module._clip_targets(clip_gt(BOXES, PRESENT), GRID)
    logits = torch.full((6, 2, *GRID), -5.0)
    logits[3, 0, 2:6, 4:8] = 5.0
    logits[1, :, 0:2, 1:4] = 5.0
    matched, instance = module._match(torch.zeros(6, 6), logits, target)
    assert matched.tolist() == [1, 3] and instance.tolist() == [0, 1]


def test_unknown_box_mask_rule_is_named():
    with pytest.raises(ValueError, match=r"box_mask must be one of .*got 'nearest'"):
        criterion(box_mask='nearest')
