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

Example::

    python tools/analysis_tools/benchmark_model.py            # 2 clips x 3 frames, 256 x 384, CPU
    python tools/analysis_tools/benchmark_model.py --device cuda --size 360 640
"""
import argparse
import json
import os
import os.path as osp
import statistics
import subprocess
import sys
import time
from typing import Dict, List, Tuple

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
MASKFREE_CONFIG = osp.join(REPO_ROOT, 'configs', 'maskfreevis',
                           'maskfreevis_r50_8xb2-6k_youtubevis2019.py')
STOCK_CONFIG = ('mask2former_vis', 'mask2former_r50_8xb2-8e_youtubevis2019.py')


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--clips', type=int, default=2, help='clips per batch')
    parser.add_argument('--frames', type=int, default=3, help='frames per clip (T)')
    parser.add_argument('--size', type=int, nargs=2, default=(256, 384), metavar=('H', 'W'))
    parser.add_argument('--objects', type=int, default=3, help='instances per clip')
    parser.add_argument('--repeats', type=int, default=5, help='timed steps per model')
    parser.add_argument('--warmup', type=int, default=1, help='untimed steps first')
    parser.add_argument('--rounds', type=int, default=2,
                        help='subprocess runs per model, alternating the two models')
    parser.add_argument('--device', default='cpu', choices=['cpu', 'cuda'])
    parser.add_argument('--threads', type=int, default=1,
                        help='torch CPU threads (1: CPU time = work, robust to a busy machine; '
                        '0: torch default)')
    parser.add_argument('--json-out', help='also write the results here')
    parser.add_argument('--worker', choices=['maskfreevis', 'mask2former'], help=argparse.SUPPRESS)
    return parser.parse_args()


# --------------------------------------------------------------------------- worker side
def synthetic_batch(clips: int, frames: int, size: Tuple[int, int], objects: int) -> dict:
    """Packed batch (``inputs``: uint8 ``(T, 3, H, W)`` per clip) with boxes, ids and masks."""
    import numpy as np
    import torch
    from mmdet.structures import DetDataSample, TrackDataSample
    from mmdet.structures.mask import BitmapMasks
    from mmengine.structures import InstanceData

    rng = np.random.RandomState(0)
    height, width = size
    ys, xs = np.mgrid[0:height, 0:width] + 0.5
    inputs, samples = [], []
    for clip in range(clips):
        centre = rng.uniform(0.3, 0.7, (objects, 2)) * [width, height]
        velocity = rng.uniform(-0.03, 0.03, (objects, 2)) * [width, height]
        radii = rng.uniform(0.08, 0.2, (objects, 2)) * [width, height]
        colours = rng.randint(0, 256, (objects, 3))
        texture = rng.randint(0, 256, (height, width, 3))
        images, frame_samples = [], []
        for frame in range(frames):
            c = centre + frame * velocity
            masks = ((xs[None] - c[:, 0, None, None]) / radii[:, 0, None, None])**2 + \
                ((ys[None] - c[:, 1, None, None]) / radii[:, 1, None, None])**2 <= 1
            image = texture.copy()
            for k in range(objects):
                image[masks[k]] = colours[k]
            images.append(image.transpose(2, 0, 1).astype(np.uint8))
            boxes = [[np.flatnonzero(m.any(0))[0], np.flatnonzero(m.any(1))[0],
                      np.flatnonzero(m.any(0))[-1] + 1, np.flatnonzero(m.any(1))[-1] + 1]
                     for m in masks]
            gt = InstanceData(
                bboxes=torch.tensor(boxes, dtype=torch.float32),
                labels=torch.arange(objects) % 40,
                instances_ids=torch.arange(1, objects + 1),
                masks=BitmapMasks(masks.astype(np.uint8), height, width))
            sample = DetDataSample(metainfo=dict(
                img_shape=size, ori_shape=size, scale_factor=(1.0, 1.0), frame_id=frame,
                video_id=clip, img_id=clip * frames + frame, video_length=frames,
                ori_video_length=frames))
            sample.gt_instances = gt
            frame_samples.append(sample)
        inputs.append(torch.from_numpy(np.stack(images)))
        track_sample = TrackDataSample()
        track_sample.video_data_samples = frame_samples
        samples.append(track_sample)
    return dict(inputs=inputs, data_samples=samples)


def drop_masks(batch: dict) -> dict:
    """The same batch with every GT mask removed (box-only supervision)."""
    for clip in batch['data_samples']:
        for frame in clip.video_data_samples:
            gt = frame.gt_instances
            frame.gt_instances = gt.__class__(
                bboxes=gt.bboxes, labels=gt.labels, instances_ids=gt.instances_ids)
    return batch


def build_model_and_optimizer(kind: str, frames: int, device: str):
    """R50 model of the shipped (or stock mmdet) config, no pretrained weights."""
    from mmengine.config import Config
    from mmengine.optim import build_optim_wrapper
    from mmengine.utils import get_installed_path
    from mmdet.registry import MODELS
    from mmdet.utils import register_all_modules

    register_all_modules()
    if kind == 'maskfreevis':
        import maskfreevis  # noqa: F401  (registers the plugin)
        cfg = Config.fromfile(MASKFREE_CONFIG)
        cfg.model.track_head.loss_tk.warmup_iters = 0  # the TK term at full weight
    else:
        cfg = Config.fromfile(osp.join(get_installed_path('mmdet'), '.mim', 'configs',
                                       *STOCK_CONFIG))
        cfg.model.track_head.num_frames = frames  # the stock head needs T in its config
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


def saved_for_backward_mib(model, batch: dict, optim_wrapper) -> float:
    """MiB of distinct tensor storages autograd saves for backward in one training step.

    Model parameters and buffers are not counted (they exist anyway); each storage counts once.
    """
    import torch

    resident = {t.untyped_storage().data_ptr()
                for t in list(model.parameters()) + list(model.buffers())}
    saved: Dict[int, int] = {}

    def pack(tensor):
        storage = tensor.untyped_storage()
        if storage.data_ptr() not in resident:
            saved[storage.data_ptr()] = storage.nbytes()
        return tensor

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda tensor: tensor):
        model.train_step(batch, optim_wrapper)
    return sum(saved.values()) / 2**20


def run_worker(args: argparse.Namespace) -> Dict:
    """Time ``repeats`` training steps of one model; returns per-step wall and CPU times (s),
    peak-memory growth (MiB) and the memory saved for backward (MiB)."""
    import torch

    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    model, optim_wrapper = build_model_and_optimizer(args.worker, args.frames, args.device)
    batch = synthetic_batch(args.clips, args.frames, tuple(args.size), args.objects)
    if args.worker == 'maskfreevis':
        batch = drop_masks(batch)
    times, cpu_times, peaks = [], [], []
    for step in range(args.warmup + args.repeats):
        if args.device == 'cuda':
            torch.cuda.synchronize()
            torch.cuda.reset_peak_memory_stats()
            before = torch.cuda.memory_allocated()
        else:
            with open('/proc/self/clear_refs', 'w') as clear_refs:
                clear_refs.write('5')  # reset VmHWM to the current resident set
            before = _proc_status_kib('VmRSS') * 1024
        start, cpu_start = time.perf_counter(), time.process_time()
        losses = model.train_step(batch, optim_wrapper)
        if args.device == 'cuda':
            torch.cuda.synchronize()
            peak = torch.cuda.max_memory_allocated() - before
        else:
            peak = _proc_status_kib('VmHWM') * 1024 - before
        elapsed, cpu_elapsed = time.perf_counter() - start, time.process_time() - cpu_start
        if step >= args.warmup:
            times.append(elapsed)
            cpu_times.append(cpu_elapsed)
            peaks.append(peak / 2**20)
    finite = all(torch.isfinite(value).all() for value in losses.values())
    return dict(model=args.worker, times_s=times, cpu_times_s=cpu_times, peaks_mib=peaks,
                saved_mib=saved_for_backward_mib(model, batch, optim_wrapper),
                loss_terms=len(losses) - 1, finite=bool(finite))


# --------------------------------------------------------------------------- driver side
def run_round(args: argparse.Namespace, kind: str) -> Dict:
    """One fresh subprocess for ``kind``; returns its JSON report."""
    command = [sys.executable, osp.abspath(__file__), '--worker', kind, '--clips',
               str(args.clips), '--frames', str(args.frames), '--size', *map(str, args.size),
               '--objects', str(args.objects), '--repeats', str(args.repeats), '--warmup',
               str(args.warmup), '--device', args.device, '--threads', str(args.threads)]
    env = dict(os.environ, PYTHONPATH=REPO_ROOT + os.pathsep + os.environ.get('PYTHONPATH', ''))
    result = subprocess.run(command, capture_output=True, text=True, env=env)
    if result.returncode != 0:
        raise RuntimeError(f'{kind} worker failed:\n{result.stderr[-4000:]}')
    return json.loads(result.stdout.strip().splitlines()[-1])


def main() -> None:
    args = parse_args()
    if args.worker:
        print(json.dumps(run_worker(args)))
        return
    reports: Dict[str, List[Dict]] = {'maskfreevis': [], 'mask2former': []}
    for _ in range(args.rounds):
        for kind in reports:
            reports[kind].append(run_round(args, kind))
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
            finite=all(run['finite'] for run in runs))
    ours, stock = summary['maskfreevis'], summary['mask2former']
    columns = (('median_step_s', 'step wall (s)', '.2f'), ('median_cpu_s', 'step CPU (s)', '.2f'),
               ('median_peak_mib', 'peak mem (MiB)', '.0f'),
               ('max_peak_mib', 'max peak (MiB)', '.0f'),
               ('saved_mib', 'saved for bwd (MiB)', '.0f'))
    ratios = {key: ours[key] / stock[key] for key, _, _ in columns}
    memory = 'CUDA max allocated' if args.device == 'cuda' else 'peak RSS growth'
    setting = (f'R50, {args.clips} clips x {args.frames} frames, {args.size[0]} x '
               f'{args.size[1]}, {args.objects} objects/clip, device {args.device}, '
               f'{args.threads or "default"} thread(s)')
    print(f'Training step ({setting}); medians over {ours["steps"]} steps per model; '
          f'peak mem = {memory} during the step')
    rows = [('MaskFreeVIS, boxes (proj+pair+TK)', ours),
            ('Mask2FormerVideo, masks (BCE+Dice)', stock)]
    print(f'{"model":<38}' + ''.join(f'{title:>21}' for _, title, _ in columns) + '  loss terms')
    for label, values in rows:
        print(f'{label:<38}' + ''.join(f'{values[key]:>21{fmt}}' for key, _, fmt in columns) +
              f'{values["loss_terms"]:>12}')
    print(f'{"ratio MaskFreeVIS / Mask2FormerVideo":<38}' +
          ''.join(f'{ratios[key]:>21.3f}' for key, _, _ in columns))
    met = max(ratios['median_step_s'], ratios['median_cpu_s'], ratios['median_peak_mib'],
              ratios['max_peak_mib']) <= 1.25
    print(f'targets: time <= 1.25x (wall {ratios["median_step_s"]:.2f}x, CPU '
          f'{ratios["median_cpu_s"]:.2f}x), peak memory <= 1.25x (median '
          f'{ratios["median_peak_mib"]:.2f}x, max {ratios["max_peak_mib"]:.2f}x) -> '
          f'{"met" if met else "MISSED"}')
    if args.json_out:
        with open(args.json_out, 'w') as out:
            json.dump(dict(setting=setting, summary=summary, ratios=ratios, runs=reports), out,
                      indent=2)


if __name__ == '__main__':
    main()
