"""Argument and config handling shared by the command-line tools."""

import argparse
import os
import os.path as osp

import pytest

from maskfreevis.apis.cli import (
    add_common_args,
    enable_amp,
    format_command,
    launcher_problem,
    load_config,
    parse_launch_args,
    set_resume,
)


@pytest.fixture
def config_file(tmp_path):
    path = tmp_path / 'toy_config.py'
    path.write_text(
        "optim_wrapper = dict(type='OptimWrapper',\n"
        "                     optimizer=dict(type='SGD', lr=0.1))\n"
        "custom_hooks = [dict(type='EMAHook')]\n"
    )
    return str(path)


def parse(*argv):
    parser = argparse.ArgumentParser()
    parser.add_argument('config')
    add_common_args(parser)
    return parse_launch_args(parser, list(argv))


def test_default_work_dir_and_launcher(config_file):
    cfg = load_config(parse(config_file))
    assert cfg.work_dir == osp.join('./work_dirs', 'toy_config')
    assert cfg.launcher == 'none'
    assert [hook['type'] for hook in cfg.custom_hooks] == ['EMAHook']


def test_overrides_work_dir_and_launcher(config_file, tmp_path):
    cfg = load_config(
        parse(
            config_file,
            '--work-dir',
            str(tmp_path),
            '--launcher',
            'pytorch',
            '--cfg-options',
            'optim_wrapper.optimizer.lr=0.5',
        )
    )
    assert cfg.optim_wrapper.optimizer.lr == 0.5
    assert cfg.work_dir == str(tmp_path)
    assert cfg.launcher == 'pytorch'


def test_legacy_local_rank_flag_is_exported(config_file, monkeypatch):
    monkeypatch.delenv('LOCAL_RANK', raising=False)
    parse(config_file, '--local_rank', '3')
    assert os.environ['LOCAL_RANK'] == '3'
    # torchrun's variable wins over the flag
    parse(config_file, '--local-rank', '5')
    assert os.environ['LOCAL_RANK'] == '3'


def test_amp_keeps_an_explicit_loss_scale(config_file):
    cfg = load_config(parse(config_file))
    enable_amp(cfg)
    assert cfg.optim_wrapper.type == 'AmpOptimWrapper'
    assert cfg.optim_wrapper.loss_scale == 'dynamic'
    cfg.optim_wrapper.loss_scale = 512.0
    cfg.optim_wrapper.type = 'OptimWrapper'
    enable_amp(cfg)
    assert cfg.optim_wrapper.loss_scale == 512.0


def test_resume_auto_explicit_and_absent(config_file):
    cfg = load_config(parse(config_file))
    set_resume(cfg, None)
    assert 'resume' not in cfg
    set_resume(cfg, 'auto')
    assert cfg.resume is True and cfg.load_from is None
    set_resume(cfg, 'ckpt.pth')
    assert cfg.resume is True and cfg.load_from == 'ckpt.pth'


def test_format_command_is_relative_to_the_cwd(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    script = str(tmp_path / 'tools' / 'run.py')
    assert format_command(script, ['--iters', '3']) == 'python tools/run.py --iters 3'


@pytest.mark.parametrize(
    'launcher, environment, expected',
    [
        ('slurm', {}, 'the variables it sets are missing here: SLURM_PROCID, SLURM_NTASKS'),
        (
            'mpi',
            {'OMPI_COMM_WORLD_LOCAL_RANK': '0'},
            'missing here: OMPI_COMM_WORLD_RANK, OMPI_COMM_WORLD_SIZE, MASTER_ADDR',
        ),
    ],
)
def test_a_launcher_without_its_job_environment_is_named(
    monkeypatch, capsys, config_file, launcher, environment, expected
):
    """mmengine failed with a bare KeyError: 'SLURM_PROCID'."""
    for name in ('SLURM_PROCID', 'SLURM_NTASKS', 'SLURM_NODELIST', 'MASTER_ADDR') + tuple(
        name for name in os.environ if name.startswith('OMPI_')
    ):
        monkeypatch.delenv(name, raising=False)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(SystemExit):
        parse(config_file, '--launcher', launcher)
    error = capsys.readouterr().err
    assert f'--launcher {launcher} runs' in error and expected in error
    assert 'tools/dist_train.sh CONFIG NUM_PROCESSES' in error


def test_a_launcher_that_needs_cuda_is_named_on_a_machine_without(monkeypatch):
    for name in ('SLURM_PROCID', 'SLURM_NTASKS', 'SLURM_NODELIST'):
        monkeypatch.setenv(name, '0')
    monkeypatch.setattr('torch.cuda.is_available', lambda: False)
    assert launcher_problem('slurm').startswith('--launcher slurm needs CUDA GPUs')
    assert launcher_problem('none') is None and launcher_problem('pytorch') is None


def test_a_folder_given_as_config_is_named(tmp_path):
    """mmengine said 'file ... does not exist' of a folder that exists."""
    (tmp_path / 'b.py').write_text('x = 1\n')
    (tmp_path / 'a.py').write_text('x = 1\n')
    with pytest.raises(IsADirectoryError) as error:
        load_config(parse(str(tmp_path)))
    assert str(error.value) == (
        f'config {tmp_path} is a folder; give a config file, e.g. {tmp_path / "a.py"} (it holds '
        'a.py, b.py, ...)'
    )
