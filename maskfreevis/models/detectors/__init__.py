"""Detectors: the MaskFreeVIS video instance segmenter."""

from .maskfree_vis import MaskFreeVIS

__all__ = ['MaskFreeVIS']
