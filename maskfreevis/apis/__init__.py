"""High-level API: build a VIS model and run it on a video (whole, or in windows of any length).

The drawing functions moved to :mod:`maskfreevis.visualization`; their old names here
(``maskfreevis.apis.draw_video`` ...) still work and warn.
"""

import warnings
from typing import Any

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

_MOVED_TO_VISUALIZATION = (
    'colour_for_id',
    'draw_instances',
    'draw_video',
    'write_gif',
    'make_contact_sheet',
)


def __getattr__(name: str) -> Any:
    """Deprecated aliases of the names that moved to :mod:`maskfreevis.visualization`."""
    if name in _MOVED_TO_VISUALIZATION:
        import maskfreevis.visualization as visualization

        warnings.warn(
            f'maskfreevis.apis.{name} is deprecated; use maskfreevis.visualization.{name}',
            DeprecationWarning,
            stacklevel=2,
        )
        return getattr(visualization, name)
    raise AttributeError(f'module {__name__!r} has no attribute {name!r}')
