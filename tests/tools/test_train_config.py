"""Command-line handling of ``tools/train.py`` (config overrides, --resume, --amp, the Runner)."""

import os.path as osp
import sys

import pytest

from .conftest import DEMO_CONFIG, REPO_ROOT

R50_CONFIG = osp.join(
    REPO_ROOT, 'configs', 'maskfreevis', 'maskfreevis_r50_8xb2-6k_youtubevis2019.py'
)


@pytest.fixture(scope='module')
def train_tool(load_tool):
    return load_tool('train.py')


@pytest.fixture
def config_file(tmp_path):
    path = tmp_path / 'toy_config.py'
    path.write_text(
        "optim_wrapper = dict(type='OptimWrapper', optimizer=dict(type='SGD', lr=0.1))\n"
        "custom_hooks = [dict(type='EMAHook')]\n"
    )
    return str(path)


def parse(train_tool, monkeypatch, *argv):
    monkeypatch.setattr(sys, 'argv', ['train.py', *argv])
    return train_tool.build_config(train_tool.parse_args())


def test_defaults(train_tool, monkeypatch, config_file):
    cfg = parse(train_tool, monkeypatch, config_file)
    assert cfg.work_dir == osp.join('./work_dirs', 'toy_config')
    assert cfg.launcher == 'none'
    assert 'resume' not in cfg
    # the config's own hooks, nothing added
    assert [hook['type'] for hook in cfg.custom_hooks] == ['EMAHook']
    assert 'overwrite_work_dir' not in cfg


def test_resume_auto_and_explicit(train_tool, monkeypatch, config_file):
    cfg = parse(train_tool, monkeypatch, config_file, '--resume')
    assert cfg.resume is True and cfg.load_from is None
    cfg = parse(train_tool, monkeypatch, config_file, '--resume', 'ckpt.pth')
    assert cfg.resume is True and cfg.load_from == 'ckpt.pth'


def test_amp_and_overrides(train_tool, monkeypatch, config_file, tmp_path):
    cfg = parse(
        train_tool,
        monkeypatch,
        config_file,
        '--amp',
        '--work-dir',
        str(tmp_path),
        '--cfg-options',
        'optim_wrapper.optimizer.lr=0.5',
    )
    assert cfg.optim_wrapper.type == 'AmpOptimWrapper'
    assert cfg.optim_wrapper.loss_scale == 'dynamic'
    assert cfg.optim_wrapper.optimizer.lr == 0.5
    assert cfg.work_dir == str(tmp_path)


def test_overwrite_flag(train_tool, monkeypatch, config_file):
    cfg = parse(train_tool, monkeypatch, config_file, '--overwrite-work-dir')
    assert cfg.overwrite_work_dir is True


def test_runner_comes_from_build_runner(train_tool, monkeypatch, config_file, tmp_path):
    """build_runner builds the config's Runner (tests/engine/test_runner.py)."""
    built = []

    class FakeRunner:
        def train(self):
            built.append('trained')

    def fake_build_runner(cfg):
        built.append(cfg)
        return FakeRunner()

    monkeypatch.setattr(train_tool, 'build_runner', fake_build_runner)
    train_tool.main(
        [
            config_file,
            '--work-dir',
            str(tmp_path),
            '--cfg-options',
            'optim_wrapper.optimizer.lr=0.5',
        ]
    )
    cfg, step = built
    assert step == 'trained' and cfg.optim_wrapper.optimizer.lr == 0.5


def test_shipped_configs_take_overrides(train_tool, monkeypatch):
    """--cfg-options reach the keys of the model schema and the data of a recipe config."""
    cfg = parse(
        train_tool,
        monkeypatch,
        R50_CONFIG,
        '--cfg-options',
        'model.track_head.criterion.loss_tk.loss_weight=0.25',
        'model.track_head.num_classes=7',
        'train_dataloader.dataset.data_root=data/x/',
        'optim_wrapper.type=OptimWrapper',
    )
    assert cfg.model.track_head.criterion.loss_tk.loss_weight == 0.25
    assert cfg.model.track_head.criterion.loss_tk.pairing == 'cyclic'  # the rest is kept
    assert cfg.model.track_head.num_classes == 7
    assert cfg.train_dataloader.dataset.data_root == 'data/x/'
    assert cfg.optim_wrapper.type == 'OptimWrapper'
    demo = parse(train_tool, monkeypatch, DEMO_CONFIG, '--amp')
    assert demo.optim_wrapper.type == 'AmpOptimWrapper'
