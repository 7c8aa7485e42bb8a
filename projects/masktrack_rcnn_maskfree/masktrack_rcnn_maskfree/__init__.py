"""MaskTrack R-CNN trained from boxes with the mask-free losses of ``maskfreevis``.

Importing this package registers :class:`MaskFreeMaskTrackRCNN` and :class:`MaskFreeRoIHead` in
mmdet's ``MODELS`` (configs load it with ``custom_imports``).
"""

import maskfreevis  # noqa: F401  (registers the losses, the data preprocessor and the dataset)

from .maskfree_masktrack_rcnn import MaskFreeMaskTrackRCNN
from .maskfree_roi_head import MaskFreeRoIHead
from .roi_geometry import BACKGROUND_LOGIT, paste_roi_logits, roi_box_masks

__all__ = [
    'MaskFreeMaskTrackRCNN',
    'MaskFreeRoIHead',
    'paste_roi_logits',
    'roi_box_masks',
    'BACKGROUND_LOGIT',
]
