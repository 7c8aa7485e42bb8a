"""``WorkDirGuardHook``: every way of running a config refuses a fresh run over an earlier run's
checkpoints and a second run in a work_dir in use."""

import os
import subprocess
import sys
import time

import pytest
import torch

from maskfreevis.engine import WorkDirError
from maskfreevis.engine.work_dir_guard import LOCK_NAME


def test_a_second_fresh_run_is_refused_and_loses_nothing(train_toy, tmp_path):
    train_toy(tmp_path, 4)
    before = {name: (tmp_path / name).read_bytes() for name in ('iter_4.pth', 'last_checkpoint')}
    with pytest.raises(WorkDirError, match='already holds checkpoints of an earlier run'):
        train_toy(tmp_path, 2)
    assert {name: (tmp_path / name).read_bytes() for name in before} == before
    assert not (tmp_path / LOCK_NAME).exists()


def test_resume_and_overwrite_are_allowed(train_toy, tmp_path):
    train_toy(tmp_path, 2)
    assert train_toy(tmp_path, 4, resume=True).iter == 4
    assert train_toy(tmp_path, 2, overwrite_work_dir=True).iter == 2
    assert torch.load(tmp_path / 'iter_2.pth', weights_only=True)['meta']['iter'] == 2
    assert not (tmp_path / LOCK_NAME).exists(), 'released after each run'


def test_a_run_in_a_work_dir_in_use_is_refused(train_toy, tmp_path):
    """A real second process: the toy run of another interpreter, slowed down, holds the lock."""
    script = (
        'import sys, time\n'
        f'sys.path.insert(0, {os.path.dirname(os.path.dirname(__file__))!r})\n'
        'from mmengine.hooks import Hook\n'
        'from conftest import toy_config\n'
        'from maskfreevis.engine import build_runner\n'
        'class Slow(Hook):\n'
        '    def after_train_iter(self, *args, **kwargs):\n'
        '        time.sleep(1)\n'
        f'runner = build_runner(toy_config({str(tmp_path)!r}, 20))\n'
        'runner.register_hook(Slow())\n'
        'runner.train()\n'
    )
    first = subprocess.Popen([sys.executable, '-c', script])
    try:
        for _ in range(600):
            if (tmp_path / LOCK_NAME).exists() or first.poll() is not None:
                break
            time.sleep(0.1)
        assert first.poll() is None, 'the first run ended early'
        with pytest.raises(
            WorkDirError, match=f'in use by another training run \\(pid {first.pid} '
        ):
            train_toy(tmp_path, 2, overwrite_work_dir=True)
    finally:
        first.kill()
        first.wait()
    # Its lock stays (killed) and is taken over by the next run, which says so.
    assert (tmp_path / LOCK_NAME).exists()
    assert train_toy(tmp_path, 2, overwrite_work_dir=True).iter == 2
