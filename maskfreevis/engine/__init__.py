"""Training-loop machinery: building the Runner and the package's hooks (registered in mmdet)."""

from .hooks import ProgressBarHook
from .runner import DEFAULT_CUSTOM_HOOKS, add_default_custom_hooks, build_runner

__all__ = ['ProgressBarHook', 'DEFAULT_CUSTOM_HOOKS', 'add_default_custom_hooks', 'build_runner']
