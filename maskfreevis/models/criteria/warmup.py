"""The training-step clock of the criterion and its linear loss warm-up."""

from typing import Optional

from mmengine.logging import MessageHub

__all__ = ['runner_iteration', 'linear_warmup_factor']


def runner_iteration() -> Optional[int]:
    """The Runner's 0-based current iteration, or ``None`` without a Runner.

    mmengine's loops write ``'iter'`` into the current :class:`MessageHub`
    before each training step; outside a Runner the key is missing.
    """
    iteration = MessageHub.get_current_instance().get_info('iter')
    return None if iteration is None else int(iteration)


def linear_warmup_factor(iteration: int, warmup_iters: int) -> float:
    """``min(iteration / warmup_iters, 1)``; 1.0 when ``warmup_iters <= 0``."""
    if warmup_iters <= 0:
        return 1.0
    return min(max(iteration, 0) / warmup_iters, 1.0)
