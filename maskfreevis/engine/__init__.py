"""Training-loop machinery, registered in mmdet: the Runner and training loop the configs name,
the hooks, and :func:`build_runner`."""

from .hooks import ProgressBarHook
from .loops import InterruptibleIterBasedTrainLoop, TrainingInterrupted
from .runner import CheckpointPolicyRunner, build_runner
from .work_dir_guard import WorkDirError, check_work_dir_for_training

__all__ = [
    'CheckpointPolicyRunner',
    'InterruptibleIterBasedTrainLoop',
    'ProgressBarHook',
    'TrainingInterrupted',
    'WorkDirError',
    'build_runner',
    'check_work_dir_for_training',
]
