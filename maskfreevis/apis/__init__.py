"""High-level API: build a VIS model and run it on a video (whole, or in windows of any length).

Drawing is :mod:`maskfreevis.visualization`.
"""

from .inference import inference_vis, init_vis_model
from .video_inference import FrameResult, inference_video
from .video_source import IMAGE_EXTENSIONS, VIDEO_EXTENSIONS, VideoSource, list_video_frames

__all__ = [
    'IMAGE_EXTENSIONS',
    'VIDEO_EXTENSIONS',
    'FrameResult',
    'VideoSource',
    'init_vis_model',
    'inference_vis',
    'inference_video',
    'list_video_frames',
]
