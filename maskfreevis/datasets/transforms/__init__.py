"""Clip sampling and clip-consistent augmentation transforms."""

from .box_clipping import ClipBoxesToImage
from .clip_sampling import SampleClipFrames
from .pseudo_video_warp import RandomPseudoVideoWarp

__all__ = ['ClipBoxesToImage', 'RandomPseudoVideoWarp', 'SampleClipFrames']
