"""The config declares what runs: mmengine's plain ``Runner.from_cfg`` on the demo config gets the
hooks of ``tools/train.py``, trains and resumes, and writes the same checkpoints."""

import glob
import os.path as osp

import pytest
import torch
from mmengine.config import Config, DictAction

from .conftest import DEMO_CONFIG, PYTHON, REPO_ROOT, run_tool, tiny_run_options

# Trains the demo config the way a notebook user would: mmengine's Runner, nothing of ours.
PLAIN_RUNNER = """
import sys
from mmengine.config import Config
from mmengine.runner import Runner
cfg = Config.fromfile(sys.argv[1])
cfg.merge_from_dict(eval(sys.argv[3]))
cfg.work_dir = sys.argv[2]
Runner.from_cfg(cfg).train()
"""


def cfg_options(data_root: str, max_iters: int) -> dict:
    """The ``--cfg-options`` of :func:`tiny_run_options` as the dict they parse to."""
    action = DictAction(option_strings=['--cfg-options'], dest='cfg_options')
    parsed = type('Namespace', (), {})()
    action(None, parsed, tiny_run_options(data_root, max_iters))
    return parsed.cfg_options


def train_with_tool(work_dir: str, data_root: str, max_iters: int, *extra: str) -> None:
    run_tool(
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


def train_with_plain_runner(work_dir: str, data_root: str, max_iters: int, **overrides) -> None:
    options = dict(cfg_options(data_root, max_iters), **overrides)
    run_tool([PYTHON, '-c', PLAIN_RUNNER, DEMO_CONFIG, work_dir, repr(options)])


def hook_types(runner) -> list:
    return [type(hook).__name__ for hook in runner.hooks]


def test_plain_runner_has_the_hooks_of_the_tools(tiny_dataset, tmp_path):
    from mmengine.runner import Runner

    from maskfreevis.engine import build_runner

    def config(name: str) -> Config:
        cfg = Config.fromfile(DEMO_CONFIG)
        cfg.merge_from_dict(cfg_options(tiny_dataset, 2))
        cfg.work_dir = str(tmp_path / name)
        cfg.launcher = 'none'
        return cfg

    tools = build_runner(config('tools'))
    plain = Runner.from_cfg(config('plain'))
    assert hook_types(plain) == hook_types(tools)
    for name in ('SafeCheckpointHook', 'WorkDirGuardHook', 'CheckpointMatchHook', 'DivergenceHook'):
        assert name in hook_types(plain)
    assert type(tools.build_train_loop(tools.cfg.train_cfg)).__name__ == (
        'InterruptibleIterBasedTrainLoop'
    )


@pytest.mark.slow
def test_plain_runner_trains_resumes_and_saves_what_the_tools_save(tiny_dataset, tmp_path):
    """Before the runtime was declared in the config, the plain Runner got mmengine's
    CheckpointHook, whose checkpoints the resume then refused (UntrustedCheckpointError)."""
    tools, plain = str(tmp_path / 'tools'), str(tmp_path / 'plain')
    train_with_tool(tools, tiny_dataset, 2)
    train_with_tool(tools, tiny_dataset, 4, '--resume')
    train_with_plain_runner(plain, tiny_dataset, 2)
    train_with_plain_runner(plain, tiny_dataset, 4, resume=True)
    for step in (2, 4):
        expected = torch.load(osp.join(tools, f'iter_{step}.pth'), weights_only=True)
        written = torch.load(osp.join(plain, f'iter_{step}.pth'), weights_only=True)
        assert written['meta']['iter'] == expected['meta']['iter'] == step
        assert written['state_dict'].keys() == expected['state_dict'].keys()
        for name, value in expected['state_dict'].items():
            torch.testing.assert_close(written['state_dict'][name], value, rtol=0, atol=0)
        assert written['message_hub'].keys() == expected['message_hub'].keys()
    assert not osp.exists(osp.join(plain, 'training.lock')), 'released after training'


SHIPPED_CONFIGS = sorted(
    glob.glob(osp.join(REPO_ROOT, 'configs', 'maskfreevis', '*.py'))
    + glob.glob(osp.join(REPO_ROOT, 'projects', '*', 'configs', '*.py'))
)


@pytest.mark.parametrize('config', SHIPPED_CONFIGS, ids=osp.basename)
def test_every_shipped_config_declares_the_runtime(config):
    cfg = Config.fromfile(config)
    assert cfg.runner_type == 'CheckpointPolicyRunner'
    assert cfg.train_cfg.type == 'InterruptibleIterBasedTrainLoop'
    assert cfg.default_hooks.checkpoint.type == 'SafeCheckpointHook'
    assert [hook.type for hook in cfg.custom_hooks] == [
        'WorkDirGuardHook',
        'CheckpointMatchHook',
        'DivergenceHook',
    ]
