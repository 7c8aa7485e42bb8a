"""Train a model from a config.

``python tools/train.py CONFIG [--work-dir DIR] [--resume [CKPT]] [--amp] [--cfg-options ...]``.

Works for single-process CPU/GPU training and, with ``--launcher pytorch`` (``tools/dist_train.sh``,
torchrun) or ``--launcher slurm``, for distributed data-parallel training with mmengine.
The argument and config handling lives in :mod:`maskfreevis.apis.cli`, the Runner set-up in
:func:`maskfreevis.engine.build_runner`.
"""

import argparse
from typing import Optional, Sequence

from mmengine.config import Config

# Registers the plugin's classes, hooks and compatibility fixes even for configs that do not list
# it in `custom_imports`.
from maskfreevis.apis.cli import (
    add_common_args,
    enable_amp,
    load_config,
    parse_launch_args,
    set_resume,
)
from maskfreevis.engine import build_runner


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Train a MaskFreeVIS (or any mmdet) model')
    parser.add_argument('config', help='train config file path')
    parser.add_argument('--amp', action='store_true', help='enable automatic mixed precision')
    parser.add_argument(
        '--resume',
        nargs='?',
        type=str,
        const='auto',
        help='resume from CKPT; without a value, resume from the latest checkpoint in the work_dir',
    )
    add_common_args(parser)
    return parse_launch_args(parser, argv)


def build_config(args: argparse.Namespace) -> Config:
    """The training config: the loaded config plus ``--amp`` and ``--resume``."""
    cfg = load_config(args)
    if args.amp:
        enable_amp(cfg)
    set_resume(cfg, args.resume)
    return cfg


def main(argv: Optional[Sequence[str]] = None) -> None:
    build_runner(build_config(parse_args(argv))).train()


if __name__ == '__main__':
    main()
