"""MaskFreeVIS demo: train from boxes only on a generated video dataset, evaluate masks, show them.

Default: real objects moved over real photographs (``--dataset real-imagery``) and the release's
two-stage recipe (a box-supervised image stage, then the video stage with the temporal loss);
``--dataset synthetic`` runs the earlier synthetic-shapes demo (one stage, ResNet-18 from scratch).

What ``make demo`` runs; the steps are :func:`maskfreevis_demo.runner.run_demo`. Writes into
``--out-dir``: ``results.md`` + ``results.json``, ``training_curves.png``, ``videos/*.gif`` and
``contact_sheet.png``.

Tiny run for tests: ``--iters 3 --train-videos 2 --val-videos 2 --frames 4`` (every stage 3
iterations).
The supervision comparison (``tools/analysis_tools/compare_supervision.py``) calls this script once
per variant and seed with ``--no-visuals``.
"""

import argparse
import os.path as osp
from typing import Optional, Sequence

from mmengine.config import DictAction

from maskfreevis.apis.cli import format_command
from maskfreevis_demo.runner import DEMO_DATASETS, DemoOptions, demo_data_settings, run_demo

CONFIG_DIR = osp.join(osp.dirname(osp.dirname(osp.abspath(__file__))), 'configs', 'maskfreevis')
DEFAULT_CONFIG = osp.join(CONFIG_DIR, DEMO_DATASETS['real-imagery'][1])


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='MaskFreeVIS demo: train from boxes, evaluate mask AP, draw predictions'
    )
    parser.add_argument(
        '--dataset',
        choices=sorted(DEMO_DATASETS),
        default='real-imagery',
        help='the generated data (default: real objects over real photographs)',
    )
    parser.add_argument('--config', default=None, help="training config (default: the dataset's)")
    parser.add_argument('--out-dir', default='demo_outputs', help='where artefacts go')
    parser.add_argument(
        '--data-root',
        default=None,
        help="generated dataset location (generated if absent; default: the dataset's)",
    )
    parser.add_argument('--data-seed', type=int, default=0, help='seed of the generated data')
    parser.add_argument('--seed', type=int, default=0, help='training seed')
    parser.add_argument(
        '--iters', type=int, default=None, help="iterations of every stage (default: the configs')"
    )
    parser.add_argument(
        '--pretraining-iters',
        type=int,
        default=None,
        help='iterations of the pretraining (image) stage, overriding --iters there',
    )
    parser.add_argument(
        '--pretraining-dir',
        default=None,
        help='run the pretraining stage here and reuse an identical finished one',
    )
    parser.add_argument('--train-videos', type=int, default=None, help="default: the dataset's")
    parser.add_argument('--val-videos', type=int, default=None, help="default: the dataset's")
    parser.add_argument(
        '--frames',
        type=int,
        default=None,
        help="frames per generated video (default: the dataset's)",
    )
    parser.add_argument(
        '--threads', type=int, default=None, help='torch CPU threads (default: all cores)'
    )
    parser.add_argument('--num-gifs', type=int, default=4, help='val videos to draw')
    parser.add_argument(
        '--score-thr', type=float, default=0.3, help='drawn predictions need at least this score'
    )
    parser.add_argument(
        '--no-visuals',
        action='store_true',
        help='skip GIFs and contact sheet (results + curves only)',
    )
    parser.add_argument('--no-progress', action='store_true', help='no progress bars')
    parser.add_argument('--verbose', action='store_true', help="show the Runner's INFO log")
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='config overrides of every stage, key=value (applied last)',
    )
    return parser.parse_args(argv)


def main(argv: Optional[Sequence[str]] = None) -> dict:
    args = parse_args(argv)
    _, default_config, default_root = DEMO_DATASETS[args.dataset]
    options = DemoOptions(
        config=args.config or osp.join(CONFIG_DIR, default_config),
        out_dir=args.out_dir,
        data_root=args.data_root or default_root,
        data_seed=args.data_seed,
        seed=args.seed,
        iters=args.iters,
        pretraining_iters=args.pretraining_iters,
        pretraining_dir=args.pretraining_dir,
        data=demo_data_settings(args.dataset, args.train_videos, args.val_videos, args.frames),
        threads=args.threads,
        num_gifs=args.num_gifs,
        score_thr=args.score_thr,
        visuals=not args.no_visuals,
        progress=not args.no_progress,
        verbose=args.verbose,
        cfg_options=args.cfg_options,
        command=format_command(__file__, argv),
    )
    summary = run_demo(options)
    out_dir = osp.abspath(args.out_dir)
    with open(osp.join(out_dir, 'results.md')) as handle:
        print(handle.read())
    print(f'artefacts in {out_dir} (total {summary["timings_s"]["total"]:.0f} s)')
    return summary


if __name__ == '__main__':
    main()
