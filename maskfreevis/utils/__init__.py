"""Compatibility fixes for the pinned stack (mmengine 0.10.7, mmcv 2.1.0, mmdet 3.3.0, torch >= 2.6,
numpy 2), in one place, and environment helpers.

Every fix names its upstream bug (details in its module); none edits or monkey-patches an installed
package.

* torch >= 2.6 loads with ``weights_only=True``, but mmengine 0.10.7 Runner checkpoints need a
  full unpickle (open-mmlab/mmengine#1655): :mod:`.checkpoint_loading` registers the few safe
  globals and loads weights-only always (a full unpickle only on explicit opt-in);
  :class:`maskfreevis.engine.hooks.SafeCheckpointHook` writes checkpoints that need no trust.
* mmengine 0.10.7 ``CheckpointHook`` deletes the oldest checkpoint before writing the new one,
  and writes non-atomically: :class:`maskfreevis.engine.hooks.SafeCheckpointHook`.
* mmengine 0.10.7 ``Runner.load_or_resume`` "resumes" from ``None`` without a word and trusts a
  stale ``last_checkpoint``: :mod:`.checkpoint_files`.
* mmengine 0.10.7 ``Runner.load_checkpoint`` loads weights that do not fit the model with a
  warning only: :class:`maskfreevis.engine.hooks.CheckpointMatchHook`.
* mmdet 3.3.0 ``ytviseval.py`` uses ``np.float`` (removed in numpy 1.24): :mod:`.numpy_compat`,
  used by ``YouTubeVISLocalMetric``.
* mmdet 3.3.0 ``collect_tracking_results`` leaves an empty ``.dist_test`` folder in the cwd:
  :mod:`.result_collection`, used by ``YouTubeVISLocalMetric``.
* mmengine 0.10.7 ``_init_dist_pytorch`` calls CUDA on a CPU-only torch, and ``Runner.wrap_model``
  passes CPU ``device_ids`` to DDP: :mod:`.distributed`.
* ``torch.distributed.launch`` (started by ``mim train --gpus``) passes ``--local_rank`` as a
  flag, mmengine reads ``LOCAL_RANK``: :mod:`.launcher`, used by :mod:`maskfreevis.apis.cli`.
* mmdet 3.3.0 ``TrackDataPreprocessor`` decides mask padding from the first clip of a batch: fixed
  in the model, where it belongs (``MaskFreeDataPreprocessor`` pads ground-truth masks per clip).
"""

import warnings

from .checkpoint_files import find_resumable_checkpoint, resolve_auto_resume
from .checkpoint_loading import (
    TRUST_ENV_VAR,
    CheckpointReadError,
    UntrustedCheckpointError,
    checkpoint_safe_globals,
    is_trusted_checkpoint,
    load_checkpoint_file,
    register_checkpoint_loaders,
    register_safe_globals,
    trust_checkpoints,
)
from .checkpoint_match import (
    CheckpointMismatchError,
    check_checkpoint_matches,
    load_model_checkpoint,
)
from .distributed import setup_cpu_distributed
from .launcher import export_local_rank
from .numpy_compat import numpy_float_alias
from .result_collection import RESULT_COLLECTION_DIR, removing_result_collection_dir


def register_compat_fixes() -> None:
    """Install the fixes that must be active as soon as the plugin is imported."""
    register_safe_globals()
    register_checkpoint_loaders()


def __getattr__(name: str):
    # Deprecated location of the hook (it moved to maskfreevis.engine.hooks); imported lazily,
    # since the engine imports this package.
    if name == 'CheckpointTrustHook':
        warnings.warn(
            'maskfreevis.utils.CheckpointTrustHook moved to '
            'maskfreevis.engine.hooks.CheckpointTrustHook',
            DeprecationWarning,
            stacklevel=2,
        )
        from ..engine.hooks import CheckpointTrustHook

        return CheckpointTrustHook
    raise AttributeError(f'module {__name__!r} has no attribute {name!r}')


__all__ = [
    'TRUST_ENV_VAR',
    'CheckpointReadError',
    'UntrustedCheckpointError',
    'checkpoint_safe_globals',
    'is_trusted_checkpoint',
    'load_checkpoint_file',
    'register_checkpoint_loaders',
    'register_safe_globals',
    'trust_checkpoints',
    'find_resumable_checkpoint',
    'resolve_auto_resume',
    'CheckpointMismatchError',
    'check_checkpoint_matches',
    'load_model_checkpoint',
    'numpy_float_alias',
    'setup_cpu_distributed',
    'export_local_rank',
    'RESULT_COLLECTION_DIR',
    'removing_result_collection_dir',
    'register_compat_fixes',
]
