"""Benchmark the mask-free losses against a release-style F.unfold version.

Side by side in one run, for the TK-Loss (T = 3 all pairs, T = 5 cyclic) and
the colour pairwise loss, on CPU and (when present) CUDA:

* value agreement (relative difference),
* forward + backward time (median of repeats, similarities included),
* bytes saved for backward (unique storages packed by
  ``torch.autograd.graph.saved_tensors_hooks``),
* peak memory of one forward + backward above what was live before
  (CPU: running "Total Allocated" of the profiler's allocator events;
  CUDA: ``torch.cuda.max_memory_allocated``),

plus ``rgb_to_lab`` against the release's per-frame scikit-image round trip,
and deep supervision: the pairwise + TK losses of ``--layers`` decoder layers
with the colour cues (neighbour similarities, KNN selection) computed once per
step and shared, as the head does, against recomputing them per layer and per
instance-frame (the previous head, and the release).

The baseline is written here the way the original release computes the
losses: unfold 27-dim Lab patch descriptors and the log-probabilities into
``(N, K, H, W)`` tensors and work elementwise. It implements the same
definitions as ``maskfreevis.models.losses`` (in-image candidates only), so
values must agree.

Example::

    python tools/analysis_tools/benchmark_losses.py --repeats 15
"""
import argparse
import json
import os
import os.path as osp
import statistics
import sys
import tempfile
import time
from typing import Callable, Dict, List, Sequence, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor

REPO_ROOT = osp.abspath(osp.join(osp.dirname(__file__), '..', '..'))
if REPO_ROOT not in sys.path:  # run from a checkout without installing
    sys.path.insert(0, REPO_ROOT)

from maskfreevis.models.losses import (all_frame_pairs,  # noqa: E402
                                       color_neighbour_weights,
                                       cyclic_frame_pairs, knn_patch_selection,
                                       pairwise_color_loss, rgb_to_lab,
                                       temporal_knn_patch_loss)

# ----------------------------------------------------------------- baseline


def unfold_grid(x: Tensor, kernel_size: int, dilation: int) -> Tensor:
    """``(B, C, H, W)`` -> ``(B, C, K, H, W)`` zero-padded neighbourhoods."""
    batch, channels, height, width = x.shape
    padding = dilation * (kernel_size // 2)
    columns = F.unfold(x, kernel_size, dilation=dilation, padding=padding)
    return columns.view(batch, channels, kernel_size**2, height, width)


def unfold_consistency_loss(log_fg_p: Tensor, log_bg_p: Tensor,
                            log_fg_q: Tensor, log_bg_q: Tensor) -> Tensor:
    """Release-style ``-log(s_p s_q + (1-s_p)(1-s_q))``, max-shifted LSE."""
    log_same_fg = log_fg_p + log_fg_q
    log_same_bg = log_bg_p + log_bg_q
    shift = torch.max(log_same_fg, log_same_bg)
    log_same = torch.log(
        torch.exp(log_same_fg - shift)
        + torch.exp(log_same_bg - shift)) + shift
    return -log_same


def unfold_tk_loss(logits: Tensor, lab: Tensor, boxes: Tensor,
                   pairs: Sequence[Tuple[int, int]], clip_index: Tensor,
                   patch_size: int = 3, grid_size: int = 3, dilation: int = 3,
                   topk: int = 5, threshold: float = 0.05) -> Tensor:
    """TK-Loss computed with unfolded (N, K, H, W) tensors, release style."""
    height, width = logits.shape[-2:]
    in_image = unfold_grid(logits.new_ones(1, 1, height, width), grid_size,
                           dilation)[:, 0] > 0  # (1, K, H, W)
    with torch.no_grad():
        union = (boxes.sum(dim=1) >= 1.0).float()  # (N, H, W)
        descriptors = [
            unfold_grid(lab[:, t], patch_size, 1).flatten(1, 2)
            for t in range(lab.shape[1])
        ]  # each (B, 3*P*P, H, W)
    total = logits.sum() * 0.0
    for frame_a, frame_b in pairs:
        with torch.no_grad():
            candidates = unfold_grid(descriptors[frame_a], grid_size, dilation)
            difference = descriptors[frame_b][:, :, None] - candidates
            similarity = torch.exp(-0.5 * torch.norm(difference, dim=1))
            ranked = torch.where(in_image, similarity,
                                 similarity.new_tensor(-1.0))
            top_index = torch.topk(ranked, topk, dim=1)[1]
            nearest = torch.zeros_like(ranked).scatter(1, top_index, 1.0) > 0
            keep = nearest & in_image & (similarity >= threshold)
            weights = keep[clip_index].float() * union[:, None]
        log_fg_b = F.logsigmoid(logits[:, frame_b])[:, None]
        log_bg_b = F.logsigmoid(-logits[:, frame_b])[:, None]
        log_fg_a = unfold_grid(F.logsigmoid(logits[:, frame_a])[:, None],
                               grid_size, dilation)[:, 0]
        log_bg_a = unfold_grid(F.logsigmoid(-logits[:, frame_a])[:, None],
                               grid_size, dilation)[:, 0]
        loss = unfold_consistency_loss(log_fg_b, log_bg_b, log_fg_a, log_bg_a)
        total = total + (loss * weights).sum() / weights.sum().clamp(min=1.0)
    return total


def unfold_pairwise_loss(logits: Tensor, lab: Tensor, boxes: Tensor,
                         kernel_size: int = 3, dilation: int = 2,
                         threshold: float = 0.3) -> Tensor:
    """Colour pairwise loss with unfolded (M, 8, H, W) tensors."""
    height, width = logits.shape[-2:]
    centre = kernel_size**2 // 2
    not_centre = [k for k in range(kernel_size**2) if k != centre]

    def unfold_without_centre(x: Tensor) -> Tensor:
        return unfold_grid(x, kernel_size, dilation)[:, :, not_centre]

    in_image = unfold_without_centre(logits.new_ones(1, 1, height,
                                                     width))[:, 0] > 0
    with torch.no_grad():
        difference = lab[:, :, None] - unfold_without_centre(lab)
        similarity = torch.exp(-0.5 * torch.norm(difference, dim=1))
        weights = ((similarity >= threshold) & in_image).float() * boxes[:,
                                                                          None]
    log_fg = F.logsigmoid(logits)[:, None]
    log_bg = F.logsigmoid(-logits)[:, None]
    loss = unfold_consistency_loss(log_fg, log_bg,
                                   unfold_without_centre(log_fg)[:, 0],
                                   unfold_without_centre(log_bg)[:, 0])
    return (loss * weights).sum() / weights.sum().clamp(min=1.0)


# ------------------------------------------------------------------- inputs


def synthetic_batch(num_clips: int, per_clip: int, num_frames: int,
                    height: int, width: int, device: str,
                    seed: int = 0) -> Dict[str, Tensor]:
    """Clips of textured, noisy frames with moving coloured boxes.

    Frames are drawn at 4x the mask resolution with per-pixel noise, then
    average-pooled by 4 and truncated to uint8 like the release's input path
    (``F.avg_pool2d(kernel_size=4)`` + ``.byte()``), and converted to Lab.

    Returns:
        logits ``(N, T, H, W)``, lab ``(B, T, 3, H, W)``, boxes
        ``(N, T, H, W)``, clip_index ``(N,)`` and the pooled rgb
        ``(B, T, 3, H, W)``, with ``N = num_clips * per_clip``.
    """
    gen = torch.Generator().manual_seed(seed)
    scale = 4
    rows = torch.arange(height * scale, dtype=torch.float32)[:, None] / scale
    cols = torch.arange(width * scale, dtype=torch.float32)[None, :] / scale
    num = num_clips * per_clip
    rgb = torch.empty(num_clips, num_frames, 3, height * scale,
                      width * scale)
    boxes = torch.zeros(num, num_frames, height, width)
    for clip in range(num_clips):
        phase = torch.rand(3, generator=gen) * 6.28
        colours = torch.rand(per_clip, 3, 1, 1, generator=gen) * 255
        for t in range(num_frames):
            for channel in range(3):
                rgb[clip, t, channel] = 120 + 60 * torch.sin(
                    0.05 * (cols + 3 * t) + 0.03 * rows + phase[channel])
            for slot in range(per_clip):
                n = clip * per_clip + slot
                y0 = (10 + 20 * slot + 2 * t) % (height - 30)
                x0 = (15 + 35 * slot + 3 * t) % (width - 40)
                rgb[clip, t, :, scale * y0:scale * (y0 + 30),
                    scale * x0:scale * (x0 + 40)] = colours[slot]
                boxes[n, t, y0:y0 + 30, x0:x0 + 40] = 1
    rgb = (rgb + 2 * torch.randn(rgb.shape, generator=gen)).clamp(0, 255)
    rgb = F.avg_pool2d(rgb.flatten(0, 1), scale).byte().float().view(
        num_clips, num_frames, 3, height, width)
    logits = 2 * torch.randn(num, num_frames, height, width, generator=gen)
    clip_index = torch.arange(num_clips).repeat_interleave(per_clip)
    return dict(logits=logits.to(device), lab=rgb_to_lab(rgb).to(device),
                boxes=boxes.to(device), clip_index=clip_index.to(device),
                rgb=rgb.to(device))


# -------------------------------------------------------------- measurement


def synchronize(device: str) -> None:
    if device.startswith('cuda'):
        torch.cuda.synchronize()


def forward_backward(loss_fn: Callable[[Tensor], Tensor],
                     logits: Tensor) -> float:
    leaf = logits.detach().requires_grad_(True)
    loss = loss_fn(leaf)
    loss.backward()
    return loss.item()


def median_times(loss_fns: Sequence[Callable[[Tensor], Tensor]],
                 logits: Tensor, repeats: int, device: str) -> List[float]:
    """Median forward + backward seconds of each function.

    The functions take turns within every repeat, so load from other
    processes affects them alike.
    """
    samples = [[] for _ in loss_fns]
    for loss_fn in loss_fns:
        forward_backward(loss_fn, logits)  # warm-up
    for _ in range(repeats):
        for loss_fn, times in zip(loss_fns, samples):
            synchronize(device)
            start = time.perf_counter()
            forward_backward(loss_fn, logits)
            synchronize(device)
            times.append(time.perf_counter() - start)
    return [statistics.median(times) for times in samples]


def saved_bytes(loss_fn: Callable[[Tensor], Tensor], logits: Tensor) -> int:
    """Bytes of the distinct storages autograd keeps for backward."""
    storages = {}

    def pack(tensor: Tensor) -> Tensor:
        storage = tensor.untyped_storage()
        storages[storage.data_ptr()] = storage.nbytes()
        return tensor

    leaf = logits.detach().requires_grad_(True)
    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        loss = loss_fn(leaf)
    loss.backward()
    return sum(storages.values())


def peak_bytes(loss_fn: Callable[[Tensor], Tensor], logits: Tensor,
               device: str) -> int:
    """Peak bytes allocated during one forward + backward, above the start."""
    leaf = logits.detach().requires_grad_(True)
    if device.startswith('cuda'):
        synchronize(device)
        torch.cuda.reset_peak_memory_stats()
        before = torch.cuda.memory_allocated()
        loss_fn(leaf).backward()
        synchronize(device)
        return torch.cuda.max_memory_allocated() - before
    activities = [torch.profiler.ProfilerActivity.CPU]
    with torch.profiler.profile(activities=activities,
                                profile_memory=True) as prof:
        loss_fn(leaf).backward()
    handle, path = tempfile.mkstemp(suffix='.json')
    os.close(handle)
    try:
        prof.export_chrome_trace(path)
        with open(path) as trace_file:
            events = json.load(trace_file)['traceEvents']
    finally:
        os.remove(path)
    totals = [
        event['args']['Total Allocated'] for event in events
        if event.get('name') == '[memory]'
        and event['args'].get('Device Type') == 0
    ]
    return max([0] + totals)


def compare(name: str, ours: Callable[[Tensor], Tensor],
            unfold: Callable[[Tensor], Tensor], logits: Tensor, repeats: int,
            device: str) -> Dict[str, float]:
    """Measure both implementations; returns one result row."""
    value_ours = forward_backward(ours, logits)
    value_unfold = forward_backward(unfold, logits)
    row = dict(case=name, value=value_ours,
               rel_diff=abs(value_ours - value_unfold) /
               max(abs(value_unfold), 1e-12))
    row['time_ours'], row['time_unfold'] = median_times((ours, unfold),
                                                        logits, repeats,
                                                        device)
    for label, loss_fn in (('ours', ours), ('unfold', unfold)):
        row[f'saved_{label}'] = saved_bytes(loss_fn, logits)
        row[f'peak_{label}'] = peak_bytes(loss_fn, logits, device)
    return row


def lab_timing(frames: Tensor, repeats: int, device: str) -> Dict[str, float]:
    """``rgb_to_lab`` on a ``(F, 3, H, W)`` batch of 0..255 frames vs the
    release's per-frame scikit-image path (device -> CPU numpy -> device)."""
    from skimage import color

    def release_style() -> Tensor:
        converted = []
        for frame in frames:
            array = frame.byte().permute(1, 2, 0).cpu().numpy()
            converted.append(
                torch.from_numpy(color.rgb2lab(array)).to(
                    frame.device, torch.float32).permute(2, 0, 1))
        return torch.stack(converted)

    def ours() -> Tensor:
        return rgb_to_lab(frames.byte())

    samples = {'ours': [], 'skimage': []}
    ours(), release_style()  # warm-up
    for _ in range(repeats):  # interleaved, like median_times
        for label, fn in (('ours', ours), ('skimage', release_style)):
            synchronize(device)
            start = time.perf_counter()
            fn()
            synchronize(device)
            samples[label].append(time.perf_counter() - start)
    timings = {label: statistics.median(times)
               for label, times in samples.items()}
    max_abs = (ours() - release_style()).abs().max().item()
    return dict(frames=frames.shape[0], size=tuple(frames.shape[-2:]),
                time_ours=timings['ours'], time_skimage=timings['skimage'],
                max_abs=max_abs)


def layer_sharing_timing(batch: Dict[str, Tensor], num_layers: int,
                         repeats: int, device: str) -> Dict[str, float]:
    """Pairwise + TK (T = 3, all pairs) losses of ``num_layers`` decoder
    layers: colour cues shared by all layers vs recomputed per layer.

    Returns:
        Both medians (s), both loss values and the number of layers.
    """
    lab, boxes, clip_index = batch['lab'], batch['boxes'], batch['clip_index']
    num_frames = lab.shape[1]
    pairs = all_frame_pairs(num_frames)
    frame_index = (clip_index[:, None] * num_frames +
                   torch.arange(num_frames, device=lab.device)).flatten()
    frame_boxes = boxes.flatten(0, 1)
    layer_logits = batch['logits'].expand(num_layers, *batch['logits'].shape)
    layer_logits = layer_logits + 0.1 * torch.arange(
        num_layers, device=lab.device).view(-1, 1, 1, 1, 1)

    def per_layer(x: Tensor) -> Tensor:
        return sum(
            pairwise_color_loss(logits.flatten(0, 1), lab[clip_index].flatten(
                0, 1), frame_boxes) +
            temporal_knn_patch_loss(logits, lab, boxes, pairs, clip_index)
            for logits in x)

    def shared(x: Tensor) -> Tensor:
        neighbours = color_neighbour_weights(lab.flatten(0, 1))
        selection = knn_patch_selection(lab, pairs)
        return sum(
            pairwise_color_loss(logits.flatten(0, 1), lab.flatten(0, 1),
                                frame_boxes, frame_index=frame_index,
                                neighbour_weights=neighbours) +
            temporal_knn_patch_loss(logits, lab, boxes, pairs, clip_index,
                                    selection=selection) for logits in x)

    time_shared, time_per_layer = median_times((shared, per_layer),
                                               layer_logits, repeats, device)
    return dict(layers=num_layers, time_shared=time_shared,
                time_per_layer=time_per_layer,
                value_shared=forward_backward(shared, layer_logits),
                value_per_layer=forward_backward(per_layer, layer_logits))


def run_device(device: str,
               args: argparse.Namespace) -> Tuple[List[Dict], List[Dict]]:
    rows = []
    for num_frames, pairing in ((3, 'all'), (5, 'cyclic')):
        batch = synthetic_batch(args.clips, args.instances // args.clips,
                                num_frames, args.height, args.width, device)
        pairs = (all_frame_pairs(num_frames) if pairing == 'all' else
                 cyclic_frame_pairs(num_frames))
        lab, boxes, clip_index = (batch['lab'], batch['boxes'],
                                  batch['clip_index'])

        def ours(x, lab=lab, boxes=boxes, pairs=pairs, ci=clip_index):
            return temporal_knn_patch_loss(x, lab, boxes, pairs, ci)

        def unfold(x, lab=lab, boxes=boxes, pairs=pairs, ci=clip_index):
            return unfold_tk_loss(x, lab, boxes, pairs, ci)

        rows.append(compare(f'TK T={num_frames} {pairing} ({len(pairs)} '
                            'pairs)', ours, unfold, batch['logits'],
                            args.repeats, device))
        if num_frames == 3:
            frame_lab = lab[clip_index].flatten(0, 1)
            frame_boxes = boxes.flatten(0, 1)

            def ours_pw(x, lab=frame_lab, boxes=frame_boxes):
                return pairwise_color_loss(x.flatten(0, 1), lab, boxes)

            def unfold_pw(x, lab=frame_lab, boxes=frame_boxes):
                return unfold_pairwise_loss(x.flatten(0, 1), lab, boxes)

            rows.append(compare('pairwise M=N*T=%d' % frame_lab.shape[0],
                                ours_pw, unfold_pw, batch['logits'],
                                args.repeats, device))
    lab_rows = []
    for scale in (1, 4):  # mask resolution (the release's use) and input
        gen = torch.Generator().manual_seed(1)
        frames = torch.randint(0, 256, (6 * 3, 3, scale * args.height,
                                        scale * args.width), generator=gen)
        lab_rows.append(lab_timing(frames.float().to(device), args.repeats,
                                   device))
    batch = synthetic_batch(args.clips, args.instances // args.clips, 3,
                            args.height, args.width, device)
    lab_rows.append(layer_sharing_timing(batch, args.layers, args.repeats,
                                         device))
    return rows, lab_rows


def print_table(device: str, rows: List[Dict], lab_rows: List[Dict]) -> None:
    mib = 2.0**20
    print(f'\n== device: {device}  (threads: {torch.get_num_threads()})')
    header = (f'{"case":<28}{"value":>9}{"rel diff":>10} | {"time ms":>17}'
              f'{"x":>6} | {"saved MiB":>15}{"x":>6} | {"peak MiB":>15}'
              f'{"x":>6}')
    print(header)
    print(f'{"":<47} | {"ours / unfold":>17}{"":>6} | {"ours / unfold":>15}'
          f'{"":>6} | {"ours / unfold":>15}{"":>6}')
    for row in rows:
        cells = [f'{row["case"]:<28}{row["value"]:>9.5f}'
                 f'{row["rel_diff"]:>10.1e}']
        for key, unit, fmt in (('time', 1e-3, '8.1f'), ('saved', mib, '7.2f'),
                               ('peak', mib, '7.2f')):
            ours, unfold = row[f'{key}_ours'], row[f'{key}_unfold']
            cells.append(f'{ours / unit:>{fmt}}/{unfold / unit:>{fmt}}'
                         f'{unfold / max(ours, 1e-12):>6.1f}')
        print(' | '.join(cells))
    for lab_row in lab_rows:
        if 'layers' in lab_row:
            print(f'deep supervision, {lab_row["layers"]} decoder layers of '
                  f'pairwise + TK (T=3 all): colour cues shared '
                  f'{1e3 * lab_row["time_shared"]:.1f} ms vs recomputed per '
                  f'layer {1e3 * lab_row["time_per_layer"]:.1f} ms ('
                  f'{lab_row["time_per_layer"] / lab_row["time_shared"]:.1f}x)'
                  f', values {lab_row["value_shared"]:.5f} / '
                  f'{lab_row["value_per_layer"]:.5f}')
            continue
        print(f'rgb_to_lab, {lab_row["frames"]} frames of {lab_row["size"]}: '
              f'{1e3 * lab_row["time_ours"]:.2f} ms vs scikit-image per '
              f'frame (CPU round trip) {1e3 * lab_row["time_skimage"]:.2f} '
              f'ms ({lab_row["time_skimage"] / lab_row["time_ours"]:.1f}x), '
              f'max |diff| {lab_row["max_abs"]:.4f}')


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--instances', type=int, default=6, help='N')
    parser.add_argument('--clips', type=int, default=2, help='B (N/B each)')
    parser.add_argument('--height', type=int, default=96)
    parser.add_argument('--width', type=int, default=160)
    parser.add_argument('--repeats', type=int, default=15)
    parser.add_argument('--layers', type=int, default=10,
                        help='decoder layers with losses (R50 configs: 10)')
    parser.add_argument('--threads', type=int, default=1,
                        help='CPU threads (0 = torch default)')
    parser.add_argument('--devices', nargs='+', default=None,
                        help='default: cpu, plus cuda when available')
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    if args.instances % args.clips:
        raise SystemExit('--instances must be a multiple of --clips')
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    devices = args.devices or (['cpu', 'cuda']
                               if torch.cuda.is_available() else ['cpu'])
    print(f'N={args.instances} instances from B={args.clips} clips, masks '
          f'{args.height}x{args.width}, median of {args.repeats} repeats, '
          f'torch {torch.__version__}')
    for device in devices:
        rows, lab_rows = run_device(device, args)
        print_table(device, rows, lab_rows)


if __name__ == '__main__':
    main()
