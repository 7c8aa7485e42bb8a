"""``tools/dist_train.sh`` (torchrun, DDP) trains with 2 CPU processes on the gloo backend."""

import os.path as osp
import socket

import pytest

from .conftest import DEMO_CONFIG, run_tool, tiny_run_options


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


@pytest.mark.slow
def test_dist_train_two_processes(tiny_dataset, tmp_path):
    work_dir = str(tmp_path / 'dist')
    result = run_tool(
        [
            'bash',
            'tools/dist_train.sh',
            DEMO_CONFIG,
            '2',
            '--work-dir',
            work_dir,
            '--cfg-options',
            *tiny_run_options(tiny_dataset, 2),
            'env_cfg.dist_cfg.backend=gloo',
        ],
        env_overrides={'PORT': str(free_port())},
    )
    log = result.stdout + result.stderr
    assert 'Distributed training: True' in log
    assert 'GPU number: 2' in log  # mmengine's name for the world size
    assert osp.isfile(osp.join(work_dir, 'iter_2.pth'))
    # Rank 0 logs iteration 2 of 2; torchrun exits 0 only when every rank finished.
    assert 'Iter(train) [2/2]' in log
