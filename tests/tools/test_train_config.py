"""Command-line handling of ``tools/train.py`` (config overrides, --resume, --amp, trust hook)."""
import os.path as osp
import sys

import pytest
from mmengine.config import Config


@pytest.fixture(scope='module')
def train_tool(load_tool):
    return load_tool('train.py')


@pytest.fixture
def config_file(tmp_path):
    path = tmp_path / 'toy_config.py'
    path.write_text("optim_wrapper = dict(type='OptimWrapper', optimizer=dict(type='SGD', lr=0.1))\n"
                    "custom_hooks = [dict(type='EMAHook')]\n")
    return str(path)


def parse(train_tool, monkeypatch, *argv):
    monkeypatch.setattr(sys, 'argv', ['train.py', *argv])
    return train_tool.build_config(train_tool.parse_args())


def test_defaults(train_tool, monkeypatch, config_file):
    cfg = parse(train_tool, monkeypatch, config_file)
    assert cfg.work_dir == osp.join('./work_dirs', 'toy_config')
    assert cfg.launcher == 'none'
    assert 'resume' not in cfg
    assert [hook['type'] for hook in cfg.custom_hooks] == ['EMAHook', 'CheckpointTrustHook']


def test_resume_auto_and_explicit(train_tool, monkeypatch, config_file):
    cfg = parse(train_tool, monkeypatch, config_file, '--resume')
    assert cfg.resume is True and cfg.load_from is None
    cfg = parse(train_tool, monkeypatch, config_file, '--resume', 'ckpt.pth')
    assert cfg.resume is True and cfg.load_from == 'ckpt.pth'


def test_amp_and_overrides(train_tool, monkeypatch, config_file, tmp_path):
    cfg = parse(train_tool, monkeypatch, config_file, '--amp', '--work-dir', str(tmp_path),
                '--cfg-options', 'optim_wrapper.optimizer.lr=0.5')
    assert cfg.optim_wrapper.type == 'AmpOptimWrapper'
    assert cfg.optim_wrapper.loss_scale == 'dynamic'
    assert cfg.optim_wrapper.optimizer.lr == 0.5
    assert cfg.work_dir == str(tmp_path)


def test_trust_hook_not_duplicated(train_tool, config_file):
    cfg = Config.fromfile(config_file)
    train_tool.ensure_checkpoint_trust_hook(cfg)
    train_tool.ensure_checkpoint_trust_hook(cfg)
    assert [hook['type'] for hook in cfg.custom_hooks].count('CheckpointTrustHook') == 1
