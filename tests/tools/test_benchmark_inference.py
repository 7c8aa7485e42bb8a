"""tools/analysis_tools/benchmark_inference.py end to end on tiny videos (each run a process)."""

import os.path as osp

import pytest
from mmengine.config import Config

from maskfreevis_demo.runner import DEMO_DATASETS, DemoOptions

from .conftest import REPO_ROOT


def test_windowed_and_whole_runs_in_fresh_processes(load_tool, tmp_path):
    tool = load_tool('analysis_tools/benchmark_inference.py')
    out = tmp_path / 'report.md'
    argv = ['--lengths', '5', '--whole-lengths', '5', '--size', '64', '36', '--random-weights']
    rows = tool.main(argv + ['--window', '3', '--overlap', '1', '--out', str(out)])
    assert [row['mode'] for row in rows] == ['windows of 3 (overlap 1)', 'whole video']
    assert all(row['frames'] == 5 and row['fps'] > 0 for row in rows)
    assert all(row['peak_rss_mib'] > 0 for row in rows)
    report = out.read_text()
    assert '| windows of 3 (overlap 1) | cpu | 5 |' in report and 'random weights' in report
    assert 'maskfreevis_mobilenetv2_1xb4-200iter_realimagery.py' in report


def test_defaults_are_the_model_make_demo_trains(load_tool):
    """The default config is the demo's, the default checkpoint the last one run_demo saves."""
    tool = load_tool('analysis_tools/benchmark_inference.py')
    demo_config = DEMO_DATASETS['real-imagery'][1]
    assert tool.DEMO_CONFIG == osp.join(REPO_ROOT, 'configs', 'maskfreevis', demo_config)
    max_iters = Config.fromfile(tool.DEMO_CONFIG).train_cfg.max_iters
    # run_demo's Runner works in <out_dir>/work_dir; `make demo` runs it from the checkout
    work_dir = osp.join(REPO_ROOT, DemoOptions(config=demo_config).out_dir, 'work_dir')
    assert tool.DEMO_CHECKPOINT == osp.join(work_dir, f'iter_{max_iters}.pth')


def test_default_checkpoint_is_used_when_make_demo_wrote_it(load_tool, tmp_path, monkeypatch):
    tool = load_tool('analysis_tools/benchmark_inference.py')
    checkpoint = tmp_path / 'iter_200.pth'
    checkpoint.write_bytes(b'weights')
    monkeypatch.setattr(tool, 'DEMO_CHECKPOINT', str(checkpoint))
    assert tool.parse_args([]).checkpoint == str(checkpoint)
    assert tool.parse_args(['--random-weights']).checkpoint is None


def test_missing_demo_checkpoint_says_how_to_make_it(load_tool, tmp_path, monkeypatch, capsys):
    tool = load_tool('analysis_tools/benchmark_inference.py')
    missing = str(tmp_path / 'demo_outputs' / 'work_dir' / 'iter_200.pth')
    monkeypatch.setattr(tool, 'DEMO_CHECKPOINT', missing)
    with pytest.raises(SystemExit):
        tool.parse_args([])
    error = capsys.readouterr().err
    assert missing in error and 'make demo' in error and '--random-weights' in error


def test_another_config_needs_its_weights(load_tool, tmp_path, capsys):
    tool = load_tool('analysis_tools/benchmark_inference.py')
    config = osp.join(
        REPO_ROOT, 'configs', 'maskfreevis', 'maskfreevis_r18_1xb4-800iter_synthetic.py'
    )
    with pytest.raises(SystemExit):
        tool.parse_args(['--config', config])
    assert '--checkpoint PATH' in capsys.readouterr().err
    missing = str(tmp_path / 'nope.pth')
    with pytest.raises(SystemExit):
        tool.parse_args(['--config', config, '--checkpoint', missing])
    assert missing in capsys.readouterr().err
    assert tool.parse_args(['--config', config, '--random-weights']).checkpoint is None
