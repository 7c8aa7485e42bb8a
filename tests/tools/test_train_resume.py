"""``tools/train.py --resume`` continues a run exactly (torch >= 2.6 ``weights_only`` fix)."""

import os.path as osp

import pytest
import torch

from .conftest import DEMO_CONFIG, PYTHON, run_tool, tiny_run_options


def train(work_dir: str, data_root: str, max_iters: int, *extra: str) -> str:
    result = run_tool(
        [
            PYTHON,
            'tools/train.py',
            DEMO_CONFIG,
            '--work-dir',
            work_dir,
            *extra,
            '--cfg-options',
            *tiny_run_options(data_root, max_iters),
        ]
    )
    return result.stdout + result.stderr


def load_weights(path: str) -> dict:
    # The package's training checkpoints need no trust: torch's safe loader reads them.
    return torch.load(path, map_location='cpu', weights_only=True)


@pytest.mark.slow
def test_resume_reaches_the_weights_of_an_uninterrupted_run(tiny_dataset, tmp_path):
    uninterrupted = str(tmp_path / 'uninterrupted')
    interrupted = str(tmp_path / 'interrupted')
    train(uninterrupted, tiny_dataset, 4)
    train(interrupted, tiny_dataset, 2)
    assert osp.isfile(osp.join(interrupted, 'iter_2.pth'))
    log = train(interrupted, tiny_dataset, 4, '--resume')
    assert 'resumed' in log.lower(), log[-3000:]

    expected = load_weights(osp.join(uninterrupted, 'iter_4.pth'))
    resumed = load_weights(osp.join(interrupted, 'iter_4.pth'))
    assert resumed['meta']['iter'] == expected['meta']['iter'] == 4
    assert expected['state_dict'].keys() == resumed['state_dict'].keys()
    for name, value in expected['state_dict'].items():
        torch.testing.assert_close(
            resumed['state_dict'][name],
            value,
            rtol=1e-5,
            atol=1e-6,
            msg=lambda m, name=name: f'{name}: {m}',
        )
    # Training really moved the weights (otherwise the comparison above would prove nothing).
    first = load_weights(osp.join(interrupted, 'iter_2.pth'))['state_dict']
    assert any(
        not torch.equal(first[name], value) for name, value in expected['state_dict'].items()
    )
