"""Clipping ground-truth boxes to the image and dropping the ones that become empty."""

from typing import Optional, Sequence

import numpy as np
from mmcv.transforms import BaseTransform
from mmdet.registry import TRANSFORMS
from mmdet.structures.bbox import autocast_box_type

# Per-instance keys that must stay aligned with ``gt_bboxes``.
INSTANCE_KEYS = ('gt_bboxes_labels', 'gt_ignore_flags', 'gt_instances_ids', 'gt_masks')


def select_instances(
    results: dict, keep: np.ndarray, instance_keys: Sequence[str] = INSTANCE_KEYS
) -> None:
    """Keep only the instances where ``keep`` is True, in ``gt_bboxes`` and every aligned key.

    Args:
        results: One frame's results dict; modified in place.
        keep: (N,) bool over the frame's instances.
        instance_keys: Per-instance keys indexed alongside ``gt_bboxes``.

    Raises:
        ValueError: an aligned key whose length differs from ``gt_bboxes`` (the annotations are
            already corrupt; silently indexing would mismatch labels and boxes).
    """
    num_boxes = len(results['gt_bboxes'])
    indices = np.flatnonzero(keep)
    for key in instance_keys:
        if results.get(key) is None:
            continue
        if len(results[key]) != num_boxes:
            raise ValueError(
                f'{key} has {len(results[key])} entries but gt_bboxes has '
                f'{num_boxes} (frame {results.get("img_path", "?")})'
            )
        results[key] = results[key][indices]
    results['gt_bboxes'] = results['gt_bboxes'][indices]


@TRANSFORMS.register_module()
class ClipBoxesToImage(BaseTransform):
    """Clip ``gt_bboxes`` to ``img_shape`` and drop boxes whose width or height is <= ``min_size``.

    Labels, ignore flags, instance ids and masks are dropped alongside. Put it after geometric
    transforms (inside the clip's ``TransformBroadcaster``); it works on one frame.

    Required keys: ``img_shape``, ``gt_bboxes`` (optional; nothing happens without it).
    Modified keys: ``gt_bboxes`` and the aligned keys in ``INSTANCE_KEYS``.

    Args:
        min_size: Boxes with width or height <= this (in pixels) are dropped.
    """

    def __init__(self, min_size: float = 0.0) -> None:
        self.min_size = min_size

    @autocast_box_type()
    def transform(self, results: dict) -> Optional[dict]:
        """Clip and filter one frame's boxes; see the class docstring."""
        if results.get('gt_bboxes') is None:
            return results
        boxes = results['gt_bboxes']
        boxes.clip_(results['img_shape'][:2])
        keep = ((boxes.widths > self.min_size) & (boxes.heights > self.min_size)).numpy()
        if not keep.all():
            select_instances(results, keep)
        return results

    def __repr__(self) -> str:
        return f'{type(self).__name__}(min_size={self.min_size})'
