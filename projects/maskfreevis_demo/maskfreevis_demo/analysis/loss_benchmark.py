"""The mask-free losses against a release-style ``F.unfold`` implementation.

The baseline is written here the way the original release computes the losses: unfold 27-dim
Lab patch descriptors and the log-probabilities into ``(N, K, H, W)`` tensors and work
elementwise. It implements the same definitions as :mod:`maskfreevis.models.losses` (in-image
candidates only), so the values must agree; :func:`run_device` measures both side by side
(value agreement, forward + backward time, bytes saved for backward, peak memory), plus
``rgb_to_lab`` against the release's per-frame scikit-image round trip and the deep-supervision
sharing of the colour cues across decoder layers.
"""

import os
import re
import statistics
import time
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor

from maskfreevis.models.losses import (
    all_frame_pairs,
    colour_neighbour_weights,
    cyclic_frame_pairs,
    knn_patch_selection,
    pairwise_colour_loss,
    rgb_to_lab,
    temporal_knn_patch_loss,
)
from maskfreevis.testing import ClipSpec, mask_grid_inputs, synthetic_batch

from .profiling import (
    SYNC_OP_NAMES,
    HostSyncRecorder,
    aten_op_count,
    contention_times,
    forward_backward,
    median_times,
    parallel_sized_op_count,
    peak_bytes,
    profiled_op_counts,
    saved_bytes,
    synchronize,
)

__all__ = [
    'unfold_tk_loss',
    'unfold_pairwise_loss',
    'loss_batch',
    'compare',
    'lab_timing',
    'layer_sharing_timing',
    'demo_config_name',
    'loss_rows',
    'criterion_call',
    'criterion_host_syncs',
    'training_step_contention',
    'format_contention',
    'run_device',
    'format_table',
    'targets_met',
]

# the release computes its losses on the stride-4 mask grid
MASK_STRIDE = 4
# uniform integer noise per input pixel (grey levels)
PIXEL_NOISE = 8
# ours / unfold limits of a loss row: aten ops of one forward + backward, its time, the bytes
# it saves for backward
TARGET_RATIOS = dict(ops=1.0, time=0.5, saved=0.05)

# ------------------------------------------------------------------------------ baseline


def unfold_grid(x: Tensor, kernel_size: int, dilation: int) -> Tensor:
    """``(B, C, H, W)`` -> ``(B, C, K, H, W)`` zero-padded neighbourhoods."""
    batch, channels, height, width = x.shape
    padding = dilation * (kernel_size // 2)
    columns = F.unfold(x, kernel_size, dilation=dilation, padding=padding)
    return columns.view(batch, channels, kernel_size**2, height, width)


def unfold_consistency_loss(
    log_fg_p: Tensor, log_bg_p: Tensor, log_fg_q: Tensor, log_bg_q: Tensor
) -> Tensor:
    """Release-style ``-log(s_p s_q + (1-s_p)(1-s_q))``, max-shifted LSE."""
    log_same_fg = log_fg_p + log_fg_q
    log_same_bg = log_bg_p + log_bg_q
    shift = torch.max(log_same_fg, log_same_bg)
    log_same = torch.log(torch.exp(log_same_fg - shift) + torch.exp(log_same_bg - shift)) + shift
    return -log_same


def unfold_tk_loss(
    logits: Tensor,
    lab: Tensor,
    boxes: Tensor,
    pairs: Sequence[Tuple[int, int]],
    clip_index: Tensor,
    patch_size: int = 3,
    grid_size: int = 3,
    dilation: int = 3,
    topk: int = 5,
    threshold: float = 0.05,
    padding_mode: str = 'exclude',
) -> Tensor:
    """TK-Loss computed with unfolded (N, K, H, W) tensors, release style.

    With ``padding_mode='zeros'`` this is the release's formulation as written (reference
    sections 1.2-1.6): zero-padded unfolds of the descriptors and of the log-probabilities,
    top-k over all K candidates; with ``'exclude'`` candidates outside the image are masked
    out, our default definition.

    Args:
        logits: ``(N, T, H, W)`` mask logits; lab: ``(B, T, 3, H, W)``; boxes: ``(N, T, H, W)``
            0/1; pairs: ``(a, b)`` frame pairs; clip_index: ``(N,)`` clip of each instance.
    """
    height, width = logits.shape[-2:]
    exclude = padding_mode == 'exclude'
    if exclude:
        ones = logits.new_ones(1, 1, height, width)
        in_image = unfold_grid(ones, grid_size, dilation)[:, 0] > 0  # (1, K, H, W)
    with torch.no_grad():
        union = (boxes.sum(dim=1) >= 1.0).float()  # (N, H, W)
        descriptors = [
            unfold_grid(lab[:, t], patch_size, 1).flatten(1, 2) for t in range(lab.shape[1])
        ]  # each (B, 3*P*P, H, W)
    total = logits.sum() * 0.0
    for frame_a, frame_b in pairs:
        with torch.no_grad():
            candidates = unfold_grid(descriptors[frame_a], grid_size, dilation)
            difference = descriptors[frame_b][:, :, None] - candidates
            similarity = torch.exp(-0.5 * torch.norm(difference, dim=1))
            if exclude:
                similarity = torch.where(in_image, similarity, similarity.new_tensor(-1.0))
            top_index = torch.topk(similarity, topk, dim=1)[1]
            nearest = torch.zeros_like(similarity).scatter(1, top_index, 1.0) > 0
            keep = nearest & (similarity >= threshold)
            weights = keep[clip_index].float() * union[:, None]
        log_fg_b = F.logsigmoid(logits[:, frame_b])[:, None]
        log_bg_b = F.logsigmoid(-logits[:, frame_b])[:, None]
        log_fg_a = unfold_grid(F.logsigmoid(logits[:, frame_a])[:, None], grid_size, dilation)[:, 0]
        log_bg_a = unfold_grid(F.logsigmoid(-logits[:, frame_a])[:, None], grid_size, dilation)[
            :, 0
        ]
        loss = unfold_consistency_loss(log_fg_b, log_bg_b, log_fg_a, log_bg_a)
        total = total + (loss * weights).sum() / weights.sum().clamp(min=1.0)
    return total


def unfold_pairwise_loss(
    logits: Tensor,
    lab: Tensor,
    boxes: Tensor,
    kernel_size: int = 3,
    dilation: int = 2,
    threshold: float = 0.3,
    padding_mode: str = 'exclude',
) -> Tensor:
    """Colour pairwise loss with unfolded (M, 8, H, W) tensors, release style.

    With ``padding_mode='zeros'`` this is the release's formulation as written (reference
    section 2.3: zero-padded unfolds of Lab and log-probabilities); with ``'exclude'``
    neighbours outside the image are masked out, our default definition.

    Args:
        logits: ``(M, H, W)``; lab: ``(M, 3, H, W)``; boxes: ``(M, H, W)`` 0/1.
    """
    height, width = logits.shape[-2:]
    centre = kernel_size**2 // 2
    not_centre = [k for k in range(kernel_size**2) if k != centre]

    def unfold_without_centre(x: Tensor) -> Tensor:
        return unfold_grid(x, kernel_size, dilation)[:, :, not_centre]

    with torch.no_grad():
        difference = lab[:, :, None] - unfold_without_centre(lab)
        similarity = torch.exp(-0.5 * torch.norm(difference, dim=1))
        similar = similarity >= threshold
        if padding_mode == 'exclude':
            similar &= unfold_without_centre(logits.new_ones(1, 1, height, width))[:, 0] > 0
        weights = similar.float() * boxes[:, None]
    log_fg = F.logsigmoid(logits)[:, None]
    log_bg = F.logsigmoid(-logits)[:, None]
    loss = unfold_consistency_loss(
        log_fg, log_bg, unfold_without_centre(log_fg)[:, 0], unfold_without_centre(log_bg)[:, 0]
    )
    return (loss * weights).sum() / weights.sum().clamp(min=1.0)


# ------------------------------------------------------------------------------- inputs


def loss_batch(
    num_clips: int,
    per_clip: int,
    num_frames: int,
    height: int,
    width: int,
    device: str,
    seed: int = 0,
) -> Dict[str, Tensor]:
    """Synthetic clips (:mod:`maskfreevis.testing`) as loss inputs on a ``height x width``
    mask grid: frames drawn at 4x that size, colours and boxes as in training.

    Every pixel gets noise so that no two patches tie in the KNN search (where the two
    implementations may break ties differently).

    Returns:
        ``logits (N, T, h, w)``, ``lab (B, T, 3, h, w)``, ``boxes (N, T, h, w)`` and
        ``clip_index (N,)`` on ``device``, ``N = num_clips * per_clip``.
    """
    specs = [
        ClipSpec(
            num_frames,
            (MASK_STRIDE * height, MASK_STRIDE * width),
            num_objects=per_clip,
            seed=seed + clip,
            video_id=clip,
            pixel_noise=PIXEL_NOISE,
        )
        for clip in range(num_clips)
    ]
    inputs = mask_grid_inputs(synthetic_batch(specs), MASK_STRIDE, seed)
    return {key: value.to(device) for key, value in inputs.items()}


# -------------------------------------------------------------------------- measurement


def compare(
    name: str,
    ours: Callable[[Tensor], Tensor],
    unfold: Callable[[Tensor], Tensor],
    logits: Tensor,
    repeats: int,
    device: str,
) -> Dict[str, float]:
    """Measure both implementations of one loss; returns one result row (value, relative
    difference, ``ops_*`` (top-level aten ops of one forward + backward), ``time_*``,
    ``saved_*`` and ``peak_*`` for ``ours`` and ``unfold``)."""
    value_ours = forward_backward(ours, logits)
    value_unfold = forward_backward(unfold, logits)
    row = dict(
        case=name,
        value=value_ours,
        rel_diff=abs(value_ours - value_unfold) / max(abs(value_unfold), 1e-12),
    )
    row['time_ours'], row['time_unfold'] = median_times((ours, unfold), logits, repeats, device)
    for label, loss_fn in (('ours', ours), ('unfold', unfold)):
        row[f'ops_{label}'] = aten_op_count(loss_fn, logits)
        row[f'saved_{label}'] = saved_bytes(loss_fn, logits)
        row[f'peak_{label}'] = peak_bytes(loss_fn, logits, device)
    return row


def lab_timing(frames: Tensor, repeats: int, device: str) -> Dict[str, float]:
    """``rgb_to_lab`` on a ``(F, 3, H, W)`` batch of 0..255 frames vs the release's per-frame
    scikit-image path (device -> CPU numpy -> device)."""
    from skimage import color

    def release_style() -> Tensor:
        converted = []
        for frame in frames:
            array = frame.byte().permute(1, 2, 0).cpu().numpy()
            converted.append(
                torch.from_numpy(color.rgb2lab(array))
                .to(frame.device, torch.float32)
                .permute(2, 0, 1)
            )
        return torch.stack(converted)

    def ours() -> Tensor:
        return rgb_to_lab(frames.byte())

    samples: Dict[str, List[float]] = {'ours': [], 'skimage': []}
    ours(), release_style()  # warm-up
    for _ in range(repeats):  # interleaved, like median_times
        for label, fn in (('ours', ours), ('skimage', release_style)):
            synchronize(device)
            start = time.perf_counter()
            fn()
            synchronize(device)
            samples[label].append(time.perf_counter() - start)
    timings = {label: statistics.median(times) for label, times in samples.items()}
    max_abs = (ours() - release_style()).abs().max().item()
    return dict(
        frames=frames.shape[0],
        size=tuple(frames.shape[-2:]),
        time_ours=timings['ours'],
        time_skimage=timings['skimage'],
        max_abs=max_abs,
    )


def layer_sharing_timing(
    batch: Dict[str, Tensor], num_layers: int, repeats: int, device: str
) -> Dict[str, float]:
    """Pairwise + TK (T = 3, all pairs) losses of ``num_layers`` decoder layers: colour cues
    shared by all layers vs recomputed per layer and per instance-frame.

    Returns:
        Both medians (s), both loss values and the number of layers.
    """
    lab, boxes, clip_index = batch['lab'], batch['boxes'], batch['clip_index']
    num_frames = lab.shape[1]
    pairs = all_frame_pairs(num_frames)
    frame_of = (
        clip_index[:, None] * num_frames + torch.arange(num_frames, device=lab.device)
    ).flatten()
    frame_boxes = boxes.flatten(0, 1)
    layer_logits = batch['logits'].expand(num_layers, *batch['logits'].shape)
    layer_logits = layer_logits + 0.1 * torch.arange(num_layers, device=lab.device).view(
        -1, 1, 1, 1, 1
    )

    def per_layer(x: Tensor) -> Tensor:
        return sum(
            pairwise_colour_loss(logits.flatten(0, 1), lab[clip_index].flatten(0, 1), frame_boxes)
            + temporal_knn_patch_loss(logits, lab, boxes, pairs, clip_index)
            for logits in x
        )

    def shared(x: Tensor) -> Tensor:
        neighbours = colour_neighbour_weights(lab.flatten(0, 1))
        selection = knn_patch_selection(lab, pairs)
        return sum(
            pairwise_colour_loss(
                logits.flatten(0, 1),
                lab.flatten(0, 1),
                frame_boxes,
                frame_of=frame_of,
                neighbour_weights=neighbours,
            )
            + temporal_knn_patch_loss(logits, lab, boxes, pairs, clip_index, selection=selection)
            for logits in x
        )

    time_shared, time_per_layer = median_times((shared, per_layer), layer_logits, repeats, device)
    return dict(
        layers=num_layers,
        time_shared=time_shared,
        time_per_layer=time_per_layer,
        value_shared=forward_backward(shared, layer_logits),
        value_per_layer=forward_backward(per_layer, layer_logits),
    )


def demo_config_name() -> str:
    """The file name (in ``configs/maskfreevis/``) of the demo's video-stage config, whose
    criterion and training step the benchmark profiles by default."""
    from maskfreevis_demo.runner import DEMO_DATASETS

    return DEMO_DATASETS['real-imagery'][1]


def criterion_call(
    config_path: str, clips: int, frames: int, size: Tuple[int, int], objects: int, device: str
) -> Tuple[torch.nn.Module, tuple, dict]:
    """A config's criterion and the arguments the model hands it for a synthetic box-only batch.

    The model (random weights) runs one loss forward without gradient; a forward pre-hook on its
    criterion catches the decoder outputs, GT, Lab frames and valid masks. The decoder outputs
    come back as fresh leaves that require grad, so the call can be repeated with a backward.

    Returns:
        ``(criterion, args, kwargs)``.
    """
    from .model_benchmark import benchmark_batch, build_model_and_optimizer

    model, _ = build_model_and_optimizer('maskfreevis', config_path, frames, device)
    batch = benchmark_batch(clips, frames, size, objects, with_masks=False)
    caught = {}

    def catch(module, args, kwargs):
        caught.update(args=args, kwargs=kwargs)

    criterion = model.track_head.criterion
    handle = criterion.register_forward_pre_hook(catch, with_kwargs=True)
    try:
        with torch.no_grad():
            model(**model.data_preprocessor(batch, True), mode='loss')
    finally:
        handle.remove()
    all_cls_scores, all_mask_preds, *rest = caught['args']
    leaves = [
        [output.detach().requires_grad_(True) for output in outputs]
        for outputs in (all_cls_scores, all_mask_preds)
    ]
    return criterion, (*leaves, *rest), caught['kwargs']


def criterion_host_syncs(criterion: torch.nn.Module, args: tuple, kwargs: dict) -> Dict:
    """Host syncs of one criterion call and the backward of its summed losses.

    Counted twice: the profile's :data:`~maskfreevis_demo.analysis.profiling.SYNC_OP_NAMES` (an
    ``.item()`` shows as both ``aten::item`` and ``aten::_local_scalar_dense``), and per place
    in the code (:class:`~maskfreevis_demo.analysis.profiling.HostSyncRecorder`, file and function).
    The Hungarian solver's copy of each cost matrix to the host is a sync on an accelerator that
    a CPU run cannot see (a CPU tensor's ``.cpu()`` dispatches nothing): one per clip and
    decoder output, inherent to matching with scipy.

    Returns:
        ``ops`` (top-level aten ops), ``sync_profile``, ``sync_places``, and the call's
        ``layers``, ``clips``, ``frames`` and ``instances``.
    """

    def work() -> None:
        losses = criterion(*args, **kwargs)
        sum(losses.values()).backward()

    work()  # warm caches
    ops, counts = profiled_op_counts(work)
    with HostSyncRecorder() as recorder:
        work()
    all_mask_preds, batch_gt_instances = args[1], args[2]
    return dict(
        ops=ops,
        sync_profile={name: counts[name] for name in SYNC_OP_NAMES},
        sync_places=recorder.by_place(lambda place: re.sub(r':\d+', '', place)),
        layers=len(all_mask_preds),
        clips=all_mask_preds[-1].shape[0],
        frames=all_mask_preds[-1].shape[2],
        instances=sum(len(gt) for gt in batch_gt_instances),
    )


def loss_rows(
    device: str,
    instances: int,
    clips: int,
    height: int,
    width: int,
    repeats: int,
    padding_mode: str = 'exclude',
) -> List[Dict]:
    """Ours against the unfold baseline, both in one padding mode: TK with T = 3 all pairs,
    pairwise on its N * T instance-frames, TK with T = 5 cyclic (:func:`compare` rows)."""
    rows = []
    suffix = ', zeros' if padding_mode == 'zeros' else ''
    for num_frames, pairing in ((3, 'all'), (5, 'cyclic')):
        batch = loss_batch(clips, instances // clips, num_frames, height, width, device)
        pairs = all_frame_pairs(num_frames) if pairing == 'all' else cyclic_frame_pairs(num_frames)
        lab, boxes, clip_index = batch['lab'], batch['boxes'], batch['clip_index']

        def ours(x, lab=lab, boxes=boxes, pairs=pairs, ci=clip_index):
            return temporal_knn_patch_loss(x, lab, boxes, pairs, ci, padding_mode=padding_mode)

        def unfold(x, lab=lab, boxes=boxes, pairs=pairs, ci=clip_index):
            return unfold_tk_loss(x, lab, boxes, pairs, ci, padding_mode=padding_mode)

        name = f'TK T={num_frames} {pairing} ({len(pairs)} pairs){suffix}'
        rows.append(compare(name, ours, unfold, batch['logits'], repeats, device))
        if num_frames == 3:
            frame_lab = lab[clip_index].flatten(0, 1)
            frame_boxes = boxes.flatten(0, 1)

            def ours_pw(x, lab=frame_lab, boxes=frame_boxes):
                return pairwise_colour_loss(x.flatten(0, 1), lab, boxes, padding_mode=padding_mode)

            def unfold_pw(x, lab=frame_lab, boxes=frame_boxes):
                return unfold_pairwise_loss(x.flatten(0, 1), lab, boxes, padding_mode=padding_mode)

            name = f'pairwise M=N*T={frame_lab.shape[0]}{suffix}'
            rows.append(compare(name, ours_pw, unfold_pw, batch['logits'], repeats, device))
    return rows


def training_step_contention(
    config_path: str,
    thread_counts: Sequence[int] = (2, 1),
    rounds: int = 3,
    steps: int = 3,
    clips: int = 4,
    frames: int = 3,
    size: Tuple[int, int] = (128, 192),
    objects: int = 2,
) -> Dict:
    """A config's box-supervised training step on the CPU, idle and beside one busy process.

    ``model.train_step`` (preprocess, forward, every loss, backward, optimiser step) of the
    config's model with random weights on a synthetic box-only batch (by default as the demo
    trains: 4 clips of 3 frames, 128 x 192), timed with each torch thread count alone and
    beside ``yes > /dev/null`` (:func:`~maskfreevis_demo.analysis.profiling.contention_times`).

    Returns:
        ``ops`` (top-level aten ops of one step), ``parallel_ops`` (of those, the ones on more
        than ATen's 32768-element grain: each a parallel region when torch has several
        threads), ``times`` (per thread count ``idle``, ``busy``, ``slowdown``) and the load
        average of the machine before and after (other processes), and the process's
        ``OMP_WAIT_POLICY`` (read by OpenMP when torch loads: spinning or sleeping waits).
    """
    from .model_benchmark import benchmark_batch, build_model_and_optimizer

    torch.manual_seed(0)
    model, optim_wrapper = build_model_and_optimizer('maskfreevis', config_path, frames, 'cpu')
    batch = benchmark_batch(clips, frames, size, objects, with_masks=False)

    def step() -> None:
        model.train_step(batch, optim_wrapper)

    for _ in range(2):  # warm-up
        step()
    ops, parallel_ops = parallel_sized_op_count(step)
    load_before = os.getloadavg()[0]
    times = contention_times(step, thread_counts, rounds, steps)
    return dict(
        ops=ops,
        parallel_ops=parallel_ops,
        times=times,
        load=(load_before, os.getloadavg()[0]),
        setting=f'{clips} clips x {frames} frames, {size[0]} x {size[1]}',
        wait_policy=os.environ.get('OMP_WAIT_POLICY', 'unset'),
    )


def format_contention(row: Dict) -> str:
    """The lines of :func:`training_step_contention`."""
    lines = [
        f'training step ({row["setting"]}): {row["ops"]} top-level aten ops, '
        f'{row["parallel_ops"]} of them on > 32768 elements (a parallel region each with '
        f'several threads); OMP_WAIT_POLICY {row["wait_policy"]}; load average '
        f'{row["load"][0]:.1f} before, {row["load"][1]:.1f} after'
    ]
    for threads, times in row['times'].items():
        lines.append(
            f'  {threads} thread(s): idle {times["idle"]:.2f} s/step, beside `yes` '
            f'{times["busy"]:.2f} s/step: slowdown {times["slowdown"]:.1f}x'
        )
    return '\n'.join(lines)


def run_device(
    device: str,
    instances: int,
    clips: int,
    height: int,
    width: int,
    repeats: int,
    layers: int,
    criterion_config: Optional[str] = None,
    padding_modes: Sequence[str] = ('exclude', 'zeros'),
) -> Tuple[List[Dict], List[Dict]]:
    """Every comparison on one device.

    Returns:
        The loss rows of each padding mode (:func:`loss_rows`) and the other rows
        (``rgb_to_lab`` at mask and input resolution, deep-supervision sharing and, given
        ``criterion_config``, the host syncs of one call of its criterion on 4 clips of 3
        frames, 128 x 192, as the demo trains).
    """
    rows = []
    for padding_mode in padding_modes:
        rows.extend(loss_rows(device, instances, clips, height, width, repeats, padding_mode))
    other_rows = []
    for scale in (1, MASK_STRIDE):  # mask resolution (the release's use) and input
        generator = torch.Generator().manual_seed(1)
        frames = torch.randint(
            0, 256, (6 * 3, 3, scale * height, scale * width), generator=generator
        )
        other_rows.append(lab_timing(frames.float().to(device), repeats, device))
    batch = loss_batch(clips, instances // clips, 3, height, width, device)
    other_rows.append(layer_sharing_timing(batch, layers, repeats, device))
    if criterion_config is not None:
        call = criterion_call(criterion_config, 4, 3, (128, 192), 2, device)
        other_rows.append(criterion_host_syncs(*call))
    return rows, other_rows


def format_table(device: str, rows: List[Dict], other_rows: List[Dict]) -> str:
    """The rows of :func:`run_device` as a plain-text table; ratios are ours / unfold, each
    against its target (:data:`TARGET_RATIOS`)."""
    mib = 2.0**20
    columns = (('ops', 1, '6.0f'), ('time', 1e-3, '7.1f'), ('saved', mib, '7.2f'))
    lines = [
        f'\n== device: {device}  (threads: {torch.get_num_threads()})',
        f'{"case":<34}{"value":>9}{"rel diff":>10} | {"aten ops":>13}{"ratio":>7} | '
        f'{"time ms":>15}{"ratio":>7} | {"saved MiB":>15}{"ratio":>7} | '
        f'{"peak MiB":>15}{"ratio":>7}',
        f'{"":<53} | {"ours / unfold":>20} | {"ours / unfold":>22} | {"ours / unfold":>22} | '
        f'{"ours / unfold":>22}',
    ]
    for row in rows:
        cells = [f'{row["case"]:<34}{row["value"]:>9.5f}{row["rel_diff"]:>10.1e}']
        for key, unit, fmt in columns + (('peak', mib, '7.2f'),):
            ours, unfold = row[f'{key}_ours'], row[f'{key}_unfold']
            cells.append(
                f'{ours / unit:>{fmt}}/{unfold / unit:>{fmt}}{ours / max(unfold, 1e-12):>7.3f}'
            )
        lines.append(' | '.join(cells))
    lines.append(
        'targets (ours / unfold): '
        + ', '.join(f'{key} <= {limit}' for key, limit in TARGET_RATIOS.items())
        + ': '
        + ('all met' if all(all(targets_met(row).values()) for row in rows) else 'missed by ')
        + '; '.join(
            f'{row["case"]} {key}'
            for row in rows
            for key, met in targets_met(row).items()
            if not met
        )
    )
    for row in other_rows:
        if 'sync_places' in row:
            lines.append(format_criterion_syncs(row))
            continue
        if 'time_shared' in row:
            lines.append(
                f'deep supervision, {row["layers"]} decoder layers of pairwise + TK (T=3 all): '
                f'colour cues shared {1e3 * row["time_shared"]:.1f} ms vs recomputed per layer '
                f'{1e3 * row["time_per_layer"]:.1f} ms '
                f'({row["time_per_layer"] / row["time_shared"]:.1f}x), values '
                f'{row["value_shared"]:.5f} / {row["value_per_layer"]:.5f}'
            )
            continue
        lines.append(
            f'rgb_to_lab, {row["frames"]} frames of {row["size"]}: '
            f'{1e3 * row["time_ours"]:.2f} ms vs scikit-image per frame (CPU round trip) '
            f'{1e3 * row["time_skimage"]:.2f} ms ({row["time_skimage"] / row["time_ours"]:.1f}x),'
            f' max |diff| {row["max_abs"]:.4f}'
        )
    return '\n'.join(lines)


def targets_met(row: Dict) -> Dict[str, bool]:
    """Whether each ratio of a loss row meets :data:`TARGET_RATIOS`."""
    return {
        key: row[f'{key}_ours'] <= limit * row[f'{key}_unfold']
        for key, limit in TARGET_RATIOS.items()
    }


def format_criterion_syncs(row: Dict) -> str:
    """The line of :func:`criterion_host_syncs`."""
    profile = ', '.join(f'{name} {count}' for name, count in row['sync_profile'].items())
    places = ', '.join(f'{label} {count}' for label, count in sorted(row['sync_places'].items()))
    return (
        f'one MaskFreeCriterion call + backward ({row["layers"]} decoder outputs, '
        f'{row["clips"]} clips x {row["frames"]} frames, {row["instances"]} instances): '
        f'{row["ops"]} top-level aten ops; host syncs in the profile: {profile}; '
        f'by place: {places or "none"}'
    )
