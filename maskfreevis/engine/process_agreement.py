"""One yes/no decision shared by every process of a distributed run, without a GPU sync.

The hooks that may stop training (an interrupt, a divergence) must stop every process after the
same iteration, or the others wait for them in the next gradient all-reduce. Each decision is an
all-reduce of one integer over a CPU (gloo) process group: with the NCCL backend a flag on the GPU
would need a device-to-host copy, which makes the host wait for every queued kernel each iteration;
a CPU collective does not touch the GPU stream, and DDP already meets the processes at every step.
"""

from typing import Dict, Optional

import torch
import torch.distributed as torch_dist

__all__ = ['any_process']

# The gloo group made for each default process group whose backend is not gloo already.
_cpu_groups: Dict[int, object] = {}


def _cpu_group() -> Optional[object]:
    """A gloo group over all processes (None: the default group, already gloo)."""
    if 'gloo' in str(torch_dist.get_backend()).lower():
        return None
    key = id(torch_dist.group.WORLD)
    if key not in _cpu_groups:
        # Collective: every process reaches this on its first decision, in the same order.
        _cpu_groups[key] = torch_dist.new_group(backend='gloo')
    return _cpu_groups[key]


def any_process(flag: bool) -> bool:
    """Whether ``flag`` is true in any process (``flag`` itself outside distributed runs).

    Every process must call this at the same point of its run, the same number of times.

    Args:
        flag: this process's answer.

    Returns:
        The logical OR over all processes.
    """
    if not (torch_dist.is_available() and torch_dist.is_initialized()):
        return flag
    if torch_dist.get_world_size() == 1:
        return flag
    vote = torch.tensor([int(flag)], dtype=torch.int32)
    torch_dist.all_reduce(vote, op=torch_dist.ReduceOp.MAX, group=_cpu_group())
    return bool(vote[0])
