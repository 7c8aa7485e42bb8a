"""Compare supervisions of one model (boxes with or without the colour terms, full masks).

Every run is one ``tools/run_demo.py`` process writing ``results.json``; this module runs them
(reusing finished ones), summarises the results per variant over training seeds and checks the
targets: (1) reaches :data:`TARGET_RATIO` of the fully supervised (4), and (1) and (2) beat (3)
by more than the seed spread; (1) vs (2) is reported.
"""

import json
import os
import os.path as osp
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from typing import Dict, List, Optional, Sequence, Tuple

from tqdm import tqdm

__all__ = [
    'VARIANTS',
    'VARIANT_CONFIGS',
    'METRICS',
    'REPORTS',
    'TARGET_RATIO',
    'run_one',
    'run_all',
    'summarise',
    'to_markdown',
    'write_comparison',
]

# variant -> its label
VARIANTS = {
    'maskfreevis': '(1) boxes: proj + pair + TK (MaskFreeVIS)',
    'no_tk': '(2) boxes: proj + pair, no TK',
    'proj_only': '(3) boxes: projection only',
    'mask_sup': '(4) full mask supervision (upper bound)',
}
# dataset of tools/run_demo.py -> variant -> its config file (next to the demo config); the
# real-imagery ones are two-stage (an image stage, shared by (1) and (2), then the video stage)
VARIANT_CONFIGS = {
    'real-imagery': {
        'maskfreevis': 'maskfreevis_mobilenetv2_1xb4-400iter_realimagery.py',
        'no_tk': 'maskfreevis-notk_mobilenetv2_1xb4-400iter_realimagery.py',
        'proj_only': 'maskfreevis-projonly_mobilenetv2_1xb4-400iter_realimagery.py',
        'mask_sup': 'maskfreevis-masksup_mobilenetv2_1xb4-400iter_realimagery.py',
    },
    'synthetic': {
        'maskfreevis': 'maskfreevis_r18_1xb4-800iter_synthetic.py',
        'no_tk': 'maskfreevis-notk_r18_1xb4-800iter_synthetic.py',
        'proj_only': 'maskfreevis-projonly_r18_1xb4-800iter_synthetic.py',
        'mask_sup': 'maskfreevis-masksup_r18_1xb4-800iter_synthetic.py',
    },
}
METRICS = ('AP', 'AP50', 'AP75')
METRIC_LABELS = dict(mean='IoU', above_0_5='share IoU > 0.5', class_accuracy='its class right')
TARGET_RATIO = 0.85
# (block of results.json, its metrics, table title)
REPORTS = (
    ('mask_ap', METRICS, 'Mask AP per category (YouTube-VIS)'),
    ('mask_ap_class_agnostic', METRICS, 'Class-agnostic mask AP (categories merged)'),
    (
        'best_prediction_iou',
        ('mean', 'above_0_5', 'class_accuracy'),
        'Best-prediction mask IoU per GT object (class and score ignored), and how often that '
        "prediction has the object's category",
    ),
)


def run_one(command: List[str], out_dir: str, threads: int, rerun: bool = False) -> dict:
    """Run one training + evaluation; returns its ``results.json`` or an error record.

    A run whose ``results.json`` was written by the same command line is reused unless
    ``rerun``, so an interrupted comparison continues where it stopped.

    Args:
        command: the run's command line; it writes ``out_dir/results.json``.
        out_dir: the run's folder (``run.log`` holds its output).
        threads: ``OMP_NUM_THREADS`` / ``MKL_NUM_THREADS`` of the run.
        rerun: run again even when a finished run of the same command exists.

    Returns:
        The results (with ``reused=True`` when reused), or ``error`` and ``wall_s``.
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
        process = subprocess.run(
            command, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=os.getcwd()
        )
    if process.returncode != 0 or not osp.isfile(results_path):
        return dict(
            error=f'exit code {process.returncode}, see {osp.join(out_dir, "run.log")}',
            wall_s=time.perf_counter() - start,
        )
    with open(command_path, 'w') as handle:
        json.dump(command, handle)
    with open(results_path) as handle:
        return json.load(handle)


def run_all(
    jobs: Dict[Tuple[str, int], Tuple[List[str], str]],
    parallel: int,
    threads: int,
    rerun: bool = False,
) -> Dict[str, Dict[int, dict]]:
    """Run every ``(variant, seed) -> (command, out_dir)`` job, ``parallel`` at a time.

    Returns:
        variant -> seed -> the run's results (see :func:`run_one`); failures are reported on the
        progress bar and kept as error records.
    """
    runs: Dict[str, Dict[int, dict]] = {variant: {} for variant, _ in jobs}
    with ThreadPoolExecutor(max_workers=parallel) as pool:
        futures = {
            pool.submit(run_one, command, out_dir, threads, rerun): key
            for key, (command, out_dir) in jobs.items()
        }
        for future in tqdm(as_completed(futures), total=len(futures), desc='training runs'):
            variant, seed = futures[future]
            runs[variant][seed] = future.result()
            if 'error' in runs[variant][seed]:
                tqdm.write(f'{variant} seed {seed} failed: {runs[variant][seed]["error"]}')
    return runs


def summarise(
    runs: Dict[str, Dict[int, dict]],
    seeds: Sequence[int],
    source: str = 'mask_ap',
    metrics: Sequence[str] = METRICS,
) -> dict:
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
        per_seed = {
            seed: (by_seed[seed].get(source) if 'error' not in by_seed[seed] else None)
            for seed in seeds
        }
        complete = all(v is not None for v in per_seed.values())
        row = dict(name=VARIANTS[variant], per_seed=per_seed, complete=complete)
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
            m: (
                method[f'mean_{m}'] / upper[f'mean_{m}']
                if method[f'mean_{m}'] is not None and upper[f'mean_{m}']
                else None
            )
            for m in metrics
        }
        ratio = summary['ratio_1_to_4'][key]
        summary['target_ratio_met'] = ratio is not None and ratio >= TARGET_RATIO
    # (1) and (2) must beat (3) by more than the seed spread; (1) vs (2) is only reported
    pairs = (('maskfreevis', 'proj_only', True), ('no_tk', 'proj_only', True))
    pairs += (('maskfreevis', 'no_tk', False),)
    if all(table.get(k) and table[k]['complete'] for k in ('maskfreevis', 'no_tk', 'proj_only')):
        margins = []
        for better_key, worse_key, is_target in pairs:
            better, worse = table[better_key], table[worse_key]
            spread = max(better[f'spread_{key}'], worse[f'spread_{key}'])
            gap = better[f'mean_{key}'] - worse[f'mean_{key}']
            margins.append(
                dict(
                    better=better_key,
                    worse=worse_key,
                    gap=gap,
                    seed_spread=spread,
                    met=gap > spread,
                    target=is_target,
                )
            )
        summary['ordering'] = margins
        summary['target_ordering_met'] = all(m['met'] for m in margins if m['target'])
    return summary


def _fmt(value: Optional[float]) -> str:
    return '–' if value is None else f'{value:.3f}'


def to_markdown(summary: dict, seeds: Sequence[int], title: str) -> str:
    """One comparison table (one metric block) with the ratio and target verdicts."""
    metrics, key = summary['metrics'], summary['metrics'][0]
    names = [METRIC_LABELS.get(m, m) for m in metrics]
    head = (
        ['supervision']
        + [f'seed {s}: ' + ' / '.join(names) for s in seeds]
        + [f'mean {n}' for n in names]
        + [f'{names[0]} seed spread']
    )
    lines = [f'### {title}', '', '| ' + ' | '.join(head) + ' |', '|' + '---|' * len(head)]
    for row in summary['table'].values():
        cells = [row['name']]
        for s in seeds:
            values = row['per_seed'][s]
            cells.append(
                'failed' if values is None else ' / '.join(_fmt(values.get(m)) for m in metrics)
            )
        cells += [_fmt(row.get(f'mean_{m}')) for m in metrics] + [_fmt(row.get(f'spread_{key}'))]
        lines.append('| ' + ' | '.join(cells) + ' |')
    lines.append('')
    if 'ratio_1_to_4' in summary:
        ratio = summary['ratio_1_to_4']
        lines.append(
            'Ratio (1)/(4) of the means: '
            + ', '.join(f'{n} {_fmt(ratio[m])}' for m, n in zip(metrics, names))
            + f' — target {names[0]} >= {TARGET_RATIO}: '
            f'**{"met" if summary["target_ratio_met"] else "missed"}**.'
        )
    if 'ordering' in summary:
        number = {variant: label.split(' ')[0] for variant, label in VARIANTS.items()}
        gaps = '; '.join(
            f'{number[m["better"]]} - {number[m["worse"]]}: {m["gap"]:+.3f} vs seed spread '
            f'{m["seed_spread"]:.3f}{"" if m["target"] else " (reported)"}'
            for m in summary['ordering']
        )
        lines.append(
            f'(1) > (3) and (2) > (3) by more than the seed spread (mean {names[0]}): '
            f'{gaps} — **{"met" if summary["target_ordering_met"] else "missed"}**.'
        )
    lines.append('')
    return '\n'.join(lines)


def write_comparison(
    out_dir: str,
    runs: Dict[str, Dict[int, dict]],
    seeds: Sequence[int],
    command: str,
    wall_s: float,
) -> Tuple[dict, str]:
    """Summarise every block of :data:`REPORTS`; write ``comparison.json`` and
    ``comparison.md`` into ``out_dir``.

    Returns:
        The json content (``command``, ``wall_s``, ``summaries``, ``runs``) and the markdown.
    """
    summaries = {source: summarise(runs, seeds, source, metrics) for source, metrics, _ in REPORTS}
    markdown = '\n'.join(
        to_markdown(summaries[source], seeds, title) for source, _, title in REPORTS
    )
    markdown += f'\nCommand: `{command}` (wall time {wall_s / 60:.1f} min).\n'
    result = dict(command=command, wall_s=wall_s, summaries=summaries, runs=runs)
    with open(osp.join(out_dir, 'comparison.json'), 'w') as handle:
        json.dump(result, handle, indent=2, default=str)
    with open(osp.join(out_dir, 'comparison.md'), 'w') as handle:
        handle.write(markdown)
    return result, markdown
