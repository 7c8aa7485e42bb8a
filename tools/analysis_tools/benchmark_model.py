"""Training-step time and peak memory: box-supervised MaskFreeVIS vs mask-supervised Mask2Former.

Both models are the R50 Mask2Former-VIS of the shipped configs (same backbone, pixel decoder,
decoder, queries); they train on the same synthetic batch (coloured ellipses moving over
texture), MaskFreeVIS from its boxes only, stock ``Mask2FormerVideo`` from its masks. Each
model runs in its own fresh subprocess (so one model's memory cannot hide the other's); a step
is ``model.train_step`` (preprocess, forward, losses, backward, optimiser step) with the
config's optimiser (AdamW, grad clip) as a plain ``OptimWrapper`` on CPU, AMP on CUDA.

Reported per model (medians over steps and rounds) and as ratios MaskFreeVIS / Mask2Former:

* step wall time, and step CPU time of the process (``time.process_time``; with the default
  single torch thread it measures the work itself, robust to other jobs on a shared machine);
* peak memory: CUDA ``max_memory_allocated`` during the step; on CPU the growth of the process's
  peak resident set (``VmHWM``, reset through ``/proc/self/clear_refs`` before each step) over the
  resident set before the step;
* memory saved for backward in one step (distinct storages packed by
  ``torch.autograd.graph.saved_tensors_hooks``, parameters excluded), a device-independent view
  of the activations each model keeps.

The measurements are :mod:`maskfreevis_demo.analysis.model_benchmark`.

Example::

    python tools/analysis_tools/benchmark_model.py            # 2 clips x 3 frames, 256 x 384, CPU
    python tools/analysis_tools/benchmark_model.py --device cuda --size 360 640
"""

import argparse
import json
import os.path as osp
import subprocess
import sys
from typing import Dict, List, Optional, Sequence

from maskfreevis_demo.analysis.model_benchmark import (
    MODEL_KINDS,
    format_report,
    run_worker,
    stock_config_path,
    summarise_rounds,
)

CONFIGS = dict(
    maskfreevis=osp.join(
        osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))),
        'configs',
        'maskfreevis',
        'maskfreevis_r50_8xb2-6k_youtubevis2019.py',
    ),
    mask2former=stock_config_path(('mask2former_vis', 'mask2former_r50_8xb2-8e_youtubevis2019.py')),
)


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--clips', type=int, default=2, help='clips per batch')
    parser.add_argument('--frames', type=int, default=3, help='frames per clip (T)')
    parser.add_argument('--size', type=int, nargs=2, default=(256, 384), metavar=('H', 'W'))
    parser.add_argument('--objects', type=int, default=3, help='instances per clip')
    parser.add_argument('--repeats', type=int, default=5, help='timed steps per model')
    parser.add_argument('--warmup', type=int, default=1, help='untimed steps first')
    parser.add_argument(
        '--rounds',
        type=int,
        default=2,
        help='subprocess runs per model, alternating the two models',
    )
    parser.add_argument('--device', default='cpu', choices=['cpu', 'cuda'])
    parser.add_argument(
        '--threads',
        type=int,
        default=1,
        help='torch CPU threads (1: CPU time = work, robust to a busy machine; 0: torch default)',
    )
    parser.add_argument('--json-out', help='also write the results here')
    parser.add_argument('--worker', choices=list(MODEL_KINDS), help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def run_round(args: argparse.Namespace, kind: str) -> Dict:
    """One fresh subprocess for ``kind``; returns its JSON report."""
    command = [
        sys.executable,
        osp.abspath(__file__),
        '--worker',
        kind,
        '--clips',
        str(args.clips),
        '--frames',
        str(args.frames),
        '--size',
        *map(str, args.size),
        '--objects',
        str(args.objects),
        '--repeats',
        str(args.repeats),
        '--warmup',
        str(args.warmup),
        '--device',
        args.device,
        '--threads',
        str(args.threads),
    ]
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f'{kind} worker failed:\n{result.stderr[-4000:]}')
    return json.loads(result.stdout.strip().splitlines()[-1])


def main(argv: Optional[Sequence[str]] = None) -> None:
    args = parse_args(argv)
    if args.worker:
        print(
            json.dumps(
                run_worker(
                    args.worker,
                    CONFIGS[args.worker],
                    args.clips,
                    args.frames,
                    tuple(args.size),
                    args.objects,
                    args.repeats,
                    args.warmup,
                    args.device,
                    args.threads,
                )
            )
        )
        return
    reports: Dict[str, List[Dict]] = {kind: [] for kind in MODEL_KINDS}
    for _ in range(args.rounds):
        for kind in reports:
            reports[kind].append(run_round(args, kind))
    summary, ratios = summarise_rounds(reports)
    memory = 'CUDA max allocated' if args.device == 'cuda' else 'peak RSS growth'
    setting = (
        f'R50, {args.clips} clips x {args.frames} frames, {args.size[0]} x '
        f'{args.size[1]}, {args.objects} objects/clip, device {args.device}, '
        f'{args.threads or "default"} thread(s)'
    )
    print(format_report(summary, ratios, setting, memory))
    if args.json_out:
        with open(args.json_out, 'w') as out:
            json.dump(
                dict(setting=setting, summary=summary, ratios=ratios, runs=reports), out, indent=2
            )


if __name__ == '__main__':
    main()
