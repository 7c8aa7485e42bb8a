"""Drawing predictions (coloured masks with ids, GIFs, contact sheets) and training curves."""

from .drawing import (
    colour_for_id,
    draw_instances,
    draw_video,
    make_contact_sheet,
    select_drawn_instances,
    write_gif,
)
from .training_curves import plot_training_curves, read_scalars
from .video_panels import draw_comparison_panels, gt_instances_of_video

__all__ = [
    'colour_for_id',
    'draw_instances',
    'draw_video',
    'make_contact_sheet',
    'select_drawn_instances',
    'write_gif',
    'plot_training_curves',
    'read_scalars',
    'draw_comparison_panels',
    'gt_instances_of_video',
]
