"""A hand-made predicted video for the class-agnostic evaluation tests."""

import numpy as np
import pycocotools.mask as mask_utils
import pytest
import torch
from mmdet.structures import DetDataSample, TrackDataSample
from mmengine.structures import InstanceData

OBJECT_MASK = np.zeros((8, 10), np.uint8)
OBJECT_MASK[2:6, 3:8] = 1
# the same 4 x 5 rectangle as polygon corners (x, y) in pixel-edge coordinates
OBJECT_POLYGON = [[3.0, 2.0, 8.0, 2.0, 8.0, 6.0, 3.0, 6.0]]


def object_rle() -> dict:
    rle = mask_utils.encode(np.asfortranarray(OBJECT_MASK))
    rle['counts'] = rle['counts'].decode()
    return rle


def predicted_video(gt_segmentation) -> TrackDataSample:
    """2 frames, 1 GT object (class 2); predicted: its exact mask with classes 0 and 1 (the same
    query twice, as the top-k (query, class) output does) and one empty mask."""
    frames = []
    for t in range(2):
        sample = DetDataSample(
            metainfo=dict(
                img_id=t,
                video_id=1,
                frame_id=t,
                ori_shape=(8, 10),
                ori_video_length=2,
                instances=[
                    dict(
                        bbox=[3.0, 2.0, 8.0, 6.0],
                        bbox_label=2,
                        instance_id=1,
                        ignore_flag=0,
                        mask=gt_segmentation,
                    )
                ],
            )
        )
        gt = torch.from_numpy(OBJECT_MASK).bool()
        sample.pred_track_instances = InstanceData(
            masks=torch.stack([gt, gt, torch.zeros_like(gt)]),
            scores=torch.tensor([0.6, 0.3, 0.1]),
            labels=torch.tensor([0, 1, 0]),
            instances_id=torch.arange(3),
            bboxes=torch.zeros(3, 4),
        )
        frames.append(sample)
    return TrackDataSample(video_data_samples=frames)


@pytest.fixture
def right_mask_wrong_classes() -> TrackDataSample:
    return predicted_video(object_rle())


@pytest.fixture
def polygon_ground_truth() -> TrackDataSample:
    return predicted_video(OBJECT_POLYGON)
