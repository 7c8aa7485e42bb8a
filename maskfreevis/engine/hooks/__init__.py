"""Hooks of the package, registered into mmdet's ``HOOKS``."""

from .checkpoint_match_hook import CheckpointMatchHook
from .checkpoint_trust_hook import CheckpointTrustHook
from .divergence_hook import DivergenceHook, TrainingDivergedError
from .progress_bar_hook import ProgressBarHook
from .safe_checkpoint_hook import SafeCheckpointHook, use_safe_checkpoint_hook

__all__ = [
    'CheckpointMatchHook',
    'CheckpointTrustHook',
    'DivergenceHook',
    'TrainingDivergedError',
    'ProgressBarHook',
    'SafeCheckpointHook',
    'use_safe_checkpoint_hook',
]
