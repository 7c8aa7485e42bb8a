"""The work_dir guard: an earlier run's checkpoints are not replaced unasked, one run holds the
lock, a lock of a process that is gone is taken over, a work_dir that is a file is named."""

import json
import os
import signal
import socket
import subprocess
import sys

import pytest
from mmengine.config import Config

from maskfreevis.engine.work_dir_guard import (
    LOCK_NAME,
    WorkDirError,
    WorkDirLock,
    check_no_earlier_run,
    check_work_dir_for_training,
    check_work_dir_is_folder,
    dump_would_replace_config,
    earlier_checkpoints,
)


@pytest.fixture
def other_process():
    """A live process of this host that is not this one (its pid)."""
    process = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'])
    yield process
    process.kill()
    process.wait()


def write_lock(work_dir, pid: int, host: str = None, process_start: str = None) -> None:
    from maskfreevis.engine.work_dir_guard import _process_start

    holder = dict(
        pid=pid,
        host=host or socket.gethostname(),
        process_start=process_start or _process_start(pid),
        started='2026-01-01 00:00:00',
        command='python tools/train.py other.py',
    )
    (work_dir / LOCK_NAME).write_text(json.dumps(holder))


def test_earlier_checkpoints_are_the_checkpoint_files(tmp_path):
    (tmp_path / 'last_checkpoint').write_text(str(tmp_path / 'gone.pth'))
    assert earlier_checkpoints(str(tmp_path)) == [], 'a stale pointer protects nothing'
    for name in ('iter_4.pth', 'best_acc_iter_2.pth', 'init.pth', 'run.py'):
        (tmp_path / name).write_text('x')
    (tmp_path / 'last_checkpoint').write_text(str(tmp_path / 'iter_4.pth'))
    (tmp_path / '20260101_000000').mkdir()
    assert earlier_checkpoints(str(tmp_path)) == [
        'best_acc_iter_2.pth',
        'iter_4.pth',
        'last_checkpoint',
    ]
    assert earlier_checkpoints(str(tmp_path / 'missing')) == []


def test_a_fresh_run_over_checkpoints_is_refused_naming_the_ways_on(tmp_path):
    (tmp_path / 'iter_4.pth').write_text('x')
    with pytest.raises(WorkDirError) as error:
        check_no_earlier_run(str(tmp_path), resume=False, overwrite=False)
    message = str(error.value)
    assert str(tmp_path) in message and 'iter_4.pth' in message
    assert '--resume' in message and '--work-dir' in message and '--overwrite-work-dir' in message
    check_no_earlier_run(str(tmp_path), resume=True, overwrite=False)
    check_no_earlier_run(str(tmp_path), resume=False, overwrite=True)
    check_no_earlier_run(str(tmp_path / 'new'), resume=False, overwrite=False)


def test_a_work_dir_that_is_a_file_is_named(tmp_path):
    (tmp_path / 'file').write_text('mine')
    with pytest.raises(WorkDirError, match='is an existing file, not a folder.*--work-dir'):
        check_work_dir_is_folder(str(tmp_path / 'file'))
    check_work_dir_is_folder(str(tmp_path))


def test_an_empty_work_dir_is_refused(tmp_path):
    """mmengine wrote logs, checkpoints and the config dump into the current folder."""
    for empty in ('', '  '):
        with pytest.raises(WorkDirError, match=r'work_dir is empty \(.*an unset variable'):
            check_work_dir_is_folder(empty)


def test_the_config_dump_over_the_config_file_itself_is_recognised(tmp_path):
    config = tmp_path / 'my.py'
    config.write_text("_base_ = 'base.py'\n")
    assert dump_would_replace_config(str(config), str(tmp_path))
    assert dump_would_replace_config(str(config), str(tmp_path / '..' / tmp_path.name))
    assert not dump_would_replace_config(str(config), str(tmp_path / 'work'))
    (tmp_path / 'work').mkdir()
    (tmp_path / 'work' / 'my.py').write_text('an earlier dump')
    assert not dump_would_replace_config(str(config), str(tmp_path / 'work'))
    assert not dump_would_replace_config(None, str(tmp_path))


def test_the_lock_names_this_process_and_goes_away(tmp_path):
    lock = WorkDirLock(str(tmp_path / 'work'))
    lock.acquire()
    holder = json.loads((tmp_path / 'work' / LOCK_NAME).read_text())
    assert holder['pid'] == os.getpid() and holder['host'] == socket.gethostname()
    lock.acquire()  # this process's own lock (a run in the same process)
    lock.release()
    assert not (tmp_path / 'work' / LOCK_NAME).exists()


def test_a_lock_of_a_live_process_is_refused_naming_it(tmp_path, other_process):
    write_lock(tmp_path, other_process.pid)
    with pytest.raises(WorkDirError) as error:
        WorkDirLock(str(tmp_path)).acquire()
    message = str(error.value)
    assert f'in use by another training run (pid {other_process.pid} on ' in message
    assert 'python tools/train.py other.py' in message and LOCK_NAME in message
    with pytest.raises(WorkDirError):
        WorkDirLock(str(tmp_path)).check()
    assert json.loads((tmp_path / LOCK_NAME).read_text())['pid'] == other_process.pid


def test_a_lock_of_a_process_that_is_gone_is_taken_over(tmp_path, other_process):
    write_lock(tmp_path, other_process.pid)
    other_process.kill()
    other_process.wait()
    lock = WorkDirLock(str(tmp_path))
    lock.check()
    lock.acquire()
    assert json.loads((tmp_path / LOCK_NAME).read_text())['pid'] == os.getpid()


def test_a_reused_pid_does_not_keep_the_lock(tmp_path, other_process):
    write_lock(tmp_path, other_process.pid, process_start='1')
    WorkDirLock(str(tmp_path)).acquire()


def test_a_lock_from_another_host_is_refused(tmp_path):
    write_lock(tmp_path, os.getpid() + 1, host='another-host', process_start='1')
    with pytest.raises(WorkDirError, match='on another-host'):
        WorkDirLock(str(tmp_path)).acquire()


def test_an_empty_lock_file_is_taken_over(tmp_path):
    (tmp_path / LOCK_NAME).write_text('')
    WorkDirLock(str(tmp_path)).acquire()


def test_release_leaves_another_holders_lock(tmp_path, other_process):
    lock = WorkDirLock(str(tmp_path))
    lock.acquire()
    write_lock(tmp_path, other_process.pid)  # e.g. someone deleted ours and started a run
    lock.release()
    assert (tmp_path / LOCK_NAME).exists()


def test_the_tool_check_runs_all_checks(tmp_path, other_process):
    cfg = Config(dict(work_dir=str(tmp_path)))
    check_work_dir_for_training(cfg)
    write_lock(tmp_path, other_process.pid)
    with pytest.raises(WorkDirError, match='in use by another training run'):
        check_work_dir_for_training(cfg)
    os.kill(other_process.pid, signal.SIGKILL)
    other_process.wait()
    (tmp_path / 'iter_2.pth').write_text('x')
    with pytest.raises(WorkDirError, match='already holds checkpoints'):
        check_work_dir_for_training(cfg)
    check_work_dir_for_training(Config(dict(work_dir=str(tmp_path), resume=True)))
    check_work_dir_for_training(Config(dict(work_dir=str(tmp_path), overwrite_work_dir=True)))
