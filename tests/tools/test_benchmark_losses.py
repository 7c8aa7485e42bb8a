"""tools/analysis_tools/benchmark_losses.py: a tiny run prints every row and its targets."""

import importlib.util
import os.path as osp

from maskfreevis_demo.analysis import loss_benchmark as bench

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def load_tool():
    path = osp.join(REPO_ROOT, 'tools', 'analysis_tools', 'benchmark_losses.py')
    spec = importlib.util.spec_from_file_location('benchmark_losses', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_tiny_run_prints_both_padding_modes_and_the_targets(capsys):
    tool = load_tool()
    tool.main(
        [
            '--height', '16', '--width', '24', '--repeats', '1', '--layers', '2',
            '--criterion-config', 'none', '--devices', 'cpu',
        ]
    )  # fmt: skip
    output = capsys.readouterr().out
    for case in ('TK T=3 all (3 pairs)', 'pairwise M=N*T=18', 'TK T=5 cyclic (5 pairs)'):
        assert case in output and f'{case}, zeros' in output
    assert 'targets (ours / unfold): ops <= 1.0, time <= 0.5, saved <= 0.05' in output
    assert 'deep supervision, 2 decoder layers' in output


def test_default_criterion_config_is_the_demo_model():
    args = load_tool().parse_args([])
    assert osp.basename(args.criterion_config) == bench.demo_config_name()
    assert osp.isfile(args.criterion_config)
    assert args.padding_modes == ['exclude', 'zeros'] and args.contention_rounds == 0


def test_contention_lines():
    row = dict(
        ops=1000,
        parallel_ops=400,
        times={
            2: dict(idle=1.0, busy=4.0, slowdown=4.0),
            1: dict(idle=1.5, busy=2.0, slowdown=4 / 3),
        },
        load=(2.0, 3.0),
        setting='4 clips x 3 frames, 128 x 192',
        wait_policy='PASSIVE',
    )
    lines = bench.format_contention(row).splitlines()
    assert '1000 top-level aten ops, 400 of them on > 32768 elements' in lines[0]
    assert 'OMP_WAIT_POLICY PASSIVE' in lines[0]
    assert (
        lines[1].strip() == '2 thread(s): idle 1.00 s/step, beside `yes` 4.00 s/step: slowdown 4.0x'
    )
    assert lines[2].strip().endswith('slowdown 1.3x')
