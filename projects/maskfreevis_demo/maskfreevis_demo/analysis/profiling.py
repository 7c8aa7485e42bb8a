"""Time, memory, op counts and host syncs of a piece of torch work, as the benchmarks measure
them."""

import collections
import contextlib
import json
import math
import os
import statistics
import subprocess
import tempfile
import time
import traceback
from typing import Any, Callable, Counter, Dict, Iterable, Iterator, List, Optional, Sequence, Tuple

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
    'parallel_sized_op_count',
    'aten_op_count',
    'HostSyncRecorder',
    'busy_neighbour',
    'contention_times',
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
    events = _aten_events(work, record_shapes=False)
    return sum(map(_top_level, events)), collections.Counter(event.name for event in events)


def parallel_sized_op_count(work: Callable[[], Any], grain_size: int = 32768) -> Tuple[int, int]:
    """Top-level aten ops of one ``work()`` call, and how many have an input of more than
    ``grain_size`` elements: ATen's CPU kernels split such work across threads (its
    ``GRAIN_SIZE``), so each is one parallel region whose threads all must get a core."""
    events = [event for event in _aten_events(work, record_shapes=True) if _top_level(event)]
    large = sum(
        any(math.prod(shape) > grain_size for shape in event.input_shapes if shape)
        for event in events
    )
    return len(events), large


def _aten_events(work: Callable[[], Any], record_shapes: bool) -> list:
    activities = [torch.profiler.ProfilerActivity.CPU]
    with torch.profiler.profile(activities=activities, record_shapes=record_shapes) as prof:
        work()
    return [event for event in prof.events() if event.name.startswith('aten::')]


def _top_level(event) -> bool:
    """Not called from inside another aten op."""
    parent = event.cpu_parent
    while parent is not None:
        if parent.name.startswith('aten::'):
            return False
        parent = parent.cpu_parent
    return True


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


@contextlib.contextmanager
def busy_neighbour() -> Iterator[subprocess.Popen]:
    """One other busy process for the block (``yes > /dev/null``), stopped by its PID after."""
    process = subprocess.Popen(['yes'], stdout=subprocess.DEVNULL)
    try:
        yield process
    finally:
        process.kill()
        process.wait()


def contention_times(
    work: Callable[[], Any], thread_counts: Sequence[int], rounds: int, steps: int
) -> Dict[int, Dict[str, float]]:
    """Median seconds of ``work()`` with each torch thread count, idle and beside a busy process.

    Every round runs ``steps`` calls per thread count, first alone and then beside
    :func:`busy_neighbour`, so the load of other processes on a shared machine falls on all
    settings alike. The torch thread count is restored afterwards.

    Returns:
        Per thread count ``idle`` and ``busy`` medians (s) and their ratio ``slowdown``.
    """
    previous = torch.get_num_threads()
    samples = {threads: dict(idle=[], busy=[]) for threads in thread_counts}
    try:
        for _ in range(rounds):
            for threads in thread_counts:
                torch.set_num_threads(threads)
                for label in ('idle', 'busy'):
                    with busy_neighbour() if label == 'busy' else contextlib.nullcontext():
                        for _ in range(steps):
                            start = time.perf_counter()
                            work()
                            samples[threads][label].append(time.perf_counter() - start)
    finally:
        torch.set_num_threads(previous)
    result = {}
    for threads, times in samples.items():
        idle, busy = statistics.median(times['idle']), statistics.median(times['busy'])
        result[threads] = dict(idle=idle, busy=busy, slowdown=busy / idle)
    return result
