"""Data preprocessors: clips plus their colours on the mask grid for the mask-free losses."""

from .maskfree_data_preprocessor import COLOUR_SPACES, MaskFreeDataPreprocessor, mask_grid_lab

__all__ = ['COLOUR_SPACES', 'MaskFreeDataPreprocessor', 'mask_grid_lab']
