"""Time and memory of a piece of torch work, as the benchmarks measure them."""

import json
import os
import statistics
import tempfile
import time
from typing import Any, Callable, Iterable, List, Sequence

import torch
from torch import Tensor

__all__ = [
    'synchronize',
    'forward_backward',
    'median_times',
    'saved_tensor_bytes',
    'saved_bytes',
    'peak_bytes',
]


def synchronize(device: str) -> None:
    """Wait for the device's queued work (CUDA); nothing to wait for on the CPU."""
    if device.startswith('cuda'):
        torch.cuda.synchronize()


def forward_backward(loss_fn: Callable[[Tensor], Tensor], logits: Tensor) -> float:
    """``loss_fn`` on a fresh leaf copy of ``logits``, backward; returns the loss value."""
    leaf = logits.detach().requires_grad_(True)
    loss = loss_fn(leaf)
    loss.backward()
    return loss.item()


def median_times(
    loss_fns: Sequence[Callable[[Tensor], Tensor]], logits: Tensor, repeats: int, device: str
) -> List[float]:
    """Median forward + backward seconds of each function over ``repeats`` runs.

    The functions take turns within every repeat (after one untimed warm-up each), so load from
    other processes affects them alike.
    """
    samples: List[List[float]] = [[] for _ in loss_fns]
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


def saved_tensor_bytes(work: Callable[[], Any], exclude: Iterable[Tensor] = ()) -> int:
    """Bytes of the distinct storages autograd saves for backward while ``work()`` runs.

    Each storage counts once however many saved tensors view it; storages of ``exclude`` (e.g.
    a model's parameters, which exist anyway) are not counted.
    """
    excluded = {tensor.untyped_storage().data_ptr() for tensor in exclude}
    storages = {}

    def pack(tensor: Tensor) -> Tensor:
        storage = tensor.untyped_storage()
        if storage.data_ptr() not in excluded:
            storages[storage.data_ptr()] = storage.nbytes()
        return tensor

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda tensor: tensor):
        work()
    return sum(storages.values())


def saved_bytes(loss_fn: Callable[[Tensor], Tensor], logits: Tensor) -> int:
    """Bytes autograd saves for the backward of ``loss_fn`` on a leaf copy of ``logits``."""
    leaf = logits.detach().requires_grad_(True)
    losses = []
    size = saved_tensor_bytes(lambda: losses.append(loss_fn(leaf)))
    losses[0].backward()
    return size


def peak_bytes(loss_fn: Callable[[Tensor], Tensor], logits: Tensor, device: str) -> int:
    """Peak bytes allocated during one forward + backward, above what was live before.

    CUDA: ``torch.cuda.max_memory_allocated``; CPU: the running "Total Allocated" of the
    profiler's allocator events.
    """
    leaf = logits.detach().requires_grad_(True)
    if device.startswith('cuda'):
        synchronize(device)
        torch.cuda.reset_peak_memory_stats()
        before = torch.cuda.memory_allocated()
        loss_fn(leaf).backward()
        synchronize(device)
        return torch.cuda.max_memory_allocated() - before
    activities = [torch.profiler.ProfilerActivity.CPU]
    with torch.profiler.profile(activities=activities, profile_memory=True) as prof:
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
        event['args']['Total Allocated']
        for event in events
        if event.get('name') == '[memory]' and event['args'].get('Device Type') == 0
    ]
    return max([0] + totals)
