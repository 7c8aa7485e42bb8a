"""``SafeCheckpointHook``: weights-only checkpoints, atomic saves, old ones removed last,
a checkpoint on SIGINT."""

import os
import os.path as osp
import signal

import numpy as np
import pytest
import torch
from mmengine.hooks import Hook
from mmengine.logging import HistoryBuffer

from maskfreevis.engine.hooks import SafeCheckpointHook, use_safe_checkpoint_hook
from maskfreevis.engine.hooks.safe_checkpoint_hook import (
    arrays_to_history_buffers,
    history_buffers_to_arrays,
)
from maskfreevis.utils.checkpoint_files import PARTIAL_SUFFIX


class InterruptSave(Hook):
    """Stands for Ctrl-C (or ``error``) while the checkpoint of iteration ``at`` is written."""

    def __init__(self, at: int, error: BaseException = KeyboardInterrupt('during the save')):
        self.at, self.error = at, error

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        if checkpoint['meta']['iter'] == self.at:
            raise self.error


class SendSignal(Hook):
    """Sends ``signum`` to this process during iteration ``at`` (before the step ends)."""

    priority = 'VERY_HIGH'

    def __init__(self, at: int, signum: int = signal.SIGINT, times: int = 1) -> None:
        self.at, self.signum, self.times = at, signum, times

    def before_train_iter(self, runner, batch_idx: int, data_batch=None) -> None:
        if runner.iter + 1 == self.at:
            for _ in range(self.times):
                os.kill(os.getpid(), self.signum)


def read_last_checkpoint(work_dir) -> str:
    with open(osp.join(work_dir, 'last_checkpoint')) as handle:
        return handle.read()


def test_history_buffers_round_trip_through_a_weights_only_load(tmp_path):
    history = HistoryBuffer(max_length=7)
    for value in (1.5, 2.5, 4.0):
        history.update(value, count=2)
    plain = history_buffers_to_arrays({'train/loss': history, 'other': 3})
    torch.save(plain, tmp_path / 'hub.pth')
    loaded = arrays_to_history_buffers(torch.load(tmp_path / 'hub.pth', weights_only=True))
    rebuilt = loaded['train/loss']
    assert isinstance(rebuilt, HistoryBuffer) and rebuilt.max_length == 7
    np.testing.assert_array_equal(rebuilt.data[0], history.data[0])
    np.testing.assert_array_equal(rebuilt.data[1], history.data[1])
    assert rebuilt.mean() == history.mean() and rebuilt.current() == 4.0
    assert loaded['other'] == 3


def test_checkpoints_load_weights_only_and_resume_exactly(train_toy, tmp_path):
    straight = train_toy(tmp_path / 'straight', 6)
    train_toy(tmp_path / 'resumed', 4)
    path = str(tmp_path / 'resumed' / 'iter_4.pth')
    checkpoint = torch.load(path, weights_only=True)  # no trust, no full unpickle
    assert isinstance(checkpoint['message_hub']['log_scalars']['train/loss'], dict)
    resumed = train_toy(tmp_path / 'resumed', 6, resume=True)
    assert resumed.iter == 6
    for name, value in straight.model.state_dict().items():
        torch.testing.assert_close(resumed.model.state_dict()[name], value)
    # The history buffers came back as such (the logger's smoothed values need them).
    assert isinstance(resumed.message_hub.get_scalar('train/loss'), HistoryBuffer)


@pytest.mark.parametrize('hook_type', ['CheckpointHook', 'SafeCheckpointHook'])
def test_interrupt_during_a_save_keeps_the_previous_checkpoint(train_toy, tmp_path, hook_type):
    """max_keep_ckpts=1: mmengine deletes iter_2 before writing iter_4, so an interrupt in
    between leaves nothing to resume; the safe hook deletes only after writing."""
    work_dir = tmp_path / 'work'
    checkpoint = dict(type=hook_type, by_epoch=False, interval=2, max_keep_ckpts=1)
    with pytest.raises(KeyboardInterrupt):
        train_toy(
            work_dir,
            6,
            extra_hooks=[InterruptSave(at=4)],
            default_hooks=dict(checkpoint=checkpoint),
        )
    # build_runner makes even an explicit CheckpointHook the safe one.
    assert osp.isfile(work_dir / 'iter_2.pth')
    assert read_last_checkpoint(work_dir) == str(work_dir / 'iter_2.pth')
    assert not [name for name in os.listdir(work_dir) if name.endswith(PARTIAL_SUFFIX)]
    resumed = train_toy(work_dir, 6, resume=True, default_hooks=dict(checkpoint=checkpoint))
    assert resumed.iter == 6
    assert sorted(name for name in os.listdir(work_dir) if name.endswith('.pth')) == ['iter_6.pth']


def test_mmengine_hook_alone_loses_every_checkpoint(tmp_path, toy_config):
    """The upstream behaviour the safe hook fixes (so this test notices when mmengine changes)."""
    from mmengine.runner import Runner

    work_dir = tmp_path / 'work'
    cfg = toy_config(
        str(work_dir),
        6,
        default_hooks=dict(
            checkpoint=dict(type='CheckpointHook', by_epoch=False, interval=2, max_keep_ckpts=1)
        ),
    )
    runner = Runner.from_cfg(cfg)
    runner.register_hook(InterruptSave(at=4))
    with pytest.raises(KeyboardInterrupt):
        runner.train()
    assert not [name for name in os.listdir(work_dir) if name.endswith('.pth')]


@pytest.mark.parametrize('interrupted', [True, False])
def test_best_checkpoint_is_replaced_only_after_the_new_one_exists(tmp_path, interrupted):
    """The previous best survives an interrupt while the new best is written; without one it
    is replaced."""
    from types import SimpleNamespace

    from mmengine.fileio import LocalBackend
    from mmengine.logging import MessageHub, MMLogger

    hook = SafeCheckpointHook(interval=1, by_epoch=False, save_best='acc', rule='greater')
    hook.out_dir, hook.file_backend = str(tmp_path), LocalBackend()
    written = []

    def save_checkpoint(out_dir, filename, *args, **kwargs):
        if runner.iter == 5 and interrupted:
            raise KeyboardInterrupt
        written.append(filename)
        torch.save({'ok': 1}, osp.join(out_dir, filename))

    name = f'best_ckpt_test_{interrupted}'
    runner = SimpleNamespace(
        epoch=0,
        iter=3,
        work_dir=str(tmp_path),
        message_hub=MessageHub.get_instance(name),
        logger=MMLogger.get_instance(name),
        save_checkpoint=save_checkpoint,
    )
    hook._save_best_checkpoint(runner, {'acc': 0.5})
    first_best = hook.best_ckpt_path
    assert osp.isfile(first_best)
    runner.iter = 5
    if interrupted:
        with pytest.raises(KeyboardInterrupt):
            hook._save_best_checkpoint(runner, {'acc': 0.9})
        assert osp.isfile(first_best)  # mmengine had already deleted it at this point
    else:
        hook._save_best_checkpoint(runner, {'acc': 0.9})
        assert osp.isfile(hook.best_ckpt_path) and not osp.exists(first_best)
    assert written and all(name.endswith(PARTIAL_SUFFIX) for name in written)
    assert not list(tmp_path.glob('*' + PARTIAL_SUFFIX)), 'renamed when complete'


def test_leftover_partial_files_are_removed_at_start(train_toy, tmp_path):
    work_dir = tmp_path / 'work'
    work_dir.mkdir()
    (work_dir / ('iter_8.pth' + PARTIAL_SUFFIX)).write_bytes(b'half a checkpoint')
    train_toy(work_dir, 2)
    assert not (work_dir / ('iter_8.pth' + PARTIAL_SUFFIX)).exists()
    assert (work_dir / 'iter_2.pth').is_file()


@pytest.mark.parametrize('signum', [signal.SIGINT, signal.SIGTERM])
def test_first_interrupt_saves_a_checkpoint_and_stops(train_toy, tmp_path, signum):
    work_dir = tmp_path / 'work'
    before = signal.getsignal(signum)
    with pytest.raises(KeyboardInterrupt, match='after iteration 3.*--resume'):
        train_toy(work_dir, 10, extra_hooks=[SendSignal(at=3, signum=signum)])
    assert signal.getsignal(signum) is before, 'the previous handler is back'
    assert read_last_checkpoint(work_dir) == str(work_dir / 'iter_3.pth')
    assert torch.load(work_dir / 'iter_3.pth', weights_only=True)['meta']['iter'] == 3
    straight = train_toy(tmp_path / 'straight', 6)
    resumed = train_toy(work_dir, 6, resume=True)
    for name, value in straight.model.state_dict().items():
        torch.testing.assert_close(resumed.model.state_dict()[name], value)


def test_interrupt_saving_can_be_switched_off(train_toy, tmp_path):
    checkpoint = dict(
        type='SafeCheckpointHook', by_epoch=False, interval=100, save_on_interrupt=False
    )
    before = signal.getsignal(signal.SIGINT)
    with pytest.raises(KeyboardInterrupt):
        train_toy(
            tmp_path, 10, extra_hooks=[SendSignal(at=3)], default_hooks=dict(checkpoint=checkpoint)
        )
    assert signal.getsignal(signal.SIGINT) is before
    assert not list(tmp_path.glob('*.pth'))


@pytest.mark.parametrize(
    'default_hooks, expected',
    [
        (
            dict(checkpoint=dict(type='CheckpointHook', interval=5)),
            dict(type='SafeCheckpointHook', interval=5),
        ),
        (dict(logger=dict(type='LoggerHook')), dict(type='SafeCheckpointHook', interval=1)),
        (dict(checkpoint=None), None),
        (dict(checkpoint=dict(type='MyCheckpointHook')), dict(type='MyCheckpointHook')),
    ],
)
def test_config_gets_the_safe_hook(default_hooks, expected):
    from mmengine.config import Config

    cfg = Config(dict(default_hooks=default_hooks))
    use_safe_checkpoint_hook(cfg)
    assert cfg.default_hooks['checkpoint'] == expected


def test_handler_left_by_a_crashed_run_passes_the_signal_on(train_toy, tmp_path):
    with pytest.raises(KeyboardInterrupt):
        train_toy(tmp_path, 6, extra_hooks=[InterruptSave(at=4)])  # dies: no after_train
    assert signal.getsignal(signal.SIGINT) is not signal.default_int_handler
    with pytest.raises(KeyboardInterrupt):
        os.kill(os.getpid(), signal.SIGINT)
        for _ in range(1000):  # the handler runs between bytecodes of the main thread
            pass
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_a_forwarded_repeat_of_the_signal_is_the_same_interrupt(train_toy, tmp_path):
    """torchrun forwards the terminal's Ctrl-C to its workers, which then see it twice."""
    with pytest.raises(KeyboardInterrupt, match='after iteration 3'):
        train_toy(tmp_path, 10, extra_hooks=[SendSignal(at=3, times=2)])
    assert read_last_checkpoint(tmp_path) == str(tmp_path / 'iter_3.pth')


def test_a_later_second_signal_stops_at_once(train_toy, tmp_path, monkeypatch):
    monkeypatch.setattr(SafeCheckpointHook, 'REPEAT_GRACE_S', 0.0)
    checkpoint = dict(type='SafeCheckpointHook', by_epoch=False, interval=100)
    with pytest.raises(KeyboardInterrupt) as error:
        train_toy(
            tmp_path,
            10,
            extra_hooks=[SendSignal(at=3, times=2)],
            default_hooks=dict(checkpoint=checkpoint),
        )
    assert 'after iteration' not in str(error.value)
    assert not list(tmp_path.glob('*.pth'))


def test_a_full_disk_names_the_checkpoint_and_keeps_the_earlier_one(train_toy, tmp_path):
    import errno

    full = OSError(errno.ENOSPC, 'No space left on device')
    with pytest.raises(
        OSError,
        match=r'Could not write checkpoint .*iter_4.pth \(No space left on '
        r'device\); the earlier checkpoints and last_checkpoint are unchanged',
    ):
        train_toy(tmp_path, 6, extra_hooks=[InterruptSave(at=4, error=full)])
    assert read_last_checkpoint(tmp_path) == str(tmp_path / 'iter_2.pth')
