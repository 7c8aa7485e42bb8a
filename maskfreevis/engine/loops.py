"""The iteration-based training loop that turns Ctrl-C and SIGTERM into a clean stop."""

import os
import signal
import threading
import time
from typing import Dict, Optional

from mmdet.registry import LOOPS
from mmengine.logging import print_log
from mmengine.runner import IterBasedTrainLoop

from .process_agreement import any_process

__all__ = ['InterruptibleIterBasedTrainLoop', 'TrainingInterrupted']


class TrainingInterrupted(KeyboardInterrupt):
    """Training (or the validation inside it) stopped by SIGINT or SIGTERM.

    Args:
        message: what stopped, after which iteration, and the checkpoint to resume from.
        signum: the signal this process received (None: another process of the run got it).
    """

    def __init__(self, message: str, signum: Optional[int]) -> None:
        super().__init__(message)
        self.signum = signum

    @property
    def exit_code(self) -> int:
        """128 + the signal number, what a shell reports for a process the signal stopped."""
        return 128 + int(self.signum or signal.SIGINT)


def _is_positive_integer(value) -> bool:
    """An int >= 1, or a float equal to one (``--cfg-options`` may give ``10.0``); not a bool."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    return value >= 1 and float(value).is_integer()


@LOOPS.register_module()
class InterruptibleIterBasedTrainLoop(IterBasedTrainLoop):
    """mmengine's ``IterBasedTrainLoop`` that stops cleanly on the first SIGINT / SIGTERM.

    While :meth:`run` runs (and only then: the previous handlers come back however it ends,
    including by an exception), the first SIGINT (Ctrl-C) or SIGTERM (a job scheduler,
    ``timeout``):

    * during training: lets the running iteration finish; its ``after_train_iter`` hooks see
      :meth:`stop_requested` (:class:`~maskfreevis.engine.hooks.SafeCheckpointHook` saves a
      checkpoint then), and the loop raises :class:`TrainingInterrupted` instead of going on;
    * during the validation inside training (the model is in eval mode): raises
      :class:`TrainingInterrupted` at once, naming the last checkpoint.

    A second signal more than ``REPEAT_GRACE_S`` after the first does what the signal did before
    the loop started (``KeyboardInterrupt``, or the default action: the process ends); a repeat
    within that time is the same interrupt forwarded by a launcher (torchrun sends the terminal's
    Ctrl-C on to its workers). A signal that the process ignored when the loop started (a job
    started in the background by a non-interactive shell ignores SIGINT) stays ignored: whoever
    started the process asked for that. Outside the main thread no handler can be installed; the
    loop then runs as mmengine's.

    In a distributed run all processes agree after each iteration (one CPU all-reduce,
    :func:`~maskfreevis.engine.process_agreement.any_process`) and stop after the same one.

    Same arguments as :class:`mmengine.runner.IterBasedTrainLoop`.
    """

    INTERRUPT_SIGNALS = (signal.SIGINT, signal.SIGTERM)
    # A signal this soon after the first one is the same interrupt forwarded by a launcher.
    REPEAT_GRACE_S = 2.0

    def __init__(self, runner, dataloader, max_iters: int, *args, **kwargs) -> None:
        # mmengine trains 0 iterations and exits 0 without a word (max_iters=0), and divides by
        # val_interval at the first iteration (val_interval=0: ZeroDivisionError)
        for option, value in (
            ('max_iters', max_iters),
            ('val_interval', kwargs.get('val_interval', 1000)),
        ):
            if not _is_positive_integer(value):
                raise ValueError(
                    f'train_cfg.{option} must be a positive integer, got {value!r}'
                    + (
                        ' (no validation: a value beyond max_iters, or val_cfg = None)'
                        if option == 'val_interval'
                        else ' (the number of training iterations)'
                    )
                )
        super().__init__(runner, dataloader, max_iters, *args, **kwargs)
        self.interrupted_by: Optional[int] = None
        self._interrupted_at = 0.0
        self._previous_handlers: Dict[int, object] = {}
        self._stop_decision: Optional[bool] = None

    def run(self):
        """Train (see :meth:`mmengine.runner.IterBasedTrainLoop.run`) with the handlers in place.

        A run resumed at or beyond ``max_iters`` trains nothing (mmengine says nothing): the log
        says so and how to train longer.
        """
        if self._iter >= self._max_iters:
            self.runner.logger.warning(
                f'Nothing to train: the run resumed at iteration {self._iter} and '
                f'train_cfg.max_iters is {self._max_iters}. To train longer, raise it above '
                f'{self._iter} (e.g. --cfg-options train_cfg.max_iters='
                f'{self._iter + self._max_iters}); the param_scheduler milestones stay as the '
                'config sets them.'
            )
        self._install_handlers()
        try:
            return super().run()
        finally:
            self._restore_handlers()

    def run_iter(self, data_batch) -> None:
        """One iteration; then :class:`TrainingInterrupted` if an interrupt came (any process)."""
        self._stop_decision = None  # decided once per iteration, by the first to ask
        super().run_iter(data_batch)
        if self.stop_requested():
            raise TrainingInterrupted(self._stopped_message(), self.interrupted_by)

    def stop_requested(self) -> bool:
        """Whether training stops after the running iteration.

        True once any process received SIGINT / SIGTERM. Decided once per iteration, when first
        asked (by a hook's ``after_train_iter`` or, at the latest, by the loop after them), so
        every caller and every process sees the same answer.
        """
        if self._stop_decision is None:
            self._stop_decision = any_process(self.interrupted_by is not None)
        return self._stop_decision

    # Signal handling ----------------------------------------------------------------------

    def _install_handlers(self) -> None:
        self.interrupted_by, self._stop_decision = None, None
        if threading.current_thread() is not threading.main_thread():
            print_log(
                'Not in the main thread: SIGINT / SIGTERM stop training at once, without a '
                'checkpoint.',
                logger='current',
            )
            return
        for signum in self.INTERRUPT_SIGNALS:
            previous = signal.getsignal(signum)
            if previous == signal.SIG_IGN:
                print_log(
                    f'{signal.Signals(signum).name} is ignored by this process (e.g. a job '
                    'started in the background); it stays ignored during training.',
                    logger='current',
                )
                continue
            # None: a handler not installed from Python; the default action is the nearest.
            self._previous_handlers[signum] = signal.SIG_DFL if previous is None else previous
            signal.signal(signum, self._on_signal)

    def _restore_handlers(self) -> None:
        for signum, handler in self._previous_handlers.items():
            signal.signal(signum, handler)
        self._previous_handlers = {}

    def _saves_on_interrupt(self) -> bool:
        return any(getattr(hook, 'save_on_interrupt', False) for hook in self.runner.hooks)

    def _on_signal(self, signum: int, frame) -> None:
        name = signal.Signals(signum).name
        now = time.monotonic()
        if self.interrupted_by is None:
            self.interrupted_by, self._interrupted_at = signum, now
            if not self.runner.model.training:  # validating: nothing to finish
                self._restore_handlers()
                raise TrainingInterrupted(
                    f'Validation after iteration {self._iter} stopped by {name}. '
                    f'{self._resume_hint()}',
                    signum,
                )
            saving = 'saving a checkpoint, ' if self._saves_on_interrupt() else ''
            print(
                f'{name} received: finishing this iteration, {saving}then '
                f'stopping (send it again after {self.REPEAT_GRACE_S:.0f} s to stop at once'
                f'{", without a checkpoint" if saving else ""}).',
                flush=True,
            )
        elif now - self._interrupted_at >= self.REPEAT_GRACE_S:
            self._pass_on(signum, frame)
        # else: the same interrupt forwarded by a launcher

    def _pass_on(self, signum: int, frame) -> None:
        """Give the signal the behaviour it had before the loop (KeyboardInterrupt, exit)."""
        previous = self._previous_handlers.get(signum, signal.SIG_DFL)
        self._restore_handlers()
        if callable(previous):
            previous(signum, frame)
        elif previous == signal.SIG_DFL:
            os.kill(os.getpid(), signum)

    # Messages ------------------------------------------------------------------------------

    def _resume_hint(self) -> str:
        last = self.runner.message_hub.get_info('last_ckpt', None)
        if not last:
            return 'No checkpoint of this run has been saved.'
        return (
            f'The last checkpoint is {last}; continue with `tools/train.py CONFIG --resume` '
            '(same --work-dir).'
        )

    def _stopped_message(self) -> str:
        by = (
            signal.Signals(self.interrupted_by).name
            if self.interrupted_by is not None
            else 'an interrupt of another process'
        )
        return f'Training stopped by {by} after iteration {self._iter}. {self._resume_hint()}'
