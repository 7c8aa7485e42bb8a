"""MaskFreeVIS demo: train from boxes only on a generated video dataset, evaluate masks, show them.

What ``make demo`` runs; the steps are :func:`maskfreevis.apis.demo.run_demo`. Writes into
``--out-dir``: ``results.md`` + ``results.json``, ``training_curves.png``, ``videos/*.gif`` and
``contact_sheet.png``.

Tiny run for tests: ``--iters 3 --train-videos 2 --val-videos 2 --frames 4``.
The supervision comparison (``tools/analysis_tools/compare_supervision.py``) calls this script once
per variant and seed with ``--no-visuals``.
"""

import argparse
import os.path as osp
from typing import Optional, Sequence

from mmengine.config import DictAction

from maskfreevis.apis.cli import format_command
from maskfreevis.apis.demo import DemoOptions, run_demo
from maskfreevis.datasets.synthetic import SyntheticVISSettings

DEFAULT_CONFIG = osp.join(
    osp.dirname(osp.dirname(osp.abspath(__file__))),
    'configs',
    'maskfreevis',
    'maskfreevis_r18_1xb4-800iter_synthetic.py',
)


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    defaults = SyntheticVISSettings()
    parser = argparse.ArgumentParser(
        description='MaskFreeVIS demo: train from boxes, evaluate mask AP, draw predictions'
    )
    parser.add_argument('--config', default=DEFAULT_CONFIG, help='training config')
    parser.add_argument('--out-dir', default='demo_outputs', help='where artefacts go')
    parser.add_argument(
        '--data-root',
        default='data/synthetic_vis',
        help='generated dataset location (generated if absent)',
    )
    parser.add_argument('--data-seed', type=int, default=0, help='seed of the generated data')
    parser.add_argument('--seed', type=int, default=0, help='training seed')
    parser.add_argument(
        '--iters', type=int, default=None, help="training iterations (default: the config's)"
    )
    parser.add_argument('--train-videos', type=int, default=defaults.num_train_videos)
    parser.add_argument('--val-videos', type=int, default=defaults.num_val_videos)
    parser.add_argument(
        '--frames', type=int, default=defaults.num_frames, help='frames per generated video'
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
        help='config overrides, key=value (applied last)',
    )
    return parser.parse_args(argv)


def main(argv: Optional[Sequence[str]] = None) -> dict:
    args = parse_args(argv)
    options = DemoOptions(
        config=args.config,
        out_dir=args.out_dir,
        data_root=args.data_root,
        data_seed=args.data_seed,
        seed=args.seed,
        iters=args.iters,
        data=SyntheticVISSettings(
            num_train_videos=args.train_videos,
            num_val_videos=args.val_videos,
            num_frames=args.frames,
        ),
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
