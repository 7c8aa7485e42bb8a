"""Match costs and mask-grid geometry for box-supervised matching."""

from .box_mask_dice_cost import BoxMaskDiceCost, box_mask_dice_cost, sampled_box_mask_dice_cost
from .mask_grid import (
    bilinear_box_masks,
    box_cells,
    mask_box_extents,
    rasterize_boxes,
    sample_box_masks,
    valid_region_masks,
)

__all__ = [
    'BoxMaskDiceCost',
    'box_mask_dice_cost',
    'sampled_box_mask_dice_cost',
    'bilinear_box_masks',
    'box_cells',
    'mask_box_extents',
    'rasterize_boxes',
    'sample_box_masks',
    'valid_region_masks',
]
