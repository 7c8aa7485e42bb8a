"""High-level API: build a VIS model, run it on a video, draw and save the predictions."""
from .inference import IMAGE_EXTENSIONS, inference_vis, init_vis_model, list_video_frames
from .visualization import (colour_for_id, draw_instances, draw_video, make_contact_sheet,
                            write_gif)

__all__ = [
    'IMAGE_EXTENSIONS', 'init_vis_model', 'inference_vis', 'list_video_frames', 'colour_for_id',
    'draw_instances', 'draw_video', 'write_gif', 'make_contact_sheet'
]
