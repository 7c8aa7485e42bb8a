"""RoI box targets and RoI logits pasted onto the frame's mask grid."""

import pytest
import torch

from projects.masktrack_rcnn_maskfree.masktrack_rcnn_maskfree import (
    BACKGROUND_LOGIT,
    paste_roi_logits,
    roi_box_masks,
)


def test_roi_box_masks_fill_the_cells_whose_centre_is_in_the_box():
    rois = torch.tensor([[0.0, 0.0, 8.0, 8.0]])
    # cells are 2 x 2 pixels, centres at 1, 3, 5, 7: the box [2, 6) holds the centres 3 and 5
    gt = torch.tensor([[2.0, 0.0, 6.0, 8.0]])
    masks = roi_box_masks(rois, gt, 4)
    expected = torch.tensor([0.0, 1.0, 1.0, 0.0]).expand(4, 4)
    assert torch.equal(masks[0], expected)


def test_roi_box_masks_keep_the_centre_cell_of_a_thin_box():
    rois = torch.tensor([[0.0, 0.0, 8.0, 8.0]])
    gt = torch.tensor([[3.2, 3.2, 3.6, 3.6]])  # thinner than a cell, centre in cell (1, 1)
    masks = roi_box_masks(rois, gt, 4)
    assert masks.sum() == 1 and masks[0, 1, 1] == 1


def test_roi_box_masks_reject_mismatched_shapes():
    with pytest.raises(ValueError, match='roi_box_masks'):
        roi_box_masks(torch.zeros(2, 4), torch.zeros(3, 4), 4)


def test_paste_reads_the_roi_inside_and_background_outside():
    # grid 4 x 6 cells of stride 4; the RoI covers cells x in [1, 3), y in [0, 2)
    rois = torch.tensor([[4.0, 0.0, 12.0, 8.0]])
    logits = torch.arange(4.0).view(1, 2, 2).repeat_interleave(2, 1).repeat_interleave(2, 2)
    logits.requires_grad_(True)
    pasted = paste_roi_logits(logits, rois, (4, 6), 4)
    assert pasted.shape == (1, 4, 6)
    # each cell centre falls in one constant quadrant of the 4 x 4 RoI mask
    assert torch.equal(pasted[0, :2, 1:3].detach(), torch.tensor([[0.0, 1.0], [2.0, 3.0]]))
    outside = torch.ones(4, 6, dtype=torch.bool)
    outside[:2, 1:3] = False
    assert torch.all(pasted[0][outside] == BACKGROUND_LOGIT)
    pasted.sum().backward()
    assert logits.grad.sum() == pytest.approx(4.0)  # only the 4 inside cells carry a gradient


def test_paste_handles_many_rois_at_once():
    rois = torch.tensor([[0.0, 0.0, 16.0, 16.0], [8.0, 8.0, 24.0, 16.0]])
    logits = torch.stack([torch.full((7, 7), 2.0), torch.full((7, 7), -3.0)])
    pasted = paste_roi_logits(logits, rois, (4, 6), 4)
    assert torch.all(pasted[0, :4, :4] == 2.0) and torch.all(pasted[0, :, 4:] == BACKGROUND_LOGIT)
    assert torch.all(pasted[1, 2:4, 2:6] == -3.0) and torch.all(pasted[1, :2] == BACKGROUND_LOGIT)
