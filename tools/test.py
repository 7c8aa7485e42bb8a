"""Test a checkpoint: ``python tools/test.py CONFIG CHECKPOINT [--work-dir DIR] [--out FILE] ...``.

The checkpoint is positional (as in mmdet), so ``mim test maskfreevis CONFIG --checkpoint CKPT``
works.
"""

import argparse
from typing import Optional, Sequence

import mmengine

from maskfreevis.apis.cli import add_common_args, load_config, parse_launch_args
from maskfreevis.engine import build_runner


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Test (and evaluate) a MaskFreeVIS model')
    parser.add_argument('config', help='test config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument(
        '--out', help='dump the evaluation metrics to this json file (written by rank 0)'
    )
    add_common_args(parser)
    return parse_launch_args(parser, argv)


def main(argv: Optional[Sequence[str]] = None) -> None:
    args = parse_args(argv)
    cfg = load_config(args)
    cfg.load_from = args.checkpoint
    runner = build_runner(cfg)
    metrics = runner.test()
    if args.out is not None and runner.rank == 0:
        mmengine.dump(metrics, args.out)


if __name__ == '__main__':
    main()
