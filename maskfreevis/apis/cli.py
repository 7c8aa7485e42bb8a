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
    export_local_rank(args.local_rank)
    return args


def load_config(args: argparse.Namespace) -> Config:
    """Load ``args.config`` and apply ``--cfg-options``, ``--work-dir`` and ``--launcher``.

    Without ``--work-dir`` and without ``work_dir`` in the config, the work dir is
    ``./work_dirs/<config name>`` (mmdet's convention).
    """
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
