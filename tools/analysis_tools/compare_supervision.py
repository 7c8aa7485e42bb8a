"""Does MaskFreeVIS learn masks from boxes? Train and evaluate four supervisions side by side.

On the same generated dataset and the same training seeds, one CPU thread per run, ``--parallel``
runs at a time (default 2, for a 2-core machine):

1. ``maskfreevis`` - boxes only, projection + pairwise + temporal KNN-patch losses (the method);
2. ``no_tk``       - boxes only, projection + pairwise (``loss_tk`` weight 0);
3. ``proj_only``   - boxes only, projection loss alone (``loss_pair`` and ``loss_tk`` weight 0);
4. ``mask_sup``    - full mask supervision, the upper bound (train json with masks).

The variants are the demo config of ``--dataset`` and the small derived configs next to it
(:data:`maskfreevis_demo.analysis.supervision_comparison.VARIANT_CONFIGS`). On ``real-imagery``
(the default) each is two-stage: its ``load_from`` names the image stage's default checkpoint
(``work_dirs/<image-stage config>/iter_<n>.pth``). (1) and (2) name the same image stage, so it
is trained once per seed (``--pretraining-dir``, a folder named after that config) and reused.
Every run is ``tools/run_demo.py --no-visuals`` in its own process. The script writes
``comparison.md`` and ``comparison.json`` (mask AP / AP50 / AP75 per seed, means, seed spread, the
ratio (1)/(4) and whether the targets are met) under ``--out-dir``; the maths is
:mod:`maskfreevis_demo.analysis.supervision_comparison`.

Full comparison (5 seeds; the paired contrasts and their intervals: see
:mod:`maskfreevis_demo.analysis.supervision_comparison`)::

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

from mmengine.config import Config

from maskfreevis.apis.cli import format_command
from maskfreevis_demo.analysis.supervision_comparison import (
    VARIANT_CONFIGS,
    VARIANTS,
    run_all,
    write_comparison,
)
from maskfreevis_demo.runner import (
    DEMO_DATASETS,
    demo_data_settings,
    ensure_demo_data,
    pretraining_stage_path,
)

TOOLS_DIR = osp.dirname(osp.dirname(osp.abspath(__file__)))
CONFIG_DIR = osp.join(osp.dirname(TOOLS_DIR), 'configs', 'maskfreevis')


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--out-dir', default='work_dirs/compare_supervision')
    parser.add_argument(
        '--dataset', choices=sorted(DEMO_DATASETS), default='real-imagery', help='generated data'
    )
    parser.add_argument('--data-root', default=None, help="default: the dataset's")
    parser.add_argument('--data-seed', type=int, default=0)
    parser.add_argument(
        '--seeds', type=int, nargs='+', default=[0, 1, 2, 3, 4], help='training seeds'
    )
    parser.add_argument('--variants', nargs='+', default=list(VARIANTS), choices=list(VARIANTS))
    parser.add_argument('--parallel', type=int, default=2, help='runs at a time')
    parser.add_argument('--threads', type=int, default=1, help='torch threads per run')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        default=[],
        metavar='KEY=VALUE',
        help='config overrides applied to every variant and stage, e.g. '
        'model.track_head.criterion.loss_pair.dilation=1',
    )
    parser.add_argument(
        '--rerun',
        action='store_true',
        help='train again where a finished run exists; without it a finished run of the same '
        'command is reused, and one of another command stops the comparison before it starts',
    )
    parser.add_argument(
        '--iters', type=int, default=None, help="iterations of every stage (default: the configs')"
    )
    parser.add_argument('--pretraining-iters', type=int, default=None)
    parser.add_argument('--train-videos', type=int, default=None, help="default: the dataset's")
    parser.add_argument('--val-videos', type=int, default=None, help="default: the dataset's")
    parser.add_argument('--frames', type=int, default=None, help="default: the dataset's")
    args = parser.parse_args(argv)
    args.data_root = args.data_root or DEMO_DATASETS[args.dataset][2]
    return args


def run_command(args: argparse.Namespace, variant: str, seed: int, out_dir: str) -> List[str]:
    """The ``tools/run_demo.py`` command line of one run.

    Runs of one seed share the folder of each pretraining stage (named after the config that the
    variant's ``load_from`` names), so the image stage common to several variants is trained once.
    """
    config = VARIANT_CONFIGS[args.dataset][variant]
    command = [
        sys.executable,
        osp.join(TOOLS_DIR, 'run_demo.py'),
        '--dataset',
        args.dataset,
        '--config',
        osp.join(CONFIG_DIR, config),
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
        '--no-visuals',
        '--no-progress',
    ]
    stage = pretraining_stage_of(osp.join(CONFIG_DIR, config))
    if stage is not None:
        stage_name = osp.splitext(osp.basename(stage))[0]
        pretraining_dir = osp.join(osp.dirname(osp.dirname(out_dir)), 'pretraining', stage_name)
        command += ['--pretraining-dir', osp.join(pretraining_dir, f'seed{seed}')]
    for flag in ('train_videos', 'val_videos', 'frames', 'iters', 'pretraining_iters'):
        value = getattr(args, flag)
        if value is not None:
            command += ['--' + flag.replace('_', '-'), str(value)]
    # weights only (smaller files): enough to inspect or re-evaluate a run
    command += ['--cfg-options', 'default_hooks.checkpoint.save_optimizer=False', *args.cfg_options]
    return command


def pretraining_stage_of(config: str) -> Optional[str]:
    """The pretraining stage config whose default checkpoint ``config`` loads, or None."""
    return pretraining_stage_path(Config.fromfile(config))


def main(argv: Optional[Sequence[str]] = None) -> dict:
    args = parse_args(argv)
    start = time.perf_counter()
    out_dir = osp.abspath(args.out_dir)
    os.makedirs(out_dir, exist_ok=True)
    # generate once, before the parallel runs, so they never race on the files
    ensure_demo_data(
        args.data_root,
        args.data_seed,
        demo_data_settings(args.dataset, args.train_videos, args.val_videos, args.frames),
    )
    jobs = {}
    for variant in args.variants:
        for seed in args.seeds:
            run_dir = osp.join(out_dir, variant, f'seed{seed}')
            jobs[(variant, seed)] = (run_command(args, variant, seed, run_dir), run_dir)
    try:
        runs = run_all(jobs, args.parallel, args.threads, args.rerun)
    except FileExistsError as error:  # a finished run that only --rerun may replace
        raise SystemExit(f'compare_supervision.py: error: {error}') from None
    run_dirs = {variant: {} for variant in args.variants}
    for (variant, seed), (_, run_dir) in jobs.items():
        run_dirs[variant][seed] = run_dir
    result, markdown = write_comparison(
        out_dir,
        runs,
        args.seeds,
        format_command(__file__, argv),
        time.perf_counter() - start,
        run_dirs,
    )
    print(markdown)
    return result


if __name__ == '__main__':
    main()
