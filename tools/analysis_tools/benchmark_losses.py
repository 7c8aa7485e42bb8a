"""Benchmark the mask-free losses against a release-style F.unfold version.

Side by side in one run, for the TK-Loss (T = 3 all pairs, T = 5 cyclic) and the colour pairwise
loss, on CPU and (when present) CUDA: value agreement, aten ops dispatched by one forward +
backward (each a kernel launch on a GPU), its time (median of repeats), bytes saved for backward
and peak memory, as ratios ours / unfold against the targets, in our padding mode and in the
release's (``--padding-modes``; with ``zeros`` the baseline is the release's formulation as
written). Plus ``rgb_to_lab`` against the release's per-frame scikit-image round trip, deep
supervision (``--layers`` decoder layers, colour cues shared vs recomputed per layer), the host
syncs of one criterion call of the demo model (``--criterion-config``) and, with
``--contention-rounds``, that model's CPU training step alone and beside one busy process. The
measurements are :mod:`maskfreevis_demo.analysis.loss_benchmark`.

Example::

    python tools/analysis_tools/benchmark_losses.py --repeats 15
    python tools/analysis_tools/benchmark_losses.py --repeats 3 --padding-modes exclude \\
        --contention-rounds 3 --contention-only
"""

import argparse
import os.path as osp
from typing import Optional, Sequence

import torch

from maskfreevis.models.losses.neighbour_grid import PADDING_MODES
from maskfreevis_demo.analysis.loss_benchmark import (
    demo_config_name,
    format_contention,
    format_table,
    run_device,
    training_step_contention,
)

CONFIG_DIR = osp.join(osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))), 'configs')


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--instances', type=int, default=6, help='N')
    parser.add_argument('--clips', type=int, default=2, help='B (N/B each)')
    parser.add_argument('--height', type=int, default=96)
    parser.add_argument('--width', type=int, default=160)
    parser.add_argument('--repeats', type=int, default=15)
    parser.add_argument(
        '--layers', type=int, default=10, help='decoder layers with losses (R50 configs: 10)'
    )
    parser.add_argument('--threads', type=int, default=1, help='CPU threads (0 = torch default)')
    parser.add_argument(
        '--devices', nargs='+', default=None, help='default: cpu, plus cuda when available'
    )
    parser.add_argument(
        '--padding-modes',
        nargs='+',
        choices=PADDING_MODES,
        default=list(PADDING_MODES),
        help="loss rows of each padding mode: 'exclude' (ours), 'zeros' (the release's)",
    )
    parser.add_argument(
        '--criterion-config',
        default=osp.join(CONFIG_DIR, 'maskfreevis', demo_config_name()),
        help="config whose criterion call is profiled for host syncs (default: the demo's); "
        '"none" skips it',
    )
    parser.add_argument(
        '--contention-rounds',
        type=int,
        default=0,
        help="also time the criterion config's training step (CPU) alone and beside one busy "
        'process (`yes`), with 2 and 1 torch threads, in this many alternating rounds '
        '(0: skip)',
    )
    parser.add_argument(
        '--contention-steps', type=int, default=3, help='training steps per setting and round'
    )
    parser.add_argument(
        '--contention-only', action='store_true', help='only the training-step contention'
    )
    return parser.parse_args(argv)


def main(argv: Optional[Sequence[str]] = None) -> None:
    args = parse_args(argv)
    if args.instances % args.clips:
        raise SystemExit('--instances must be a multiple of --clips')
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    devices = args.devices or (['cpu', 'cuda'] if torch.cuda.is_available() else ['cpu'])
    if args.contention_only:
        devices = []
    print(
        f'N={args.instances} instances from B={args.clips} clips, masks '
        f'{args.height}x{args.width}, median of {args.repeats} repeats, '
        f'torch {torch.__version__}'
    )
    for device in devices:
        rows, other_rows = run_device(
            device,
            args.instances,
            args.clips,
            args.height,
            args.width,
            args.repeats,
            args.layers,
            None if args.criterion_config == 'none' else args.criterion_config,
            args.padding_modes,
        )
        print(format_table(device, rows, other_rows))
    if args.contention_rounds > 0 and args.criterion_config != 'none':
        row = training_step_contention(
            args.criterion_config, (2, 1), args.contention_rounds, args.contention_steps
        )
        print(format_contention(row))


if __name__ == '__main__':
    main()
