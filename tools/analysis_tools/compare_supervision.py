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
ratio (1)/(4) and whether the targets of issue 6 are met) under ``--out-dir``.

Full comparison (8 runs of 800 iterations)::

    python tools/analysis_tools/compare_supervision.py --out-dir work_dirs/compare_supervision

Smoke test (seconds per run)::

    python tools/analysis_tools/compare_supervision.py --out-dir /tmp/cmp --iters 2 \
        --train-videos 2 --val-videos 2 --frames 4 --data-root /tmp/cmp_data
"""
import argparse
import json
import os
import os.path as osp
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from typing import Dict, List, Optional, Sequence

from tqdm import tqdm

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
if REPO_ROOT not in sys.path:
    sys.path.insert(0, REPO_ROOT)

from maskfreevis.datasets.synthetic import (SyntheticVISSettings,  # noqa: E402
                                            generate_synthetic_vis, synthetic_dataset_exists)

CONFIG_DIR = osp.join(REPO_ROOT, 'configs', 'maskfreevis')
VARIANTS = {
    'maskfreevis': ('(1) boxes: proj + pair + TK (MaskFreeVIS)',
                    'maskfreevis_r18_1xb4-800iter_synthetic.py'),
    'no_tk': ('(2) boxes: proj + pair, no TK', 'maskfreevis-notk_r18_1xb4-800iter_synthetic.py'),
    'proj_only': ('(3) boxes: projection only',
                  'maskfreevis-projonly_r18_1xb4-800iter_synthetic.py'),
    'mask_sup': ('(4) full mask supervision (upper bound)',
                 'maskfreevis-masksup_r18_1xb4-800iter_synthetic.py'),
}
METRICS = ('AP', 'AP50', 'AP75')
METRIC_LABELS = dict(mean='IoU', above_0_5='share IoU > 0.5',
                     class_accuracy='its class right')
TARGET_RATIO = 0.85


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
    parser.add_argument('--cfg-options', nargs='+', default=[], metavar='KEY=VALUE',
                        help='config overrides applied to every variant, e.g. '
                        'model.track_head.loss_pair.dilation=1')
    parser.add_argument('--rerun', action='store_true',
                        help='train again even where a finished run of the same command exists')
    parser.add_argument('--iters', type=int, default=None,
                        help='training iterations (default: the configs\', 800)')
    parser.add_argument('--train-videos', type=int, default=defaults.num_train_videos)
    parser.add_argument('--val-videos', type=int, default=defaults.num_val_videos)
    parser.add_argument('--frames', type=int, default=defaults.num_frames)
    return parser.parse_args(argv)


def run_command(args: argparse.Namespace, variant: str, seed: int, out_dir: str) -> List[str]:
    """The ``tools/run_demo.py`` command line of one run."""
    command = [
        sys.executable, osp.join(REPO_ROOT, 'tools', 'run_demo.py'),
        '--config', osp.join(CONFIG_DIR, VARIANTS[variant][1]),
        '--out-dir', out_dir, '--data-root', args.data_root,
        '--data-seed', str(args.data_seed), '--seed', str(seed),
        '--threads', str(args.threads),
        '--train-videos', str(args.train_videos), '--val-videos', str(args.val_videos),
        '--frames', str(args.frames), '--no-visuals', '--no-progress',
        # weights only (50 MB instead of 150 MB per run): enough to inspect or re-evaluate a run
        '--cfg-options', 'default_hooks.checkpoint.save_optimizer=False', *args.cfg_options
    ]
    if args.iters is not None:
        command += ['--iters', str(args.iters)]
    return command


def run_one(command: List[str], out_dir: str, threads: int, rerun: bool = False) -> dict:
    """Run one training + evaluation; returns its ``results.json`` or an error record.

    A run whose ``results.json`` was written by the same command line is reused unless
    ``rerun``, so an interrupted comparison continues where it stopped.
    """
    os.makedirs(out_dir, exist_ok=True)
    results_path = osp.join(out_dir, 'results.json')
    command_path = osp.join(out_dir, 'command.json')
    if not rerun and osp.isfile(results_path) and osp.isfile(command_path):
        with open(command_path) as handle:
            finished_command = json.load(handle)
        if finished_command == command:
            with open(results_path) as handle:
                return dict(json.load(handle), reused=True)
    for stale in (results_path, command_path):
        if osp.isfile(stale):
            os.remove(stale)
    env = dict(os.environ, OMP_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads))
    start = time.perf_counter()
    with open(osp.join(out_dir, 'run.log'), 'w') as log:
        process = subprocess.run(command, stdout=log, stderr=subprocess.STDOUT, env=env,
                                 cwd=os.getcwd())
    if process.returncode != 0 or not osp.isfile(results_path):
        return dict(error=f'exit code {process.returncode}, see {osp.join(out_dir, "run.log")}',
                    wall_s=time.perf_counter() - start)
    with open(command_path, 'w') as handle:
        json.dump(command, handle)
    with open(results_path) as handle:
        return json.load(handle)


def summarise(runs: Dict[str, Dict[int, dict]], seeds: Sequence[int],
              source: str = 'mask_ap', metrics: Sequence[str] = METRICS) -> dict:
    """Per variant: metrics per seed, means, seed spread; ratio (1)/(4); targets met or missed.

    Args:
        runs: variant -> seed -> the run's ``results.json`` (or ``{'error': ...}``).
        seeds: the training seeds.
        source: which block of ``results.json`` to read (``mask_ap``, ``mask_ap_class_agnostic``,
            ``best_prediction_iou``).
        metrics: keys of that block; the targets are checked on ``metrics[0]``.
    """
    table = {}
    for variant, by_seed in runs.items():
        per_seed = {seed: (by_seed[seed].get(source) if 'error' not in by_seed[seed] else None)
                    for seed in seeds}
        complete = all(v is not None for v in per_seed.values())
        row = dict(name=VARIANTS[variant][0], per_seed=per_seed, complete=complete)
        if complete:
            for metric in metrics:
                values = [per_seed[s].get(metric) for s in seeds]
                if None in values:  # a results.json from before the metric existed
                    row[f'mean_{metric}'] = row[f'spread_{metric}'] = None
                    continue
                row[f'mean_{metric}'] = sum(values) / len(values)
                row[f'spread_{metric}'] = max(values) - min(values)
        table[variant] = row
    summary = dict(source=source, metrics=list(metrics), table=table)
    key = metrics[0]
    method, upper = table.get('maskfreevis'), table.get('mask_sup')
    if method and upper and method['complete'] and upper['complete']:
        summary['ratio_1_to_4'] = {
            m: (method[f'mean_{m}'] / upper[f'mean_{m}']
                if method[f'mean_{m}'] is not None and upper[f'mean_{m}'] else None)
            for m in metrics
        }
        ratio = summary['ratio_1_to_4'][key]
        summary['target_ratio_met'] = ratio is not None and ratio >= TARGET_RATIO
    order = [table.get(k) for k in ('maskfreevis', 'no_tk', 'proj_only')]
    if all(r and r['complete'] for r in order):
        margins = []
        for better, worse in zip(order, order[1:]):
            spread = max(better[f'spread_{key}'], worse[f'spread_{key}'])
            gap = better[f'mean_{key}'] - worse[f'mean_{key}']
            margins.append(dict(gap=gap, seed_spread=spread, met=gap > spread))
        summary['ordering'] = margins
        summary['target_ordering_met'] = all(m['met'] for m in margins)
    return summary


def _fmt(value: Optional[float]) -> str:
    return '–' if value is None else f'{value:.3f}'


def to_markdown(summary: dict, seeds: Sequence[int], title: str) -> str:
    """One comparison table (one metric block) with the ratio and target verdicts."""
    metrics, key = summary['metrics'], summary['metrics'][0]
    names = [METRIC_LABELS.get(m, m) for m in metrics]
    head = ['supervision'] + [f'seed {s}: ' + ' / '.join(names) for s in seeds] + \
        [f'mean {n}' for n in names] + [f'{names[0]} seed spread']
    lines = [f'### {title}', '', '| ' + ' | '.join(head) + ' |', '|' + '---|' * len(head)]
    for row in summary['table'].values():
        cells = [row['name']]
        for s in seeds:
            values = row['per_seed'][s]
            cells.append('failed' if values is None else
                         ' / '.join(_fmt(values.get(m)) for m in metrics))
        cells += [_fmt(row.get(f'mean_{m}')) for m in metrics] + [_fmt(row.get(f'spread_{key}'))]
        lines.append('| ' + ' | '.join(cells) + ' |')
    lines.append('')
    if 'ratio_1_to_4' in summary:
        ratio = summary['ratio_1_to_4']
        lines.append('Ratio (1)/(4) of the means: ' + ', '.join(
            f'{n} {_fmt(ratio[m])}' for m, n in zip(metrics, names)) +
            f' — target {names[0]} >= {TARGET_RATIO}: '
            f'**{"met" if summary["target_ratio_met"] else "missed"}**.')
    if 'ordering' in summary:
        gaps = '; '.join(f'{a} - {b}: {m["gap"]:+.3f} vs seed spread {m["seed_spread"]:.3f}'
                         for (a, b), m in zip((('(1)', '(2)'), ('(2)', '(3)')),
                                              summary['ordering']))
        lines.append(f'Ordering (1) > (2) > (3) by more than the seed spread (mean {names[0]}): '
                     f'{gaps} — **{"met" if summary["target_ordering_met"] else "missed"}**.')
    lines.append('')
    return '\n'.join(lines)


REPORTS = (
    ('mask_ap', METRICS, 'Mask AP per category (YouTube-VIS)'),
    ('mask_ap_class_agnostic', METRICS, 'Class-agnostic mask AP (categories merged)'),
    ('best_prediction_iou', ('mean', 'above_0_5', 'class_accuracy'),
     'Best-prediction mask IoU per GT object (class and score ignored), and how often that '
     'prediction has the object\'s category'),
)


def main(argv: Optional[Sequence[str]] = None) -> dict:
    args = parse_args(argv)
    start = time.perf_counter()
    out_dir = osp.abspath(args.out_dir)
    os.makedirs(out_dir, exist_ok=True)
    # generate once, before the parallel runs, so they never race on the files
    settings = SyntheticVISSettings(num_train_videos=args.train_videos,
                                    num_val_videos=args.val_videos, num_frames=args.frames)
    if not synthetic_dataset_exists(args.data_root, args.data_seed, settings):
        generate_synthetic_vis(args.data_root, args.data_seed, settings)

    jobs = {(v, s): osp.join(out_dir, v, f'seed{s}') for v in args.variants for s in args.seeds}
    runs: Dict[str, Dict[int, dict]] = {v: {} for v in args.variants}
    with ThreadPoolExecutor(max_workers=args.parallel) as pool:
        futures = {
            pool.submit(run_one, run_command(args, v, s, d), d, args.threads, args.rerun): (v, s)
            for (v, s), d in jobs.items()
        }
        for future in tqdm(as_completed(futures), total=len(futures), desc='training runs'):
            variant, seed = futures[future]
            runs[variant][seed] = future.result()
            if 'error' in runs[variant][seed]:
                tqdm.write(f'{variant} seed {seed} failed: {runs[variant][seed]["error"]}')

    command = 'python ' + ' '.join([osp.relpath(__file__, os.getcwd())] +
                                   list(argv if argv is not None else sys.argv[1:]))
    wall_s = time.perf_counter() - start
    summaries = {source: summarise(runs, args.seeds, source, metrics)
                 for source, metrics, _ in REPORTS}
    markdown = '\n'.join(to_markdown(summaries[source], args.seeds, title)
                         for source, _, title in REPORTS)
    markdown += f'\nCommand: `{command}` (wall time {wall_s / 60:.1f} min).\n'
    result = dict(command=command, wall_s=wall_s, summaries=summaries, runs=runs)
    with open(osp.join(out_dir, 'comparison.json'), 'w') as handle:
        json.dump(result, handle, indent=2, default=str)
    with open(osp.join(out_dir, 'comparison.md'), 'w') as handle:
        handle.write(markdown)
    print(markdown)
    return result


if __name__ == '__main__':
    main()
