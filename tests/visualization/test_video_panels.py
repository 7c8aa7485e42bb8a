"""Ground-truth masks of a json video (RLE and polygons) and the input | GT | prediction panels."""

import numpy as np
import pycocotools.mask as mask_utils
import pytest
import torch
from mmengine.structures import InstanceData

from maskfreevis.visualization import draw_comparison_panels, gt_instances_of_video


def rle_of(mask):
    rle = mask_utils.encode(np.asfortranarray(mask.astype(np.uint8)))
    rle['counts'] = rle['counts'].decode()
    return rle


def toy_video():
    """3 frames of 10 x 12; object 1 as RLE in frames 0 and 2, object 2 as a polygon in frame 1,
    plus an annotation of another video."""
    square = np.zeros((10, 12), bool)
    square[2:6, 3:8] = True
    polygon = [[1.0, 1.0, 5.0, 1.0, 5.0, 4.0, 1.0, 4.0]]  # x, y pairs of a 4 x 3 rectangle
    annotations = [
        dict(video_id=7, segmentations=[rle_of(square), None, rle_of(square)]),
        dict(video_id=7, segmentations=[None, polygon, []]),
        dict(video_id=8, segmentations=[rle_of(square)] * 3),
    ]
    return annotations, dict(id=7, length=3, height=10, width=12), square


def test_rle_and_polygon_masks_per_frame():
    annotations, video, square = toy_video()
    frames = gt_instances_of_video(annotations, video)
    assert [f['ids'] for f in frames] == [[1], [2], [1]]
    assert np.array_equal(frames[0]['masks'][0], square)
    polygon_mask = frames[1]['masks'][0]
    assert polygon_mask.shape == (10, 12) and polygon_mask[2, 3] and not polygon_mask[8, 10]
    assert frames[1]['masks'].dtype == bool


def test_panels_are_input_gt_prediction():
    annotations, video, square = toy_video()
    gt = gt_instances_of_video(annotations, video)
    frames = [np.full((10, 12, 3), 50, np.uint8)] * 3
    pred = InstanceData(
        masks=torch.from_numpy(square)[None],
        scores=torch.tensor([0.9]),
        labels=torch.tensor([0]),
        instances_id=torch.tensor([0]),
    )
    panels, drawn_gt, drawn_pred = draw_comparison_panels(frames, gt, [pred] * 3, ['a'], upscale=2)
    assert len(panels) == 3 and panels[0].shape == (20, 3 * 24, 3)
    assert np.array_equal(panels[0][:, :24], np.full((20, 24, 3), 50, np.uint8))
    assert np.array_equal(panels[1][:, 24:48], drawn_gt[1])
    assert np.array_equal(panels[2][:, 48:], drawn_pred[2])
    with pytest.raises(ValueError, match='3 frames, 2 ground-truth frames'):
        draw_comparison_panels(frames, gt[:2], [pred] * 3)
