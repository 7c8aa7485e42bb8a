"""Distributed data-parallel start-up that also works with a CPU-only torch build.

Upstream bugs (mmengine 0.10.7), both hit by ``tools/dist_train.sh`` on a machine without a GPU:

* ``mmengine/dist/utils.py`` ``_init_dist_pytorch`` calls ``torch.cuda.set_device(local_rank)``
  unconditionally; on a CPU-only torch 2.13 build that raises
  ``AttributeError: module 'torch._C' has no attribute '_cuda_setDevice'``.
* ``Runner.wrap_model`` passes ``device_ids=[LOCAL_RANK]`` to ``DistributedDataParallel``, which
  refuses it for CPU modules (``ValueError: DistributedDataParallel device_ids ... CPU modules``).

The Runner skips its own ``init_dist`` when a process group already exists and lets
``model_wrapper_cfg`` override ``device_ids``, so on such machines we create the group ourselves
(from the variables torchrun sets, no CUDA call) and wrap without device ids.
"""

import os

import torch
import torch.distributed as torch_dist
from mmengine.config import Config

# What torchrun exports to each process; `--launcher pytorch` needs them.
TORCHRUN_VARIABLES = ('RANK', 'WORLD_SIZE', 'LOCAL_RANK', 'MASTER_ADDR', 'MASTER_PORT')


def check_launcher_environment() -> None:
    """Raise a clear error when ``--launcher pytorch`` runs without torchrun's variables.

    Without this, mmengine (and the CPU set-up below) fail with a bare ``KeyError: 'RANK'``.
    """
    missing = [name for name in TORCHRUN_VARIABLES if name not in os.environ]
    if missing:
        raise RuntimeError(
            f'--launcher pytorch needs the environment variables torchrun sets; missing: '
            f'{", ".join(missing)}. Start distributed runs with `bash tools/dist_train.sh CONFIG '
            'NUM_PROCESSES` (or torchrun), or drop --launcher for a single process.'
        )


def setup_cpu_distributed(cfg: Config) -> bool:
    """Prepare ``--launcher pytorch`` training/testing when CUDA is unavailable.

    Creates the process group (``env_cfg.dist_cfg.backend``, ``'nccl'`` replaced by ``'gloo'``) and
    sets ``cfg.model_wrapper_cfg.device_ids = None``. Does nothing with another launcher or a GPU,
    except checking that torchrun's variables are there (:func:`check_launcher_environment`).

    Args:
        cfg: the full config; ``cfg.launcher`` is the tool's ``--launcher``.

    Returns:
        True if the CPU set-up was applied.
    """
    if cfg.get('launcher', 'none') != 'pytorch':
        return False
    check_launcher_environment()
    if torch.cuda.is_available():
        return False
    dist_cfg = dict(cfg.get('env_cfg', {}).get('dist_cfg', {}))
    if not torch_dist.is_initialized():
        backend = dist_cfg.pop('backend', 'gloo')
        torch_dist.init_process_group(
            backend='gloo' if backend == 'nccl' else backend,
            rank=int(os.environ['RANK']),
            world_size=int(os.environ['WORLD_SIZE']),
            **dist_cfg,
        )
    wrapper_cfg = dict(
        cfg.get('model_wrapper_cfg', None)
        or dict(
            type='MMDistributedDataParallel',
            broadcast_buffers=False,
            find_unused_parameters=cfg.get('find_unused_parameters', False),
        )
    )
    wrapper_cfg['device_ids'] = None
    cfg.model_wrapper_cfg = wrapper_cfg
    return True
