"""Evaluation building blocks: the video-level box IoU, the box-track AP evaluator, formatting."""

from .box_track_eval import BoxTrackEval
from .box_track_iou import box_track_iou, track_boxes_to_array
from .track_formatting import (
    box_only_video_ground_truth,
    first_track_without_mask,
    predicted_track_boxes,
    xyxy_to_xywh,
)

__all__ = [
    'BoxTrackEval',
    'box_track_iou',
    'track_boxes_to_array',
    'box_only_video_ground_truth',
    'first_track_without_mask',
    'predicted_track_boxes',
    'xyxy_to_xywh',
]
