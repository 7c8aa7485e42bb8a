"""mmdet 3.x Mask2Former checkpoints -> this package's ``MaskFreeVIS`` names.

mmdet's image ``Mask2Former`` (COCO instance / panoptic, keys ``backbone.*`` and
``panoptic_head.*``) and its ``Mask2FormerVideo`` (YouTube-VIS, ``backbone.*`` and
``track_head.*``) are built from the same backbone, pixel decoder and decoder classes as our model,
so their names only differ in the head's prefix. What needs fitting is the class head: 80 + 1
(instance) or 133 + 1 (panoptic) rows for COCO, see :mod:`.class_head`.
"""

from typing import Mapping

from torch import Tensor

from .key_rules import KeyRule, RenameResult, rename_state_dict

__all__ = ['MMDET_RULES', 'convert_mmdet_state_dict']

MMDET_RULES = (
    KeyRule(r'backbone\.(.+)', r'backbone.\1'),
    KeyRule(r'(?:panoptic_head|track_head)\.(.+)', r'track_head.\1'),
)


def convert_mmdet_state_dict(state_dict: Mapping[str, Tensor]) -> RenameResult:
    """Rename an mmdet Mask2Former / Mask2FormerVideo state dict to this package's model names.

    Args:
        state_dict: the checkpoint's ``state_dict``.

    Returns:
        Converted tensors; keys outside ``backbone`` / ``panoptic_head`` / ``track_head`` are
        listed in ``unmatched``.
    """
    return rename_state_dict(state_dict, MMDET_RULES)
