"""Hooks of the package, registered into mmdet's ``HOOKS``."""

from .checkpoint_match_hook import CheckpointMatchHook
from .divergence_hook import DivergenceHook, TrainingDivergedError
from .progress_bar_hook import ProgressBarHook
from .safe_checkpoint_hook import SafeCheckpointHook
from .work_dir_guard_hook import WorkDirGuardHook

__all__ = [
    'CheckpointMatchHook',
    'DivergenceHook',
    'TrainingDivergedError',
    'ProgressBarHook',
    'SafeCheckpointHook',
    'WorkDirGuardHook',
]
