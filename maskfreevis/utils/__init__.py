"""Compatibility fixes for the pinned OpenMMLab stack and environment helpers.

Every fix here names the upstream bug it works around; none edits an installed package.
"""
from .checkpoint_loading import (TRUST_ENV_VAR, UntrustedCheckpointError, is_trusted_checkpoint,
                                 load_checkpoint_file, register_checkpoint_loaders,
                                 trust_checkpoints)
from .checkpoint_trust_hook import CheckpointTrustHook
from .distributed import setup_cpu_distributed
from .numpy_compat import numpy_float_alias


def register_compat_fixes() -> None:
    """Install the fixes that must be active as soon as the plugin is imported."""
    register_checkpoint_loaders()


__all__ = [
    'TRUST_ENV_VAR', 'UntrustedCheckpointError', 'is_trusted_checkpoint', 'load_checkpoint_file',
    'register_checkpoint_loaders', 'trust_checkpoints', 'CheckpointTrustHook', 'numpy_float_alias',
    'setup_cpu_distributed',
    'register_compat_fixes'
]
