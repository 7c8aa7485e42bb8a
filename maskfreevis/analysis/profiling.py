"""Time, memory, op counts and host syncs of a piece of torch work, as the benchmarks measure
them."""

import collections
import json
import os
import statistics
import tempfile
import time
import traceback
from typing import Any, Callable, Counter, Dict, Iterable, List, Optional, Sequence, Tuple

import torch
from torch import Tensor
from torch.utils._python_dispatch import TorchDispatchMode

__all__ = [
    'synchronize',
    'forward_backward',
    'median_times',
    'saved_tensor_bytes',
    'saved_bytes',
    'peak_bytes',
    'SYNC_OP_NAMES',
    'profiled_op_counts',
    'aten_op_count',
    'HostSyncRecorder',
]

# The ops a profile shows where the host reads a device value (``.item()``, ``bool(t)``) or an
# output's size depends on the data (boolean indexing): on an accelerator each waits for all
# queued work.
SYNC_OP_NAMES = ('aten::_local_scalar_dense', 'aten::item', 'aten::nonzero')


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


def profiled_op_counts(work: Callable[[], Any]) -> Tuple[int, Counter]:
    """The aten ops one call of ``work()`` dispatches, counted with ``torch.profiler`` (CPU).

    Returns:
        The number of top-level aten ops (those not called from inside another aten op: each is
        one dispatch from Python or autograd, on an accelerator typically one kernel launch) and
        a ``Counter`` of every aten op by name, nested ones included.
    """
    activities = [torch.profiler.ProfilerActivity.CPU]
    with torch.profiler.profile(activities=activities) as prof:
        work()
    events = [event for event in prof.events() if event.name.startswith('aten::')]

    def top_level(event) -> bool:
        parent = event.cpu_parent
        while parent is not None:
            if parent.name.startswith('aten::'):
                return False
            parent = parent.cpu_parent
        return True

    return sum(map(top_level, events)), collections.Counter(event.name for event in events)


def aten_op_count(loss_fn: Callable[[Tensor], Tensor], logits: Tensor) -> int:
    """Top-level aten ops of one forward + backward of ``loss_fn`` (after one untimed call, so
    that per-shape caches are warm, as in training)."""
    forward_backward(loss_fn, logits)
    return profiled_op_counts(lambda: forward_backward(loss_fn, logits))[0]


class HostSyncRecorder(TorchDispatchMode):
    """Records every op of the block that makes the host wait for the device, with its caller.

    Recorded: reads of a tensor value on the host (``aten::_local_scalar_dense``, behind
    ``.item()``, ``bool(t)``, ``int(t)``) and ops whose output size depends on the data
    (``nonzero``, boolean-mask indexing, ``unique``, ``masked_select``, ``repeat_interleave``
    by a tensor). Copies to the host (``.cpu()``, ``.tolist()``) are not dispatched at all for
    CPU tensors, so on the CPU they are invisible here.

    Each record is ``(op name, place)``, the place being the innermost frame of the call stack
    inside ``maskfreevis`` or ``mmdet`` (``file:line function``).
    """

    DATA_DEPENDENT = (
        'aten::_local_scalar_dense',
        'aten::nonzero',
        'aten::_unique2',
        'aten::unique_dim',
        'aten::unique_consecutive',
        'aten::masked_select',
        'aten::equal',
    )

    def __init__(self, packages: Sequence[str] = ('maskfreevis', 'mmdet')) -> None:
        super().__init__()
        self.packages = tuple(packages)
        self.records: List[Tuple[str, str]] = []

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        name = 'aten::' + func._schema.name.split('::')[-1]
        if name in self.DATA_DEPENDENT or _is_boolean_indexing(name, func, args):
            self.records.append((name, self._place()))
        return func(*args, **(kwargs or {}))

    def _place(self) -> str:
        for frame in reversed(traceback.extract_stack()):
            if frame.filename == __file__:
                continue
            parts = frame.filename.replace(os.sep, '/').split('/')
            if any(package in parts for package in self.packages):
                return f'{parts[-1]}:{frame.lineno} {frame.name}'
        return '?'

    def by_place(self, classify: Optional[Callable[[str], str]] = None) -> Dict[str, int]:
        """Counts per place, or per ``classify(place)`` label."""
        labels = [classify(place) if classify else place for _, place in self.records]
        return dict(collections.Counter(labels))


def _is_boolean_indexing(name: str, func, args: Sequence[Any]) -> bool:
    """``x[mask]`` / ``x[mask] = v``: an index or index_put with a bool index tensor."""
    if name == 'aten::repeat_interleave':
        return func._overloadname == 'Tensor' or (len(args) > 1 and isinstance(args[1], Tensor))
    if name not in ('aten::index', 'aten::index_put', 'aten::index_put_', 'aten::_index_put_impl_'):
        return False
    indices = args[1] if len(args) > 1 else ()
    return any(
        isinstance(index, Tensor) and index.dtype in (torch.bool, torch.uint8) for index in indices
    )
