"""Data preprocessors (none needed: the MaskFreeVIS detector derives colours itself)."""
__all__ = []
