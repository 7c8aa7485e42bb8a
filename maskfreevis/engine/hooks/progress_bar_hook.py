"""Progress bars for training and validation, keeping the last metrics and the phase timings."""

import time
from typing import Dict, Optional

from mmdet.registry import HOOKS
from mmengine.dist import is_main_process
from mmengine.hooks import Hook
from tqdm import tqdm

__all__ = ['ProgressBarHook']


@HOOKS.register_module()
class ProgressBarHook(Hook):
    """tqdm bars for the training iterations and the validation batches.

    Meant for runs that silence the Runner's log (``log_level='WARNING'``), as the demo does:
    the bar shows the iteration and the current total loss. Only the main process draws bars.
    After the run, :attr:`metrics` holds the last validation metrics and :attr:`timings` the
    seconds spent training (``train_s``) and in the last validation (``eval_s``).

    Args:
        enabled: draw the bars; metrics and timings are kept either way.
        description: the training bar's title (e.g. the stage of a multi-stage run).
    """

    priority = 'LOW'

    def __init__(self, enabled: bool = True, description: str = 'training') -> None:
        self.enabled = enabled
        self.description = description
        self.metrics: Dict[str, float] = {}
        self.timings: Dict[str, float] = {}
        self._bar: Optional[tqdm] = None
        self._start = 0.0

    def _open_bar(self, total: int, initial: int, description: str) -> None:
        self._start = time.perf_counter()
        self._bar = tqdm(
            total=total,
            initial=initial,
            desc=description,
            dynamic_ncols=True,
            disable=not (self.enabled and is_main_process()),
        )

    def before_train(self, runner) -> None:
        self._open_bar(runner.max_iters, runner.iter, self.description)

    def after_train_iter(self, runner, batch_idx: int, data_batch=None, outputs=None) -> None:
        self._bar.update(1)
        if outputs and 'loss' in outputs:
            loss = outputs['loss']
            loss = loss.detach() if hasattr(loss, 'detach') else loss
            self._bar.set_postfix(loss=f'{float(loss):.3f}', refresh=False)
        if runner.iter + 1 >= runner.max_iters:
            self._bar.close()
            self.timings['train_s'] = time.perf_counter() - self._start

    def before_val_epoch(self, runner) -> None:
        self._open_bar(len(runner.val_dataloader), 0, 'evaluating (val videos)')

    def after_val_iter(self, runner, batch_idx: int, data_batch=None, outputs=None) -> None:
        self._bar.update(1)

    def after_val_epoch(self, runner, metrics: Optional[Dict[str, float]] = None) -> None:
        self._bar.close()
        self.metrics = dict(metrics or {})
        self.timings['eval_s'] = time.perf_counter() - self._start
