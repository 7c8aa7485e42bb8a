"""Helpers for tests and benchmarks (like ``mmdet.testing``): synthetic clips and batches."""

from .synthetic_batch import (
    ClipSpec,
    drop_gt_masks,
    ellipse_masks,
    mask_grid_inputs,
    synthetic_batch,
    synthetic_clip,
    tight_boxes,
)

__all__ = [
    'ClipSpec',
    'drop_gt_masks',
    'ellipse_masks',
    'mask_grid_inputs',
    'synthetic_batch',
    'synthetic_clip',
    'tight_boxes',
]
