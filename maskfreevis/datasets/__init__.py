"""Video datasets (box-only YouTube-VIS / OVIS json, CocoVID, COCO pseudo-videos) and transforms."""

from .annotation_checks import AnnotationError, FrameError
from .box_vis_dataset import BoxVISDataset
from .coco_pseudo_video_dataset import (
    COCO_TO_YTVIS_2019,
    COCO_TO_YTVIS_2021,
    CocoPseudoVideoDataset,
)
from .transforms import ClipBoxesToImage, RandomPseudoVideoWarp, SampleClipFrames

__all__ = [
    'AnnotationError',
    'FrameError',
    'BoxVISDataset',
    'CocoPseudoVideoDataset',
    'COCO_TO_YTVIS_2019',
    'COCO_TO_YTVIS_2021',
    'ClipBoxesToImage',
    'RandomPseudoVideoWarp',
    'SampleClipFrames',
]
