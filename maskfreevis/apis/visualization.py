"""Deprecated: the drawing functions moved to :mod:`maskfreevis.visualization`.

This module keeps ``from maskfreevis.apis.visualization import draw_video`` (and the other names)
working, with a ``DeprecationWarning``.
"""

import warnings

from maskfreevis.visualization.drawing import (
    colour_for_id,
    draw_instances,
    draw_video,
    make_contact_sheet,
    write_gif,
)

__all__ = ['colour_for_id', 'draw_instances', 'draw_video', 'write_gif', 'make_contact_sheet']

warnings.warn(
    'maskfreevis.apis.visualization is deprecated; import from maskfreevis.visualization instead',
    DeprecationWarning,
    stacklevel=2,
)
