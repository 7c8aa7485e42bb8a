"""Does MaskFreeVIS learn masks from boxes? Train and evaluate four supervisions side by side.

On the same generated dataset and the same training seeds, one CPU thread per run, ``--parallel``
runs at a time (default 2, for a 2-core machine):

1. ``maskfreevis`` - boxes only, projection + pairwise + temporal KNN-patch losses (the method);
2. ``no_tk``       - boxes only, projection + pairwise (``loss_tk`` weight 0);
3. ``proj_only``   - boxes only, projection loss alone (``loss_pair`` and ``loss_tk`` weight 0);
4. ``mask_sup``    - full mask supervision, the upper bound (train json with masks).

Variants 2-4 are the small derived configs next to the demo config
(``configs/maskfreevis/maskfreevis-{notk,projonly,masksup}_r18_1xb4-800iter_synthetic.py``).
Every run is ``tools/run_demo.py --no-visuals`` in its own process. The script writes
``comparison.md`` and ``comparison.json`` (mask AP / AP50 / AP75 per seed, means, seed spread, the
ratio (1)/(4) and whether the targets are met) under ``--out-dir``; the maths is
:mod:`maskfreevis.analysis.supervision_comparison`.

Full comparison (8 runs of 800 iterations)::

    python tools/analysis_tools/compare_supervision.py --out-dir work_dirs/compare_supervision

Smoke test (seconds per run)::

    python tools/analysis_tools/compare_supervision.py --out-dir /tmp/cmp --iters 2 \
        --train-videos 2 --val-videos 2 --frames 4 --data-root /tmp/cmp_data
"""

import argparse
import os
import os.path as osp
import sys
import time
from typing import List, Optional, Sequence

from maskfreevis.analysis.supervision_comparison import VARIANTS, run_all, write_comparison
from maskfreevis.apis.cli import format_command
from maskfreevis.apis.demo import ensure_synthetic_data
from maskfreevis.datasets.synthetic import SyntheticVISSettings

TOOLS_DIR = osp.dirname(osp.dirname(osp.abspath(__file__)))
CONFIG_DIR = osp.join(osp.dirname(TOOLS_DIR), 'configs', 'maskfreevis')


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    defaults = SyntheticVISSettings()
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--out-dir', default='work_dirs/compare_supervision')
    parser.add_argument('--data-root', default='data/synthetic_vis')
    parser.add_argument('--data-seed', type=int, default=0)
    parser.add_argument('--seeds', type=int, nargs='+', default=[0, 1], help='training seeds')
    parser.add_argument('--variants', nargs='+', default=list(VARIANTS), choices=list(VARIANTS))
    parser.add_argument('--parallel', type=int, default=2, help='runs at a time')
    parser.add_argument('--threads', type=int, default=1, help='torch threads per run')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        default=[],
        metavar='KEY=VALUE',
        help='config overrides applied to every variant, e.g. '
        'model.track_head.criterion.loss_pair.dilation=1',
    )
    parser.add_argument(
        '--rerun',
        action='store_true',
        help='train again even where a finished run of the same command exists',
    )
    parser.add_argument(
        '--iters', type=int, default=None, help="training iterations (default: the configs', 800)"
    )
    parser.add_argument('--train-videos', type=int, default=defaults.num_train_videos)
    parser.add_argument('--val-videos', type=int, default=defaults.num_val_videos)
    parser.add_argument('--frames', type=int, default=defaults.num_frames)
    return parser.parse_args(argv)


def run_command(args: argparse.Namespace, variant: str, seed: int, out_dir: str) -> List[str]:
    """The ``tools/run_demo.py`` command line of one run."""
    command = [
        sys.executable,
        osp.join(TOOLS_DIR, 'run_demo.py'),
        '--config',
        osp.join(CONFIG_DIR, VARIANTS[variant][1]),
        '--out-dir',
        out_dir,
        '--data-root',
        args.data_root,
        '--data-seed',
        str(args.data_seed),
        '--seed',
        str(seed),
        '--threads',
        str(args.threads),
        '--train-videos',
        str(args.train_videos),
        '--val-videos',
        str(args.val_videos),
        '--frames',
        str(args.frames),
        '--no-visuals',
        '--no-progress',
        # weights only (50 MB instead of 150 MB per run): enough to inspect or re-evaluate a run
        '--cfg-options',
        'default_hooks.checkpoint.save_optimizer=False',
        *args.cfg_options,
    ]
    if args.iters is not None:
        command += ['--iters', str(args.iters)]
    return command


def main(argv: Optional[Sequence[str]] = None) -> dict:
    args = parse_args(argv)
    start = time.perf_counter()
    out_dir = osp.abspath(args.out_dir)
    os.makedirs(out_dir, exist_ok=True)
    # generate once, before the parallel runs, so they never race on the files
    ensure_synthetic_data(
        args.data_root,
        args.data_seed,
        SyntheticVISSettings(
            num_train_videos=args.train_videos,
            num_val_videos=args.val_videos,
            num_frames=args.frames,
        ),
    )
    jobs = {}
    for variant in args.variants:
        for seed in args.seeds:
            run_dir = osp.join(out_dir, variant, f'seed{seed}')
            jobs[(variant, seed)] = (run_command(args, variant, seed, run_dir), run_dir)
    runs = run_all(jobs, args.parallel, args.threads, args.rerun)
    result, markdown = write_comparison(
        out_dir, runs, args.seeds, format_command(__file__, argv), time.perf_counter() - start
    )
    print(markdown)
    return result


if __name__ == '__main__':
    main()
