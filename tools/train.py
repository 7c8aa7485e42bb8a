"""Train a model from a config.

``python tools/train.py CONFIG [--work-dir DIR] [--resume [CKPT]] [--overwrite-work-dir] [--amp]
[--cfg-options ...]``.

Works for single-process CPU/GPU training and, with ``--launcher pytorch`` (``tools/dist_train.sh``,
torchrun) or ``--launcher slurm``, for distributed data-parallel training with mmengine.
The argument and config handling lives in :mod:`maskfreevis.apis.cli`, the Runner set-up in
:func:`maskfreevis.engine.build_runner`; what runs is what the config declares. A work_dir that
holds an earlier run's checkpoints, or that another run is using, is refused before anything is
built. Ctrl-C / SIGTERM end the run with a checkpoint and exit status 130 / 143.
"""

import argparse
import os
import sys
from typing import Optional, Sequence

from mmengine.config import Config

# Registers the plugin's classes and hooks even for configs that do not list it in
# `custom_imports`.
from maskfreevis.apis.cli import (
    add_common_args,
    enable_amp,
    load_config,
    parse_launch_args,
    set_resume,
)
from maskfreevis.engine import TrainingInterrupted, build_runner, check_work_dir_for_training
from maskfreevis.engine.work_dir_guard import OVERWRITE_OPTION


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
    parser.add_argument(
        '--overwrite-work-dir',
        action='store_true',
        help="train afresh in a work_dir that holds an earlier run's checkpoints, replacing them "
        f'(config: {OVERWRITE_OPTION} = True)',
    )
    add_common_args(parser)
    return parse_launch_args(parser, argv)


def build_config(args: argparse.Namespace) -> Config:
    """The training config: the loaded config plus ``--amp``, ``--resume`` and
    ``--overwrite-work-dir``."""
    cfg = load_config(args)
    if args.amp:
        enable_amp(cfg)
    set_resume(cfg, args.resume)
    if args.overwrite_work_dir:
        cfg[OVERWRITE_OPTION] = True
    return cfg


def check_amp_device(cfg: Config) -> None:
    """Refuse mixed precision on a machine without an accelerator before anything is built
    (mmengine's ``AmpOptimWrapper`` asserts one, after the datasets load)."""
    if cfg.get('optim_wrapper', {}).get('type') != 'AmpOptimWrapper':
        return
    from mmengine.device import (
        is_cuda_available,
        is_mlu_available,
        is_musa_available,
        is_npu_available,
    )

    if not any(
        f() for f in (is_cuda_available, is_npu_available, is_mlu_available, is_musa_available)
    ):
        sys.exit(
            'train.py: error: --amp (optim_wrapper.type=AmpOptimWrapper) trains in mixed precision '
            'on a GPU, and this machine has none (CUDA, NPU, MLU or MUSA); train without --amp '
            'here (a config that asks for it: --cfg-options optim_wrapper.type=OptimWrapper)'
        )


def main(argv: Optional[Sequence[str]] = None) -> None:
    cfg = build_config(parse_args(argv))
    check_amp_device(cfg)
    if os.environ.get('RANK', '0') == '0':  # the main process; the run's hook checks again
        check_work_dir_for_training(cfg)
    try:
        build_runner(cfg).train()
    except TrainingInterrupted as interrupt:
        print(interrupt, file=sys.stderr, flush=True)
        sys.exit(interrupt.exit_code)


if __name__ == '__main__':
    main()
