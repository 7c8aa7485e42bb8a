"""``InterruptibleIterBasedTrainLoop``: SIGINT / SIGTERM stop training cleanly (after the
iteration's checkpoint) or validation at once, the handlers are installed only while training
runs, a second signal stops at once, and a signal ignored on purpose stays ignored."""

import os
import signal

import pytest
from mmengine.hooks import Hook

from maskfreevis.engine import InterruptibleIterBasedTrainLoop, TrainingInterrupted


def checkpoints_in(work_dir) -> list:
    return sorted(name for name in os.listdir(work_dir) if name.endswith('.pth'))


def test_handlers_are_installed_only_while_training(train_toy, tmp_path):
    seen = []

    class Spy(Hook):
        def before_train_iter(self, runner, batch_idx, data_batch=None):
            seen.append(signal.getsignal(signal.SIGINT))

    before = signal.getsignal(signal.SIGINT)
    train_toy(tmp_path, 2, extra_hooks=[Spy()])
    assert all(getattr(handler, '__self__', None) is not None for handler in seen)
    assert isinstance(seen[0].__self__, InterruptibleIterBasedTrainLoop)
    assert signal.getsignal(signal.SIGINT) is before


def test_a_crashed_run_puts_the_previous_handlers_back(train_toy, tmp_path, fail_save):
    before = {signum: signal.getsignal(signum) for signum in (signal.SIGINT, signal.SIGTERM)}
    with pytest.raises(RuntimeError, match='disk on fire'):
        train_toy(tmp_path, 6, extra_hooks=[fail_save(at=4, error=RuntimeError('disk on fire'))])
    assert {signum: signal.getsignal(signum) for signum in before} == before
    with pytest.raises(KeyboardInterrupt):  # Ctrl-C is Python's again, at once
        os.kill(os.getpid(), signal.SIGINT)
        for _ in range(1000):  # the handler runs between bytecodes of the main thread
            pass


def test_a_forwarded_repeat_of_the_signal_is_the_same_interrupt(train_toy, tmp_path, send_signal):
    """torchrun forwards the terminal's Ctrl-C to its workers, which then see it twice."""
    with pytest.raises(TrainingInterrupted, match='after iteration 3'):
        train_toy(tmp_path, 10, extra_hooks=[send_signal(at=3, times=2)])
    assert checkpoints_in(tmp_path) == ['iter_2.pth', 'iter_3.pth']


def test_a_later_second_signal_stops_at_once(train_toy, tmp_path, send_signal, monkeypatch):
    monkeypatch.setattr(InterruptibleIterBasedTrainLoop, 'REPEAT_GRACE_S', 0.0)
    checkpoint = dict(type='SafeCheckpointHook', by_epoch=False, interval=100)
    with pytest.raises(KeyboardInterrupt) as error:
        train_toy(
            tmp_path,
            10,
            extra_hooks=[send_signal(at=3, times=2)],
            default_hooks=dict(checkpoint=checkpoint),
        )
    assert not isinstance(error.value, TrainingInterrupted)  # Python's own, mid-iteration
    assert checkpoints_in(tmp_path) == []


def test_a_later_second_sigterm_ends_the_process(tmp_path):
    """SIGTERM's default action comes back: the process ends with it (status 128 + 15)."""
    import subprocess
    import sys

    script = (
        'import os, signal, sys\n'
        f'sys.path.insert(0, {os.path.dirname(__file__)!r})\n'
        'from conftest import toy_config, SendSignal\n'
        'from maskfreevis.engine import InterruptibleIterBasedTrainLoop, build_runner\n'
        'InterruptibleIterBasedTrainLoop.REPEAT_GRACE_S = 0.0\n'
        f'runner = build_runner(toy_config({str(tmp_path)!r}, 10))\n'
        'runner.register_hook(SendSignal(at=3, signum=signal.SIGTERM, times=2))\n'
        'runner.train()\n'
    )
    result = subprocess.run([sys.executable, '-c', script], capture_output=True, text=True)
    assert result.returncode == -signal.SIGTERM, result.stderr[-2000:]


def test_sigint_ignored_at_start_stays_ignored(train_toy, tmp_path, send_signal):
    """A job started in the background by a non-interactive shell (`make test > log &`) ignores
    SIGINT; training leaves it so, and SIGTERM still saves and stops."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    runner = train_toy(tmp_path / 'ignored', 4, extra_hooks=[send_signal(at=2)])
    assert runner.iter == 4, 'the ignored Ctrl-C did not stop training'
    assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
    with pytest.raises(TrainingInterrupted, match='SIGTERM after iteration 2'):
        train_toy(tmp_path / 'term', 4, extra_hooks=[send_signal(at=2, signum=signal.SIGTERM)])
    assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN


@pytest.mark.parametrize('signum', [signal.SIGINT, signal.SIGTERM])
def test_an_interrupt_during_validation_stops_at_once(
    train_toy, tmp_path, send_signal, validation_every, signum
):
    """Validation after iteration 4 (of 8); the signal comes in its second batch of four."""
    with pytest.raises(TrainingInterrupted) as stopped:
        train_toy(
            tmp_path,
            8,
            extra_hooks=[send_signal(at=2, signum=signum, in_validation=True)],
            **validation_every(4),
        )
    message = str(stopped.value)
    assert message.startswith(
        f'Validation after iteration 4 stopped by {signal.Signals(signum).name}'
    )
    assert f'The last checkpoint is {tmp_path / "iter_4.pth"}' in message
    assert stopped.value.exit_code == 128 + signum
    assert checkpoints_in(tmp_path) == ['iter_2.pth', 'iter_4.pth']
    assert signal.getsignal(signum) in (signal.default_int_handler, signal.SIG_DFL)


def test_training_goes_on_after_an_undisturbed_validation(train_toy, tmp_path, validation_every):
    runner = train_toy(tmp_path, 8, **validation_every(4))
    assert runner.iter == 8


def test_the_stop_is_decided_once_per_iteration(train_toy, tmp_path):
    """A signal after a hook asked, within the same iteration, stops after the next one (with
    its checkpoint), so hooks and loop never disagree."""

    class AskThenSignal(Hook):
        priority = 'VERY_HIGH'

        def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None):
            if runner.iter + 1 == 3:
                assert runner.train_loop.stop_requested() is False
                os.kill(os.getpid(), signal.SIGINT)
                for _ in range(1000):
                    pass

    checkpoint = dict(type='SafeCheckpointHook', by_epoch=False, interval=100)
    with pytest.raises(TrainingInterrupted, match='after iteration 4') as stopped:
        train_toy(
            tmp_path, 10, extra_hooks=[AskThenSignal()], default_hooks=dict(checkpoint=checkpoint)
        )
    assert 'iter_4.pth' in str(stopped.value)
    assert checkpoints_in(tmp_path) == ['iter_4.pth']


@pytest.mark.parametrize(
    'overrides, expected',
    [
        (dict(), 'train_cfg.max_iters must be a positive integer, got 0'),
        (dict(val_interval=0), 'train_cfg.val_interval must be a positive integer, got 0'),
    ],
)
def test_a_schedule_that_trains_nothing_or_divides_by_zero_is_refused(
    train_toy, tmp_path, overrides, expected
):
    """max_iters=0 trained nothing and exited 0 without a word; val_interval=0 failed with
    ZeroDivisionError at the first iteration."""
    max_iters = 0 if not overrides else 2
    with pytest.raises(ValueError, match=expected):
        train_toy(tmp_path, max_iters, **overrides)
    assert not list(tmp_path.glob('*.pth'))


def test_resuming_a_finished_run_says_there_is_nothing_to_train(train_toy, tmp_path):
    """It exited 0 without a word (e.g. --resume to train longer, max_iters not raised)."""
    train_toy(tmp_path, 2)
    runner = train_toy(tmp_path, 2, resume=True)
    assert runner.iter == 2
    log = open(runner.logger.log_file).read()
    assert (
        'Nothing to train: the run resumed at iteration 2 and train_cfg.max_iters is 2. To train '
        'longer, raise it above 2 (e.g. --cfg-options train_cfg.max_iters=4)'
    ) in log
