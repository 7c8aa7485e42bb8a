"""Training-step time and memory of one model on a synthetic batch, and the comparison of two.

Used by ``tools/analysis_tools/benchmark_model.py``, which runs :func:`run_worker` in a fresh
process per model and round and compares box-supervised MaskFreeVIS with mask-supervised
``Mask2FormerVideo`` (:func:`summarise_rounds`, :func:`format_report`).
"""

import math
import os.path as osp
import statistics
import time
from typing import Dict, List, Sequence, Tuple

import torch
from mmengine.config import Config
from mmengine.optim import OptimWrapper, build_optim_wrapper
from mmengine.utils import get_installed_path

from maskfreevis.testing import ClipSpec, drop_gt_masks, synthetic_batch
from maskfreevis_demo.analysis.profiling import saved_tensor_bytes

__all__ = [
    'MODEL_KINDS',
    'benchmark_batch',
    'build_model_and_optimizer',
    'run_worker',
    'summarise_rounds',
    'format_report',
    'stock_config_path',
]

# kind -> how it is supervised (the report's row label)
MODEL_KINDS = {
    'maskfreevis': 'MaskFreeVIS, boxes (proj+pair+TK)',
    'mask2former': 'Mask2FormerVideo, masks (BCE+Dice)',
}
# (key of the summary, column title, format)
COLUMNS = (
    ('median_step_s', 'step wall (s)', '.2f'),
    ('median_cpu_s', 'step CPU (s)', '.2f'),
    ('median_peak_mib', 'peak mem (MiB)', '.0f'),
    ('max_peak_mib', 'max peak (MiB)', '.0f'),
    ('saved_mib', 'saved for bwd (MiB)', '.0f'),
)
TARGET_RATIO = 1.25


def benchmark_batch(
    clips: int, frames: int, size: Tuple[int, int], objects: int, with_masks: bool = True
) -> dict:
    """The benchmark's batch: ``clips`` synthetic clips of ``frames`` frames of ``size (h, w)``
    with ``objects`` moving ellipses each (:mod:`maskfreevis.testing`), GT masks when asked."""
    batch = synthetic_batch(
        [
            ClipSpec(
                frames, tuple(size), num_objects=objects, with_masks=True, seed=clip, video_id=clip
            )
            for clip in range(clips)
        ]
    )
    return batch if with_masks else drop_gt_masks(batch)


def build_model_and_optimizer(
    kind: str, config_path: str, frames: int, device: str
) -> Tuple[torch.nn.Module, OptimWrapper]:
    """The config's model (no pretrained weights) in training mode and its optimiser.

    The optimiser is the config's (AdamW, grad clip) as a plain ``OptimWrapper`` on CPU, an
    ``AmpOptimWrapper`` with dynamic loss scaling on CUDA. MaskFreeVIS trains with the TK term at
    full weight (no warm-up); the stock head gets ``num_frames`` (it needs T in its config).

    Args:
        kind: one of :data:`MODEL_KINDS`.
        config_path: the model's config file.
        frames: frames per clip.
        device: ``'cpu'`` or ``'cuda'``.
    """
    from mmdet.registry import MODELS
    from mmdet.utils import register_all_modules

    if kind not in MODEL_KINDS:
        raise ValueError(f'unknown model kind {kind!r}; expected one of {list(MODEL_KINDS)}')
    register_all_modules()
    cfg = Config.fromfile(config_path)
    if kind == 'maskfreevis':
        cfg.model.track_head.criterion.warmup_iters = {}
    else:
        cfg.model.track_head.num_frames = frames
    cfg.model.init_cfg = None
    cfg.model.backbone.init_cfg = None
    model = MODELS.build(cfg.model).to(device)
    model.train()
    optim_cfg = cfg.optim_wrapper.copy()
    optim_cfg.type = 'AmpOptimWrapper' if device == 'cuda' else 'OptimWrapper'
    optim_cfg.pop('loss_scale', None)
    if device == 'cuda':
        optim_cfg.loss_scale = 'dynamic'
    return model, build_optim_wrapper(model, optim_cfg)


def _proc_status_kib(key: str) -> int:
    with open('/proc/self/status') as status:
        for line in status:
            if line.startswith(key + ':'):
                return int(line.split()[1])
    raise KeyError(key)


def _reset_peak(device: str) -> int:
    """Reset the peak-memory counter; returns the bytes in use now."""
    if device == 'cuda':
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
        return torch.cuda.memory_allocated()
    with open('/proc/self/clear_refs', 'w') as clear_refs:
        clear_refs.write('5')  # reset VmHWM to the current resident set
    return _proc_status_kib('VmRSS') * 1024


def _peak(device: str) -> int:
    """Peak bytes since :func:`_reset_peak` (CUDA allocations, or the process's peak RSS)."""
    if device == 'cuda':
        torch.cuda.synchronize()
        return torch.cuda.max_memory_allocated()
    return _proc_status_kib('VmHWM') * 1024


def run_worker(
    kind: str,
    config_path: str,
    clips: int,
    frames: int,
    size: Tuple[int, int],
    objects: int,
    repeats: int,
    warmup: int,
    device: str = 'cpu',
    threads: int = 1,
) -> Dict:
    """Time ``repeats`` training steps (after ``warmup`` untimed ones) of one model.

    A step is ``model.train_step`` (preprocess, forward, losses, backward, optimiser step);
    MaskFreeVIS gets the batch without masks, the stock model with them.

    Returns:
        ``times_s`` and ``cpu_times_s`` (wall and process CPU seconds per step), ``peaks_mib``
        (peak memory growth per step: CUDA allocations or peak RSS), ``saved_mib`` (memory saved
        for backward in one step, parameters excluded), ``loss_terms`` and ``finite``.
    """
    if threads:
        torch.set_num_threads(threads)
    torch.manual_seed(0)
    model, optim_wrapper = build_model_and_optimizer(kind, config_path, frames, device)
    batch = benchmark_batch(clips, frames, size, objects, with_masks=kind != 'maskfreevis')
    times, cpu_times, peaks = [], [], []
    for step in range(warmup + repeats):
        before = _reset_peak(device)
        start, cpu_start = time.perf_counter(), time.process_time()
        losses = model.train_step(batch, optim_wrapper)
        peak = _peak(device) - before
        elapsed, cpu_elapsed = time.perf_counter() - start, time.process_time() - cpu_start
        if step >= warmup:
            times.append(elapsed)
            cpu_times.append(cpu_elapsed)
            peaks.append(peak / 2**20)
    finite = all(torch.isfinite(value).all() for value in losses.values())
    resident = list(model.parameters()) + list(model.buffers())
    saved = saved_tensor_bytes(lambda: model.train_step(batch, optim_wrapper), exclude=resident)
    return dict(
        model=kind,
        times_s=times,
        cpu_times_s=cpu_times,
        peaks_mib=peaks,
        saved_mib=saved / 2**20,
        loss_terms=len(losses) - 1,
        finite=bool(finite),
    )


def summarise_rounds(reports: Dict[str, List[Dict]]) -> Tuple[Dict[str, Dict], Dict[str, float]]:
    """Medians over every step of every round per model, and the ratios MaskFreeVIS / stock.

    Args:
        reports: kind -> the :func:`run_worker` reports of its rounds (both kinds present).

    Returns:
        ``summary`` (kind -> the :data:`COLUMNS` keys, ``steps``, ``loss_terms``, ``finite``)
        and ``ratios`` (column key -> MaskFreeVIS / Mask2Former; NaN where the stock model's
        value is 0, as the CPU's peak RSS growth is in a process whose high-water mark an
        earlier, larger allocation already set).
    """
    summary = {}
    for kind, runs in reports.items():
        summary[kind] = dict(
            median_step_s=statistics.median(t for run in runs for t in run['times_s']),
            median_cpu_s=statistics.median(t for run in runs for t in run['cpu_times_s']),
            median_peak_mib=statistics.median(p for run in runs for p in run['peaks_mib']),
            max_peak_mib=max(p for run in runs for p in run['peaks_mib']),
            saved_mib=statistics.median(run['saved_mib'] for run in runs),
            steps=sum(len(run['times_s']) for run in runs),
            loss_terms=runs[0]['loss_terms'],
            finite=all(run['finite'] for run in runs),
        )
    ours, stock = summary['maskfreevis'], summary['mask2former']
    ratios = {key: ours[key] / stock[key] if stock[key] > 0 else math.nan for key, _, _ in COLUMNS}
    return summary, ratios


def format_report(
    summary: Dict[str, Dict], ratios: Dict[str, float], setting: str, memory: str
) -> str:
    """The comparison as a plain-text table with the target verdict (time and peak memory at
    most :data:`TARGET_RATIO` times the stock model's)."""
    lines = [
        f'Training step ({setting}); medians over {summary["maskfreevis"]["steps"]} steps '
        f'per model; peak mem = {memory} during the step',
        f'{"model":<38}' + ''.join(f'{title:>21}' for _, title, _ in COLUMNS) + '  loss terms',
    ]
    for kind, label in MODEL_KINDS.items():
        values = summary[kind]
        lines.append(
            f'{label:<38}'
            + ''.join(f'{values[key]:>21{fmt}}' for key, _, fmt in COLUMNS)
            + f'{values["loss_terms"]:>12}'
        )
    lines.append(
        f'{"ratio MaskFreeVIS / Mask2FormerVideo":<38}'
        + ''.join(f'{ratios[key]:>21.3f}' for key, _, _ in COLUMNS)
    )
    checked = [
        ratios['median_step_s'],
        ratios['median_cpu_s'],
        ratios['median_peak_mib'],
        ratios['max_peak_mib'],
    ]
    if any(math.isnan(ratio) for ratio in checked):
        verdict = 'not measured (a stock value of 0)'
    else:
        verdict = 'met' if max(checked) <= TARGET_RATIO else 'MISSED'
    lines.append(
        f'targets: time <= {TARGET_RATIO}x (wall {ratios["median_step_s"]:.2f}x, CPU '
        f'{ratios["median_cpu_s"]:.2f}x), peak memory <= {TARGET_RATIO}x (median '
        f'{ratios["median_peak_mib"]:.2f}x, max {ratios["max_peak_mib"]:.2f}x) -> '
        f'{verdict}'
    )
    return '\n'.join(lines)


def stock_config_path(relative: Sequence[str]) -> str:
    """A config shipped inside the installed mmdet (``.mim/configs/<relative>``)."""
    return osp.join(get_installed_path('mmdet'), '.mim', 'configs', *relative)
