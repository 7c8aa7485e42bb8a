"""Hooks of the package, registered into mmdet's ``HOOKS``."""
from .progress_bar_hook import ProgressBarHook

__all__ = ['ProgressBarHook']
