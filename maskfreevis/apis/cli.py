"""Argument parsing and config loading shared by the command-line tools under ``tools/``.

The tools are thin: each declares its own arguments and calls these helpers, so ``train.py``,
``test.py``, ``mim train/test`` (which run the same scripts from the installed package) and the
analysis tools read their configs and overrides the same way.
"""

import argparse
import os
import os.path as osp
import sys
from typing import Optional, Sequence

from mmengine.config import Config, DictAction

from maskfreevis.utils import export_local_rank

from .config_loading import read_config

__all__ = [
    'add_common_args',
    'launcher_problem',
    'parse_launch_args',
    'load_config',
    'enable_amp',
    'set_resume',
    'format_command',
]


def add_common_args(parser: argparse.ArgumentParser) -> None:
    """Add ``--work-dir``, ``--cfg-options``, ``--launcher`` and ``--local-rank``.

    These are the arguments ``tools/train.py`` and ``tools/test.py`` share (and that
    ``mim train``/``mim test`` and ``torch.distributed.launch`` pass).
    """
    parser.add_argument('--work-dir', help='the dir to save logs, checkpoints and results')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override settings of the config, key=value pairs (e.g. train_cfg.max_iters=10)',
    )
    parser.add_argument(
        '--launcher',
        choices=['none', 'pytorch', 'slurm', 'mpi'],
        default='none',
        help='job launcher',
    )
    # torchrun sets LOCAL_RANK; the deprecated torch.distributed.launch (used by `mim train --gpus`)
    # passes --local_rank or --local-rank.
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)


def parse_launch_args(
    parser: argparse.ArgumentParser, argv: Optional[Sequence[str]] = None
) -> argparse.Namespace:
    """Parse ``argv`` (default: the command line); export ``LOCAL_RANK`` when a legacy launcher
    passed it as a flag, since mmengine reads it from the environment."""
    args = parser.parse_args(argv)
    problem = launcher_problem(args.launcher)
    if problem:
        parser.error(problem)
    export_local_rank(args.local_rank)
    return args


# What each job launcher sets in every process, read by mmengine's start-up (mmengine/dist/utils.py)
LAUNCHER_VARIABLES = {
    'slurm': ('SLURM_PROCID', 'SLURM_NTASKS', 'SLURM_NODELIST'),
    'mpi': ('OMPI_COMM_WORLD_LOCAL_RANK', 'OMPI_COMM_WORLD_RANK', 'OMPI_COMM_WORLD_SIZE'),
}


# the launchers that work on one machine, with or without GPUs
ONE_MACHINE = (
    'On one machine start tools/dist_train.sh CONFIG NUM_PROCESSES or tools/dist_test.sh CONFIG '
    'CHECKPOINT NUM_PROCESSES (--launcher pytorch), or leave --launcher out for one process.'
)


def launcher_problem(launcher: str) -> Optional[str]:
    """Why ``--launcher slurm`` / ``mpi`` cannot start here (None when it can).

    mmengine reads the launcher's variables with ``os.environ[...]`` (a bare ``KeyError:
    'SLURM_PROCID'`` outside a job step) and, for both, sets a CUDA device (an error on a
    CPU-only torch). ``pytorch`` is checked when the run starts
    (:func:`maskfreevis.utils.distributed.check_launcher_environment`), since it also works
    without CUDA.
    """
    if launcher not in LAUNCHER_VARIABLES:
        return None
    starts = {
        'slurm': 'inside a Slurm job step: bash tools/slurm_train.sh PARTITION JOB_NAME CONFIG '
        'WORK_DIR (or tools/slurm_test.sh), which calls srun',
        'mpi': 'under Open MPI: mpirun -n N python tools/train.py CONFIG --launcher mpi, with '
        'MASTER_ADDR set',
    }[launcher]
    missing = [name for name in LAUNCHER_VARIABLES[launcher] if name not in os.environ]
    if launcher == 'mpi' and 'MASTER_ADDR' not in os.environ:
        missing.append('MASTER_ADDR')
    if missing:
        return (
            f'--launcher {launcher} runs {starts}; the variables it sets are missing here: '
            f'{", ".join(missing)}. {ONE_MACHINE}'
        )
    import torch

    if not torch.cuda.is_available():
        return (
            f'--launcher {launcher} needs CUDA GPUs (mmengine sets one per process), and this '
            f'torch ({torch.__version__}) sees none. {ONE_MACHINE}'
        )
    return None


def load_config(args: argparse.Namespace) -> Config:
    """Load ``args.config`` and apply ``--cfg-options``, ``--work-dir`` and ``--launcher``.

    Without ``--work-dir`` and without ``work_dir`` in the config, the work dir is
    ``./work_dirs/<config name>`` (mmdet's convention).
    """
    if osp.isdir(args.config):
        examples = sorted(name for name in os.listdir(args.config) if name.endswith('.py'))[:3]
        raise IsADirectoryError(
            f'config {args.config} is a folder; give a config file'
            + (f', e.g. {osp.join(args.config, examples[0])}' if examples else '')
            + (f' (it holds {", ".join(examples)}, ...)' if len(examples) > 1 else '')
        )
    cfg = read_config(args.config, args.cfg_options)
    cfg.launcher = args.launcher
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir', None) is None:
        cfg.work_dir = osp.join('./work_dirs', osp.splitext(osp.basename(args.config))[0])
    return cfg


def enable_amp(cfg: Config) -> None:
    """Switch the config's optimiser wrapper to ``AmpOptimWrapper`` with dynamic loss scaling."""
    if cfg.optim_wrapper.get('type', 'OptimWrapper') != 'AmpOptimWrapper':
        cfg.optim_wrapper.type = 'AmpOptimWrapper'
        cfg.optim_wrapper.setdefault('loss_scale', 'dynamic')


def set_resume(cfg: Config, resume: Optional[str]) -> None:
    """Apply ``--resume``: ``'auto'`` resumes from the work dir's latest checkpoint, a path from
    that checkpoint, None leaves the config as it is."""
    if resume is None:
        return
    cfg.resume = True
    cfg.load_from = None if resume == 'auto' else resume


def format_command(script: str, argv: Optional[Sequence[str]] = None) -> str:
    """``python <script relative to the cwd> <args>``: how a run was started, for its report.

    Args:
        script: path of the script that ran.
        argv: its arguments; None means ``sys.argv[1:]``.
    """
    arguments = list(argv) if argv is not None else sys.argv[1:]
    return 'python ' + ' '.join([osp.relpath(script, os.getcwd())] + arguments)
