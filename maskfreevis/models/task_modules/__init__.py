"""Match costs and mask-grid geometry for box-supervised matching."""

from .box_mask_dice_cost import BoxMaskDiceCost, box_mask_dice_cost
from .mask_grid import box_cells, mask_box_extents, rasterize_boxes, valid_region_masks

__all__ = [
    'BoxMaskDiceCost',
    'box_mask_dice_cost',
    'box_cells',
    'mask_box_extents',
    'rasterize_boxes',
    'valid_region_masks',
]
