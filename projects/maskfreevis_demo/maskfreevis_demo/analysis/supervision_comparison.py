"""Compare supervisions of one model (boxes with or without the colour terms, full masks).

Every run is one ``tools/run_demo.py`` process writing ``results.json`` and the per-video matches
of its evaluation (``eval_records.json``); this module runs them (reusing finished ones) and
summarises them. The design is paired: for a training seed every variant draws the same
initialisation and data order, and variants with the same first stage share it; all are scored
on the same validation videos. So each contrast is a per-seed difference, reported with its mean,
the 95 % t interval over seeds (training noise) and the 95 % bootstrap interval over the
validation videos (evaluation noise, :mod:`maskfreevis.evaluation.video_bootstrap`). Targets:
(1) - (3) above 0 by both intervals, and (1) reaching :data:`TARGET_RATIO` of the fully
supervised (4); the other contrasts are reported.
"""

import json
import math
import os
import os.path as osp
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from typing import Dict, List, Optional, Sequence, Tuple

from scipy.stats import t as student_t
from tqdm import tqdm

from maskfreevis.evaluation.video_bootstrap import bootstrap_average_precision, percentile_interval
from maskfreevis.utils.checkpoint_files import write_text_atomically

from ..runner import EVAL_RECORDS_FILE

__all__ = [
    'VARIANTS',
    'VARIANT_CONFIGS',
    'METRICS',
    'REPORTS',
    'TARGET_RATIO',
    'CONTRASTS',
    'finished_command',
    'refuse_to_replace_finished_runs',
    'run_one',
    'run_all',
    'paired_difference',
    'video_bootstrap',
    'summarise',
    'load_records',
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
        'maskfreevis': 'maskfreevis_mobilenetv2_1xb4-200iter_realimagery.py',
        'no_tk': 'maskfreevis-notk_mobilenetv2_1xb4-200iter_realimagery.py',
        'proj_only': 'maskfreevis-projonly_mobilenetv2_1xb4-200iter_realimagery.py',
        'mask_sup': 'maskfreevis-masksup_mobilenetv2_1xb4-200iter_realimagery.py',
    },
    'synthetic': {
        'maskfreevis': 'maskfreevis_r18_1xb4-800iter_synthetic.py',
        'no_tk': 'maskfreevis-notk_r18_1xb4-800iter_synthetic.py',
        'proj_only': 'maskfreevis-projonly_r18_1xb4-800iter_synthetic.py',
        'mask_sup': 'maskfreevis-masksup_r18_1xb4-800iter_synthetic.py',
    },
}
# photo-textured objects train the real-imagery demo's configs
VARIANT_CONFIGS['real-imagery-textured'] = VARIANT_CONFIGS['real-imagery']
# (better, worse, role): the paired contrasts; 'target' must lie above 0
CONTRASTS = (
    ('maskfreevis', 'proj_only', 'target'),
    ('maskfreevis', 'no_tk', 'reported'),
    ('no_tk', 'proj_only', 'reported'),
)
BOOTSTRAP_DRAWS = 1000
METRICS = ('AP', 'AP50', 'AP75')
METRIC_LABELS = dict(mean='IoU', above_0_5='share IoU > 0.5', class_accuracy='its class right')
TARGET_RATIO = 0.70
# block of results.json -> its view in eval_records.json
RECORD_VIEWS = dict(mask_ap='per_category', mask_ap_class_agnostic='class_agnostic')
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


def finished_command(out_dir: str) -> Optional[List[str]]:
    """The command line of the finished run in ``out_dir`` (its ``command.json`` beside a
    ``results.json``), or None where no run finished there."""
    results_path = osp.join(out_dir, 'results.json')
    command_path = osp.join(out_dir, 'command.json')
    if not (osp.isfile(results_path) and osp.isfile(command_path)):
        return None
    with open(command_path) as handle:
        return json.load(handle)


def _replacement_refused(conflicts: List[Tuple[str, List[str], List[str]]]) -> FileExistsError:
    """The error for ``(out_dir, finished command, asked command)`` conflicts (at least one)."""
    out_dir, finished, command = conflicts[0]
    others = f' (and {len(conflicts) - 1} more folders)' if len(conflicts) > 1 else ''
    return FileExistsError(
        f'{out_dir}{others} holds a finished run of another command; nothing was started.\n'
        f'  finished: {" ".join(finished)}\n'
        f'  asked:    {" ".join(command)}\n'
        'Pass --rerun to replace such runs, or choose another --out-dir.'
    )


def refuse_to_replace_finished_runs(jobs: Dict[Tuple[str, int], Tuple[List[str], str]]) -> None:
    """Raise ``FileExistsError`` when a job's folder holds a finished run of another command.

    Checked for every job before any starts: a comparison asked to continue must not delete
    earlier results because a setting (or the checkout's path) differs.
    """
    conflicts = []
    for command, out_dir in jobs.values():
        finished = finished_command(out_dir)
        if finished is not None and finished != command:
            conflicts.append((out_dir, finished, command))
    if conflicts:
        raise _replacement_refused(conflicts)


def run_one(command: List[str], out_dir: str, threads: int, rerun: bool = False) -> dict:
    """Run one training + evaluation; returns its ``results.json`` or an error record.

    A run whose ``results.json`` was written by the same command line is reused unless
    ``rerun``, so an interrupted comparison continues where it stopped. A finished run of
    another command is replaced only with ``rerun`` (``FileExistsError`` otherwise).

    Args:
        command: the run's command line; it writes ``out_dir/results.json``.
        out_dir: the run's folder (``run.log`` holds its output).
        threads: ``OMP_NUM_THREADS`` / ``MKL_NUM_THREADS`` of the run.
        rerun: run again even when a finished run (of this or another command) exists.

    Returns:
        The results (with ``reused=True`` when reused), or ``error`` and ``wall_s``.
    """
    os.makedirs(out_dir, exist_ok=True)
    results_path = osp.join(out_dir, 'results.json')
    command_path = osp.join(out_dir, 'command.json')
    if not rerun:
        finished = finished_command(out_dir)
        if finished == command:
            with open(results_path) as handle:
                return dict(json.load(handle), reused=True)
        if finished is not None:
            raise _replacement_refused([(out_dir, finished, command)])
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
    write_text_atomically(command_path, json.dumps(command))
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

    Raises:
        FileExistsError: without ``rerun``, when a job's folder holds a finished run of another
            command (checked before any job starts).
    """
    if not rerun:
        refuse_to_replace_finished_runs(jobs)
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


def paired_difference(better: Sequence[float], worse: Sequence[float]) -> dict:
    """Per-seed differences of two variants trained with the same seeds, and their mean's 95 %
    t interval (``ci`` is None with fewer than 2 seeds)."""
    differences = [b - w for b, w in zip(better, worse, strict=True)]
    num = len(differences)
    mean = sum(differences) / num
    result = dict(per_seed=differences, mean=mean, sd=None, ci=None, n=num)
    if num >= 2:
        sd = math.sqrt(sum((d - mean) ** 2 for d in differences) / (num - 1))
        half = float(student_t.ppf(0.975, num - 1)) * sd / math.sqrt(num)
        result.update(sd=sd, ci=[mean - half, mean + half])
    return result


def video_bootstrap(
    records: Dict[str, Dict[int, dict]],
    seeds: Sequence[int],
    num_draws: int = BOOTSTRAP_DRAWS,
    seed: int = 0,
) -> dict:
    """Evaluation noise: the seed-mean AP of every variant and every contrast over the same
    bootstrap draws of the validation videos (paired across variants and seeds).

    Args:
        records: variant -> seed -> :func:`~maskfreevis.evaluation.video_bootstrap.
            video_match_records` of the run (one AP view).
        seeds: the training seeds.

    Returns:
        ``variants``: variant -> 95 % percentile interval of its seed-mean AP; ``contrasts``:
        ``'<better> - <worse>'`` -> the interval of the difference of seed means;
        ``num_draws``, ``num_videos``.
    """
    variants = list(records)
    models = [records[v][s] for v in variants for s in seeds]
    draws = bootstrap_average_precision(models, num_draws, seed)
    means = draws.reshape(num_draws, len(variants), len(seeds)).mean(axis=2)
    result = dict(
        num_draws=num_draws,
        num_videos=len(models[0]['video_ids']),
        variants={v: percentile_interval(means[:, i]) for i, v in enumerate(variants)},
        contrasts={},
    )
    for better, worse, _ in CONTRASTS:
        if better in variants and worse in variants:
            difference = means[:, variants.index(better)] - means[:, variants.index(worse)]
            result['contrasts'][f'{better} - {worse}'] = percentile_interval(difference)
    return result


def summarise(
    runs: Dict[str, Dict[int, dict]],
    seeds: Sequence[int],
    source: str = 'mask_ap',
    metrics: Sequence[str] = METRICS,
    records: Optional[Dict[str, Dict[int, dict]]] = None,
) -> dict:
    """Per variant: metrics per seed, means, seed spread; ratio (1)/(4); paired contrasts.

    Args:
        runs: variant -> seed -> the run's ``results.json`` (or ``{'error': ...}``).
        seeds: the training seeds.
        source: which block of ``results.json`` to read (``mask_ap``, ``mask_ap_class_agnostic``,
            ``best_prediction_iou``).
        metrics: keys of that block; ratio and contrasts are computed on ``metrics[0]``.
        records: variant -> seed -> per-video matches of this AP view (None: no bootstrap).

    Returns:
        ``table`` (per variant), ``ratio_1_to_4`` and ``target_ratio_met`` (when (1) and (4)
        are complete), ``contrasts`` (:data:`CONTRASTS` with both variants complete, each a
        :func:`paired_difference` plus ``video_ci`` when bootstrapped), ``bootstrap``, and the
        verdicts ``target_contrast_met`` ((1) - (3) above 0 by both intervals) and
        ``no_collapse`` ((1) - (3) not below 0 by both intervals).
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
    complete = [
        v for v in table if table[v]['complete'] and table[v].get(f'mean_{key}') is not None
    ]
    bootstrap = None
    if records is not None and all(
        records.get(v, {}).get(s) is not None for v in complete for s in seeds
    ):
        bootstrap = video_bootstrap({v: records[v] for v in complete}, seeds)
        summary['bootstrap'] = bootstrap
    contrasts = {}
    for better, worse, role in CONTRASTS:
        if better not in complete or worse not in complete:
            continue
        values = {v: [table[v]['per_seed'][s][key] for s in seeds] for v in (better, worse)}
        contrast = dict(paired_difference(values[better], values[worse]), role=role)
        if bootstrap is not None:
            contrast['video_ci'] = bootstrap['contrasts'][f'{better} - {worse}']
        contrasts[f'{better} - {worse}'] = contrast
    summary['contrasts'] = contrasts
    headline = contrasts.get('maskfreevis - proj_only')
    if headline is not None and headline['ci'] is not None:
        lows = [headline['ci'][0]] + ([headline['video_ci'][0]] if 'video_ci' in headline else [])
        highs = [headline['ci'][1]] + ([headline['video_ci'][1]] if 'video_ci' in headline else [])
        summary['target_contrast_met'] = min(lows) > 0
        summary['no_collapse'] = min(highs) >= 0
    return summary


def _fmt(value: Optional[float]) -> str:
    return '–' if value is None else f'{value:.3f}'


def _interval(interval: Optional[Sequence[float]]) -> str:
    return '–' if interval is None else f'[{interval[0]:+.3f}, {interval[1]:+.3f}]'


def to_markdown(summary: dict, seeds: Sequence[int], title: str) -> str:
    """One comparison table (one metric block), its paired contrasts and the target verdicts."""
    metrics, key = summary['metrics'], summary['metrics'][0]
    names = [METRIC_LABELS.get(m, m) for m in metrics]
    head = (
        ['supervision']
        + [f'seed {s}: ' + ' / '.join(names) for s in seeds]
        + [f'mean {n}' for n in names]
        + [f'{names[0]} seed spread']
    )
    bootstrap = summary.get('bootstrap')
    if bootstrap:
        head.append(f'{names[0]}: 95 % interval over videos')
    lines = [f'### {title}', '', '| ' + ' | '.join(head) + ' |', '|' + '---|' * len(head)]
    for variant, row in summary['table'].items():
        cells = [row['name']]
        for s in seeds:
            values = row['per_seed'][s]
            cells.append(
                'failed' if values is None else ' / '.join(_fmt(values.get(m)) for m in metrics)
            )
        cells += [_fmt(row.get(f'mean_{m}')) for m in metrics] + [_fmt(row.get(f'spread_{key}'))]
        if bootstrap:
            interval = bootstrap['variants'].get(variant)
            cells.append('–' if interval is None else f'[{interval[0]:.3f}, {interval[1]:.3f}]')
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
        lines.append('')
    if summary.get('contrasts'):
        number = {variant: label.split(' ')[0] for variant, label in VARIANTS.items()}
        lines += [
            f'Paired contrasts of {names[0]} (same seeds, same data order, same videos): per-seed '
            'differences, their mean, its 95 % t interval over seeds (training noise) and its 95 % '
            'bootstrap interval over the validation videos (evaluation noise).',
            '',
            '| contrast | per seed | mean | 95 % CI over seeds | 95 % CI over videos |',
            '|---|---|---|---|---|',
        ]
        for name, contrast in summary['contrasts'].items():
            better, worse = name.split(' - ')
            lines.append(
                f'| {number[better]} - {number[worse]} '
                f'| {" / ".join(f"{d:+.3f}" for d in contrast["per_seed"])} '
                f'| {contrast["mean"]:+.3f} | {_interval(contrast["ci"])} '
                f'| {_interval(contrast.get("video_ci"))} |'
            )
        lines.append('')
    if 'target_contrast_met' in summary:
        lines.append(
            '(1) - (3) above 0 by both intervals: '
            f'**{"met" if summary["target_contrast_met"] else "missed"}**; (1) not below (3) '
            f'beyond the noise (no collapse): **{"met" if summary["no_collapse"] else "missed"}**.'
        )
    lines.append('')
    return '\n'.join(lines)


def load_records(
    run_dirs: Dict[str, Dict[int, str]], view: str
) -> Dict[str, Dict[int, Optional[dict]]]:
    """variant -> seed -> the run's per-video matches of one AP view (``per_category`` or
    ``class_agnostic`` of its ``eval_records.json``), None where the file is missing."""
    records: Dict[str, Dict[int, Optional[dict]]] = {}
    for variant, by_seed in run_dirs.items():
        records[variant] = {}
        for seed, run_dir in by_seed.items():
            path = osp.join(run_dir, EVAL_RECORDS_FILE)
            records[variant][seed] = None
            if osp.isfile(path):
                with open(path) as handle:
                    records[variant][seed] = json.load(handle)[view]
    return records


def write_comparison(
    out_dir: str,
    runs: Dict[str, Dict[int, dict]],
    seeds: Sequence[int],
    command: str,
    wall_s: float,
    run_dirs: Optional[Dict[str, Dict[int, str]]] = None,
) -> Tuple[dict, str]:
    """Summarise every block of :data:`REPORTS`; write ``comparison.json`` and
    ``comparison.md`` into ``out_dir``.

    Args:
        run_dirs: variant -> seed -> the run's folder, where its ``eval_records.json`` gives the
            bootstrap over videos of the AP blocks (None: no bootstrap).

    Returns:
        The json content (``command``, ``wall_s``, ``summaries``, ``runs``) and the markdown.
    """
    summaries = {}
    for source, metrics, _ in REPORTS:
        view = RECORD_VIEWS.get(source)
        records = load_records(run_dirs, view) if run_dirs and view else None
        summaries[source] = summarise(runs, seeds, source, metrics, records)
    markdown = '\n'.join(
        to_markdown(summaries[source], seeds, title) for source, _, title in REPORTS
    )
    markdown += f'\nCommand: `{command}` (wall time {wall_s / 60:.1f} min).\n'
    result = dict(command=command, wall_s=wall_s, summaries=summaries, runs=runs)
    write_text_atomically(
        osp.join(out_dir, 'comparison.json'), json.dumps(result, indent=2, default=str)
    )
    write_text_atomically(osp.join(out_dir, 'comparison.md'), markdown)
    return result, markdown
