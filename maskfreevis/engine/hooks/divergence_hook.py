"""Stop a diverging training run with a message, before its checkpoint is saved."""

import math
from collections import deque
from typing import Deque, Dict, Optional

import torch
from mmdet.registry import HOOKS
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper

from ..process_agreement import any_process

__all__ = ['DivergenceHook', 'TrainingDivergedError']


class TrainingDivergedError(FloatingPointError):
    """Training produced non-finite or exploding losses or weights."""


@HOOKS.register_module()
class DivergenceHook(Hook):
    """Stop training when it diverges, naming the iteration and the likely cause.

    Checked after every training iteration, before the checkpoint hook (which runs last), and
    before every checkpoint is written, so the diverged weights are never saved:

    * a non-finite loss (total or any term) that made the weights non-finite, or ``patience``
      non-finite losses in a row (with AMP a single one is routine: its step is skipped);
    * an exploding loss: the total loss above ``max_loss_ratio`` times its reference (the lowest
      median of ``window`` consecutive losses seen so far) for ``patience`` iterations in a row;
    * non-finite or exploding weights: the norm of all parameters non-finite, or above
      ``max_weight_ratio`` times its value when training (or resuming) started. This catches an
      explosion in the first iterations, before the loss has a reference, and a step so large
      that the next forward pass would produce inf / NaN (e.g. inside the Hungarian matcher).

    What it costs per iteration: the losses are the values mmengine's ``RuntimeInfoHook`` has
    already copied to the host for the log (no further device sync). The parameter norm (a pass
    over every weight and one sync) is computed in the first ``window`` iterations (before the
    loss has a reference), every ``weight_check_interval`` iterations, and before each
    checkpoint is written; between those, a diverging step shows in the next iterations' loss.

    On the demo config (batch 2), a healthy 200-iteration run kept the parameter norm within
    0.1 % of its start and the loss within 2.7x of its reference; ``lr=10`` is stopped at
    iteration 2 (norm 14x), ``lr=1e8`` at iteration 1 (norm 8e7x).

    In a distributed run all processes agree on the decision after each iteration (one CPU
    all-reduce, :func:`~maskfreevis.engine.process_agreement.any_process`), so they stop at the
    same iteration. The check before a save runs where the checkpoint is written (the main
    process); if it stops the run there, the launcher ends the other processes.

    Args:
        max_loss_ratio: loss / reference above which an iteration counts as exploding.
        window: iterations whose median loss makes a reference value.
        patience: consecutive exploding iterations that stop training.
        max_weight_ratio: parameter norm / initial parameter norm that stops training.
        weight_check_interval: iterations between parameter-norm checks after the first
            ``window`` ones (checkpoint saves are always checked).
    """

    priority = 'ABOVE_NORMAL'

    def __init__(
        self,
        max_loss_ratio: float = 10.0,
        window: int = 5,
        patience: int = 3,
        max_weight_ratio: float = 10.0,
        weight_check_interval: int = 50,
    ) -> None:
        if (
            max_loss_ratio <= 1
            or max_weight_ratio <= 1
            or window < 1
            or patience < 1
            or weight_check_interval < 1
        ):
            raise ValueError(
                'DivergenceHook needs max_loss_ratio > 1, max_weight_ratio > 1, '
                'window >= 1, patience >= 1 and weight_check_interval >= 1, got '
                f'{max_loss_ratio}, {max_weight_ratio}, {window}, {patience}, '
                f'{weight_check_interval}'
            )
        self.max_loss_ratio = max_loss_ratio
        self.window = window
        self.patience = patience
        self.max_weight_ratio = max_weight_ratio
        self.weight_check_interval = weight_check_interval
        self._recent: Deque[float] = deque(maxlen=window)
        self._reference: Optional[float] = None
        self._reference_iter = 0
        self._exploding = 0
        self._non_finite_run = 0
        self._initial_weight_norm: Optional[float] = None
        self._checked_weights_at = -1  # the iteration whose weights were last checked
        self._last_saved: Optional[str] = None  # the run's last checkpoint before this iteration

    @staticmethod
    def _weight_norm(runner) -> float:
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        params = [param.detach() for param in model.parameters()]
        return float(torch.nn.utils.get_total_norm(params)) if params else 0.0

    def before_train(self, runner) -> None:
        """Remember the parameter norm the run starts from."""
        self._initial_weight_norm = self._weight_norm(runner)

    @staticmethod
    def _losses(runner, outputs: Optional[Dict[str, torch.Tensor]]) -> Dict[str, float]:
        """The iteration's losses as floats: the values ``RuntimeInfoHook`` (which runs first)
        logged, so no tensor is copied to the host again; ``outputs`` without that hook."""
        logged = runner.message_hub.log_scalars
        losses = {}
        for name, value in (outputs or {}).items():
            if 'loss' not in name or not isinstance(value, (torch.Tensor, float, int)):
                continue
            history = logged.get(f'train/{name}')
            if history is not None:
                losses[name] = float(history.current())
            else:
                losses[name] = float(value.detach() if isinstance(value, torch.Tensor) else value)
        return losses

    @staticmethod
    def _non_finite(losses: Dict[str, float]) -> Optional[str]:
        bad = [name for name, value in losses.items() if not math.isfinite(value)]
        if not bad:
            return None
        return 'non-finite loss: ' + ', '.join(f'{name}={losses[name]}' for name in bad[:6])

    def _explosion(self, loss: Optional[float], iteration: int) -> Optional[str]:
        """Whether the (finite) total loss has exploded against its reference."""
        if loss is None:
            return None
        self._recent.append(loss)
        if len(self._recent) < self.window:
            return None  # no reference yet; an explosion this early shows in the weights
        # the lower median (as torch.median), in Python: no tensor, no device
        median = sorted(self._recent)[(len(self._recent) - 1) // 2]
        if self._reference is None or median < self._reference:
            self._reference, self._reference_iter = median, iteration
        self._exploding = self._exploding + 1 if loss > self.max_loss_ratio * self._reference else 0
        if self._exploding < self.patience:
            return None
        return (
            f'exploding loss: {loss:.4g} is {loss / self._reference:.0f}x its reference '
            f'{self._reference:.4g} (median of iterations '
            f'{self._reference_iter - self.window + 1}-{self._reference_iter}), for '
            f'{self._exploding} iterations in a row'
        )

    def _weight_problem(self, runner) -> Optional[str]:
        self._checked_weights_at = runner.iter + 1
        norm = self._weight_norm(runner)
        if not math.isfinite(norm):
            return f'non-finite weights (parameter norm {norm})'
        initial = self._initial_weight_norm
        if initial and norm > self.max_weight_ratio * initial:
            return (
                f'exploding weights: parameter norm {norm:.4g} is {norm / initial:.0f}x the '
                f'{initial:.4g} training started from'
            )
        return None

    def _weights_due(self, iteration: int, non_finite: bool) -> bool:
        return non_finite or iteration <= self.window or iteration % self.weight_check_interval == 0

    def _problem(self, runner, outputs: Optional[dict], iteration: int) -> Optional[str]:
        """Why this iteration means divergence, or None."""
        losses = self._losses(runner, outputs)
        non_finite = self._non_finite(losses)
        # Under AMP a non-finite loss alone is routine (the step is skipped, the weights stay):
        # only a run of them, or weights that went with them, is divergence.
        self._non_finite_run = self._non_finite_run + 1 if non_finite else 0
        weights = (
            self._weight_problem(runner)
            if self._weights_due(iteration, non_finite is not None)
            else None
        )
        if non_finite and self._non_finite_run >= self.patience:
            return f'{non_finite}, for {self._non_finite_run} iterations in a row'
        if non_finite and weights:
            return f'{non_finite}; {weights}'
        return weights or (None if non_finite else self._explosion(losses.get('loss'), iteration))

    def after_train_iter(
        self, runner, batch_idx: int, data_batch=None, outputs: Optional[dict] = None
    ) -> None:
        """Raise :class:`TrainingDivergedError` if this iteration shows divergence."""
        iteration = runner.iter + 1
        # The checkpoint hook runs after this one: what it names now was saved before.
        self._last_saved = runner.message_hub.get_info('last_ckpt', None)
        problem = self._problem(runner, outputs, iteration)
        if any_process(problem is not None) and problem is None:
            problem = 'divergence detected by another process'
        if problem is None:
            return
        raise TrainingDivergedError(self._message(runner, iteration, problem))

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        """Check the weights about to be saved, unless this iteration's were checked already."""
        iteration = runner.iter + 1
        if self._initial_weight_norm is None or self._checked_weights_at == iteration:
            return
        problem = self._weight_problem(runner)
        if problem is not None:
            raise TrainingDivergedError(self._message(runner, iteration, problem))

    def _message(self, runner, iteration: int, problem: str) -> str:
        optimizer = runner.cfg.get('optim_wrapper', {}).get('optimizer', {})
        clip = runner.cfg.get('optim_wrapper', {}).get('clip_grad', None)
        last = self._last_saved
        saved = (
            f'The last checkpoint, {last}, was saved before this was detected.'
            if last
            else 'No checkpoint of this run has been saved.'
        )
        return (
            f'Training diverged at iteration {iteration}: {problem}. Likely cause: a learning '
            f'rate too high for this model and batch (optim_wrapper.optimizer.lr = '
            f'{optimizer.get("lr")}{"" if clip else ", no gradient clipping"}); lower it '
            f'(e.g. --cfg-options optim_wrapper.optimizer.lr=...)'
            f'{"" if clip else " or set optim_wrapper.clip_grad"}, or check the data for '
            f'extreme boxes. Stopped before saving the diverged weights. {saved}'
        )
