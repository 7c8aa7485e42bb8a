"""Tracking heads: the box-supervised Mask2Former-VIS head."""

from .maskfree_track_head import MaskFreeTrackHead

__all__ = ['MaskFreeTrackHead']
