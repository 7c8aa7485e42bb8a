"""``SafeCheckpointHook``: checkpoints that load weights-only, atomic saves, old ones removed last,
a checkpoint when an interrupt stops training."""

import errno
import hashlib
import inspect
import os
import os.path as osp
import signal

import numpy as np
import pytest
import torch
from mmengine.hooks import CheckpointHook
from mmengine.logging import HistoryBuffer

from maskfreevis.engine import TrainingInterrupted
from maskfreevis.engine.hooks import SafeCheckpointHook
from maskfreevis.engine.hooks.safe_checkpoint_hook import (
    history_buffers_to_tensors,
    tensors_to_history_buffers,
)
from maskfreevis.utils.checkpoint_files import PARTIAL_SUFFIX, AtomicLocalBackend


def read_last_checkpoint(work_dir) -> str:
    with open(osp.join(work_dir, 'last_checkpoint')) as handle:
        return handle.read()


def checkpoints_in(work_dir) -> list:
    return sorted(name for name in os.listdir(work_dir) if name.endswith('.pth'))


def test_history_buffers_round_trip_through_a_weights_only_load(tmp_path):
    history = HistoryBuffer(max_length=7)
    for value in (1.5, 2.5, 4.0):
        history.update(value, count=2)
    plain = history_buffers_to_tensors({'train/loss': history, 'other': 3})
    torch.save(plain, tmp_path / 'hub.pth')
    loaded = tensors_to_history_buffers(torch.load(tmp_path / 'hub.pth', weights_only=True))
    rebuilt = loaded['train/loss']
    assert isinstance(rebuilt, HistoryBuffer) and rebuilt.max_length == 7
    for rebuilt_array, array in zip(rebuilt.data, history.data):
        np.testing.assert_array_equal(rebuilt_array, array)
        assert rebuilt_array.dtype == array.dtype
    assert rebuilt.mean() == history.mean() and rebuilt.current() == 4.0
    assert loaded['other'] == 3


def test_the_numpy_form_of_earlier_checkpoints_is_read_too():
    arrays = dict(log_history=np.array([1.0, 3.0]), count_history=np.array([1, 1]), max_length=5)
    rebuilt = tensors_to_history_buffers({'train/loss': arrays})['train/loss']
    assert rebuilt.mean() == 2.0 and rebuilt.max_length == 5


def test_checkpoints_hold_no_numpy_and_resume_exactly(train_toy, tmp_path):
    straight = train_toy(tmp_path / 'straight', 6)
    train_toy(tmp_path / 'resumed', 4)
    path = str(tmp_path / 'resumed' / 'iter_4.pth')
    # Nothing torch's weights-only loader would refuse, with no global allowed by anyone.
    assert torch.serialization.get_unsafe_globals_in_checkpoint(path) == []
    checkpoint = torch.load(path, weights_only=True)
    assert isinstance(checkpoint['message_hub']['log_scalars']['train/loss'], dict)
    assert isinstance(checkpoint['message_hub']['runtime_info']['eta'], float)
    resumed = train_toy(tmp_path / 'resumed', 6, resume=True)
    assert resumed.iter == 6
    for name, value in straight.model.state_dict().items():
        torch.testing.assert_close(resumed.model.state_dict()[name], value)
    # The history buffers came back as such (the logger's smoothed values need them).
    assert isinstance(resumed.message_hub.get_scalar('train/loss'), HistoryBuffer)


def test_interrupt_during_a_save_keeps_the_previous_checkpoint(train_toy, tmp_path, fail_save):
    """max_keep_ckpts=1: mmengine deletes iter_2 before writing iter_4, so an interrupt in
    between leaves nothing to resume (next test); the safe hook deletes only after writing."""
    work_dir = tmp_path / 'work'
    checkpoint = dict(type='SafeCheckpointHook', by_epoch=False, interval=2, max_keep_ckpts=1)
    with pytest.raises(KeyboardInterrupt):
        train_toy(
            work_dir, 6, extra_hooks=[fail_save(at=4)], default_hooks=dict(checkpoint=checkpoint)
        )
    assert checkpoints_in(work_dir) == ['iter_2.pth']
    assert read_last_checkpoint(work_dir) == str(work_dir / 'iter_2.pth')
    assert not [name for name in os.listdir(work_dir) if name.endswith(PARTIAL_SUFFIX)]
    resumed = train_toy(work_dir, 6, resume=True, default_hooks=dict(checkpoint=checkpoint))
    assert resumed.iter == 6
    assert checkpoints_in(work_dir) == ['iter_6.pth']


def test_mmengine_hook_alone_loses_every_checkpoint(tmp_path, toy_config, fail_save):
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
    runner.register_hook(fail_save(at=4))
    with pytest.raises(KeyboardInterrupt):
        runner.train()
    assert checkpoints_in(work_dir) == []


def failing_fsync(name: str, error: BaseException):
    """``os.fsync`` that raises ``error`` while the file called ``name`` is written."""
    real_fsync = os.fsync

    def fsync(descriptor: int) -> None:
        if osp.basename(os.readlink(f'/proc/self/fd/{descriptor}')) == name:
            raise error
        real_fsync(descriptor)

    return fsync


def test_an_interrupted_write_leaves_no_file_under_the_final_name(train_toy, tmp_path, monkeypatch):
    """The bytes go to iter_N.pth.partial; only a complete file is renamed to iter_N.pth."""
    real_fsync = os.fsync
    interrupt = KeyboardInterrupt('while the file is written')
    monkeypatch.setattr(os, 'fsync', failing_fsync('iter_4.pth' + PARTIAL_SUFFIX, interrupt))
    with pytest.raises(KeyboardInterrupt):
        train_toy(tmp_path, 6)
    monkeypatch.setattr(os, 'fsync', real_fsync)
    assert checkpoints_in(tmp_path) == ['iter_2.pth']
    assert (tmp_path / ('iter_4.pth' + PARTIAL_SUFFIX)).is_file()  # what the next start removes
    assert read_last_checkpoint(tmp_path) == str(tmp_path / 'iter_2.pth')


def test_a_full_disk_names_the_checkpoint_and_keeps_the_earlier_one(
    train_toy, tmp_path, monkeypatch
):
    real_fsync = os.fsync
    full_disk = OSError(errno.ENOSPC, 'No space left on device')
    monkeypatch.setattr(os, 'fsync', failing_fsync('iter_4.pth' + PARTIAL_SUFFIX, full_disk))
    with pytest.raises(
        OSError,
        match=r'Could not write .*iter_4.pth \(No space left on device\); the earlier files '
        r'there \(checkpoints, last_checkpoint\) are unchanged',
    ):
        train_toy(tmp_path, 6)
    monkeypatch.setattr(os, 'fsync', real_fsync)
    assert read_last_checkpoint(tmp_path) == str(tmp_path / 'iter_2.pth')
    assert checkpoints_in(tmp_path) == ['iter_2.pth']
    assert not list(tmp_path.glob('*' + PARTIAL_SUFFIX))


@pytest.mark.parametrize('interrupted', [True, False])
def test_best_checkpoint_is_replaced_only_after_the_new_one_exists(tmp_path, interrupted):
    """The previous best survives an interrupt while the new best is written; without one it
    is replaced."""
    from types import SimpleNamespace

    from mmengine.logging import MessageHub, MMLogger
    from mmengine.runner.checkpoint import save_checkpoint

    hook = SafeCheckpointHook(interval=1, by_epoch=False, save_best='acc', rule='greater')
    written = []

    def runner_save_checkpoint(out_dir, filename, *args, backend_args=None, **kwargs):
        if runner.iter == 5 and interrupted:
            raise KeyboardInterrupt
        written.append(filename)
        path = osp.join(out_dir, filename)
        save_checkpoint({'ok': 1}, path, backend_args=backend_args)

    name = f'best_ckpt_test_{interrupted}'
    runner = SimpleNamespace(
        epoch=0,
        iter=3,
        work_dir=str(tmp_path),
        message_hub=MessageHub.get_instance(name),
        logger=MMLogger.get_instance(name),
        save_checkpoint=runner_save_checkpoint,
    )
    hook.before_train(runner)
    assert isinstance(hook.file_backend, AtomicLocalBackend)
    hook.after_val_epoch(runner, {'acc': 0.5})
    first_best = hook.best_ckpt_path
    assert osp.isfile(first_best)
    runner.iter = 5
    if interrupted:
        with pytest.raises(KeyboardInterrupt):
            hook.after_val_epoch(runner, {'acc': 0.9})
        assert osp.isfile(first_best)  # mmengine had already deleted it at this point
    else:
        hook.after_val_epoch(runner, {'acc': 0.9})
        assert osp.isfile(hook.best_ckpt_path) and not osp.exists(first_best)
    assert written == ['best_acc_iter_3.pth'] + ([] if interrupted else ['best_acc_iter_5.pth'])
    assert not list(tmp_path.glob('*' + PARTIAL_SUFFIX)), 'renamed when complete'


def test_leftover_partial_files_are_removed_at_start(train_toy, tmp_path):
    work_dir = tmp_path / 'work'
    work_dir.mkdir()
    (work_dir / ('iter_8.pth' + PARTIAL_SUFFIX)).write_bytes(b'half a checkpoint')
    train_toy(work_dir, 2)
    assert not (work_dir / ('iter_8.pth' + PARTIAL_SUFFIX)).exists()
    assert (work_dir / 'iter_2.pth').is_file()


def test_a_remote_out_dir_keeps_its_own_backend():
    hook = SafeCheckpointHook(interval=1, out_dir='s3://bucket/run')
    assert hook.backend_args is None  # mmengine picks the backend of the prefix
    assert SafeCheckpointHook(interval=1).backend_args == dict(backend='atomic_local')


@pytest.mark.parametrize('signum', [signal.SIGINT, signal.SIGTERM])
def test_an_interrupt_saves_the_iteration_then_stops(train_toy, tmp_path, send_signal, signum):
    work_dir = tmp_path / 'work'
    with pytest.raises(TrainingInterrupted, match='after iteration 3.*--resume') as stopped:
        train_toy(work_dir, 10, extra_hooks=[send_signal(at=3, signum=signum)])
    assert stopped.value.signum == signum and stopped.value.exit_code == 128 + signum
    assert read_last_checkpoint(work_dir) == str(work_dir / 'iter_3.pth')
    assert torch.load(work_dir / 'iter_3.pth', weights_only=True)['meta']['iter'] == 3
    straight = train_toy(tmp_path / 'straight', 6)
    resumed = train_toy(work_dir, 6, resume=True)
    for name, value in straight.model.state_dict().items():
        torch.testing.assert_close(resumed.model.state_dict()[name], value)


def test_interrupt_saving_can_be_switched_off(train_toy, tmp_path, send_signal):
    checkpoint = dict(
        type='SafeCheckpointHook', by_epoch=False, interval=100, save_on_interrupt=False
    )
    with pytest.raises(TrainingInterrupted, match='after iteration 3. No checkpoint'):
        train_toy(
            tmp_path, 10, extra_hooks=[send_signal(at=3)], default_hooks=dict(checkpoint=checkpoint)
        )
    assert checkpoints_in(tmp_path) == []


# mmengine 0.10.7's ``CheckpointHook._save_checkpoint(runner)``, the one private method the hook
# calls (to save the interrupted iteration): its signature and source. If this fails, mmengine
# changed it: check that it still saves the current iteration, then update the hash.
SAVE_CHECKPOINT_SHA256 = 'ec62a0a4f987522f99c63299bc648d92f4674fbfafddd0aeaf74604547eb2c17'


def test_the_private_save_method_is_the_one_of_mmengine_0_10_7():
    method = CheckpointHook._save_checkpoint
    assert list(inspect.signature(method).parameters) == ['self', 'runner']
    source = inspect.getsource(method)
    assert hashlib.sha256(source.encode()).hexdigest() == SAVE_CHECKPOINT_SHA256, source
