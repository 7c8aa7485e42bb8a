"""Test a checkpoint: ``python tools/test.py CONFIG CHECKPOINT [--work-dir DIR] [--out FILE] ...``.

The checkpoint is positional (as in mmdet), so ``mim test maskfreevis CONFIG --checkpoint CKPT``
works.
"""

import argparse
import os
import os.path as osp
import sys
from typing import List, Optional, Sequence, Tuple

import mmengine

from maskfreevis.apis.cli import add_common_args, load_config, parse_launch_args
from maskfreevis.engine import build_runner

# the formats mmengine.dump writes, by file extension
OUT_FORMATS = ('json', 'yaml', 'yml', 'pkl', 'pickle')


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Test (and evaluate) a MaskFreeVIS model')
    parser.add_argument('config', help='test config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument(
        '--out',
        help='dump the evaluation metrics to this file: .json, .yaml/.yml or .pkl/.pickle '
        '(written by rank 0)',
    )
    add_common_args(parser)
    args = parse_launch_args(parser, argv)
    if args.out is not None:
        check_out_path(parser, args.out)
    return args


def check_out_path(parser: argparse.ArgumentParser, out: str) -> None:
    """Refuse an ``--out`` that cannot be written before the test runs, not after it."""
    extension = osp.splitext(out)[1].lower().lstrip('.')
    if extension not in OUT_FORMATS:
        parser.error(
            f'--out {out}: the metrics are written as json, yaml or pickle, chosen by the '
            f'extension (.{", .".join(OUT_FORMATS)}), e.g. --out metrics.json; got '
            f'{"." + extension if extension else "no extension"}'
        )
    if osp.isdir(out):
        parser.error(
            f'--out {out} is a folder; give a file path, e.g. {osp.join(out, "metrics.json")}'
        )
    folder = osp.dirname(osp.abspath(out))
    if not osp.isdir(folder):
        parser.error(f'--out {out}: its folder {folder} does not exist')


def run_inputs(cfg, args: argparse.Namespace) -> List[Tuple[str, str]]:
    """``(what, path)`` of the local files the test reads: config, checkpoint, test json."""
    inputs = [('the config', args.config), ('the checkpoint', args.checkpoint)]
    dataset = cfg.get('test_dataloader', {}).get('dataset', {})
    ann_file = dataset.get('ann_file') if isinstance(dataset, dict) else None
    if isinstance(ann_file, str) and ann_file:
        data_root = dataset.get('data_root') or ''
        inputs.append(('the test annotation file', osp.join(data_root, ann_file)))
    return inputs


def check_out_is_no_input(cfg, args: argparse.Namespace) -> None:
    """Refuse an ``--out`` that is one of the run's inputs (the test json, say) before the test:
    the metrics would replace it."""
    if args.out is None or not osp.exists(args.out):
        return
    for what, path in run_inputs(cfg, args):
        if osp.exists(path) and osp.samefile(args.out, path):
            sys.exit(
                f'test.py: error: --out {args.out} is {what} ({path}): the metrics would replace '
                'it; give another file, e.g. --out metrics.json'
            )


def main(argv: Optional[Sequence[str]] = None) -> None:
    args = parse_args(argv)
    cfg = load_config(args)
    check_out_is_no_input(cfg, args)
    cfg.load_from = args.checkpoint
    runner = build_runner(cfg)
    metrics = runner.test()
    if args.out is not None and runner.rank == 0:
        # through a partial file, so an interrupt never leaves half a metrics file
        partial = args.out + '.partial'
        mmengine.dump(metrics, partial, file_format=osp.splitext(args.out)[1].lower().lstrip('.'))
        os.replace(partial, args.out)


if __name__ == '__main__':
    main()
