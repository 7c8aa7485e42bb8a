"""Compatibility fixes for the pinned stack (mmengine 0.10.7, mmcv 2.1.0, mmdet 3.3.0, torch >= 2.6,
numpy 2), in one place, with the checkpoint and data-file helpers they use.

Every fix names its upstream bug (details in its module); none edits or monkey-patches an installed
package, and importing the package installs none of them: each is used where the package's own
code, or the runtime its configs declare, needs it.

* mmengine 0.10.7 ``CheckpointHook`` pickles ``HistoryBuffer`` objects, which torch >= 2.6's
  weights-only ``torch.load`` refuses (open-mmlab/mmengine#1655), and numpy values, which it
  refuses too: :class:`maskfreevis.engine.hooks.SafeCheckpointHook` writes tensors and Python
  values only, so the package's checkpoints load weights-only anywhere.
* mmengine 0.10.7 ``load_from_http`` unpickles downloads in full (``torch.hub``'s
  ``weights_only=False`` default), and a weights-only refusal names neither the file nor a way to
  vouch for it: :mod:`.checkpoint_loading` (``read_checkpoint``), used by
  :class:`maskfreevis.engine.CheckpointPolicyRunner` and the API.
* mmengine 0.10.7 ``CheckpointHook`` deletes the oldest checkpoint before writing the new one,
  and ``LocalBackend.put`` writes in place: :class:`.checkpoint_files.AtomicLocalBackend`, a file
  backend registered under ``'atomic_local'``, which ``SafeCheckpointHook`` uses.
* mmengine 0.10.7 ``Runner.load_or_resume`` "resumes" from ``None`` without a word and trusts a
  stale ``last_checkpoint``: :mod:`.checkpoint_files`, used by
  :class:`maskfreevis.engine.CheckpointPolicyRunner`.
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

from .checkpoint_files import find_resumable_checkpoint, resolve_auto_resume
from .checkpoint_loading import (
    TRUST_ENV_VAR,
    CheckpointReadError,
    UntrustedCheckpointError,
    checkpoint_safe_globals,
    is_trusted_checkpoint,
    load_checkpoint_file,
    read_checkpoint,
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

__all__ = [
    'TRUST_ENV_VAR',
    'CheckpointReadError',
    'UntrustedCheckpointError',
    'checkpoint_safe_globals',
    'is_trusted_checkpoint',
    'load_checkpoint_file',
    'read_checkpoint',
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
]
