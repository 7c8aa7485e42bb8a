"""Fixtures for end-to-end tool tests: a tiny generated dataset and the small demo config."""

import os
import os.path as osp
import signal
import subprocess
import sys
from typing import List, Sequence

import pytest

from maskfreevis_demo.datasets.synthetic import SyntheticVISSettings, generate_synthetic_vis

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
PYTHON = sys.executable
DEMO_CONFIG = osp.join(
    REPO_ROOT, 'configs', 'maskfreevis', 'maskfreevis_r18_1xb4-800iter_synthetic.py'
)


@pytest.fixture(scope='session')
def tiny_dataset(tmp_path_factory) -> str:
    """4 box-only training videos and 2 validation videos with masks, 5 frames of 64 x 96."""
    root = str(tmp_path_factory.mktemp('tiny_synthetic_vis'))
    settings = SyntheticVISSettings(
        num_train_videos=4, num_val_videos=2, num_frames=5, height=64, width=96
    )
    generate_synthetic_vis(root, seed=0, settings=settings, show_progress=False)
    return root


def tiny_run_options(data_root: str, max_iters: int) -> List[str]:
    """``--cfg-options`` that shrink the demo config to a few CPU iterations on ``data_root``."""
    return [
        f'train_dataloader.dataset.data_root={data_root}',
        f'val_dataloader.dataset.data_root={data_root}',
        f'test_dataloader.dataset.data_root={data_root}',
        'train_dataloader.num_workers=0',
        'train_dataloader.persistent_workers=False',
        'val_dataloader.num_workers=0',
        'val_dataloader.persistent_workers=False',
        'test_dataloader.num_workers=0',
        'test_dataloader.persistent_workers=False',
        'train_dataloader.batch_size=2',
        f'train_cfg.max_iters={max_iters}',
        'train_cfg.val_interval=100000',
        'default_hooks.checkpoint.interval=2',
        'default_hooks.checkpoint.max_keep_ckpts=-1',
        'default_hooks.logger.interval=1',
        'randomness.seed=0',
        'randomness.deterministic=False',
    ]


def default_sigint() -> None:
    """``preexec_fn`` for a tool that a test interrupts with SIGINT: the child starts with
    Python's own Ctrl-C handling, as in a terminal, even when the suite runs as a background job
    that started with SIGINT ignored (children inherit that, and the training loop then keeps it
    ignored on purpose)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def evaluate_args(work_dir: str, data_root: str, checkpoint: str, *options: str) -> list:
    """tools/test.py on the demo config with ``checkpoint``, testing on ``data_root``."""
    return [
        PYTHON,
        'tools/test.py',
        DEMO_CONFIG,
        checkpoint,
        '--work-dir',
        work_dir,
        '--cfg-options',
        f'test_dataloader.dataset.data_root={data_root}',
        'test_dataloader.num_workers=0',
        'test_dataloader.persistent_workers=False',
        *options,
    ]


def run_tool(
    args: Sequence[str], cwd: str = REPO_ROOT, env_overrides: dict = None, timeout: int = 600
) -> subprocess.CompletedProcess:
    """Run a command with the test interpreter's environment; fail with its output on error."""
    # The venv's bin first, as for a user with the venv activated (scripts call `python`, `mim`).
    env = dict(
        os.environ,
        OMP_NUM_THREADS='1',
        MKL_NUM_THREADS='1',
        PATH=osp.dirname(sys.executable) + os.pathsep + os.environ.get('PATH', ''),
    )
    env.update(env_overrides or {})
    result = subprocess.run(
        list(args), cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout
    )
    if result.returncode != 0:
        raise AssertionError(
            f'command failed ({result.returncode}): {" ".join(args)}\n'
            f'--- stdout ---\n{result.stdout[-6000:]}\n'
            f'--- stderr ---\n{result.stderr[-6000:]}'
        )
    return result
