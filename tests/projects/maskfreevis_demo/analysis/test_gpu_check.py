"""The GPU check in its small mode on the CPU (so that it keeps working between GPU loans), its
runner's budgets and failures, and the wheels it carries."""

import importlib.metadata as metadata
import json
import os
import os.path as osp
import re
import subprocess
import sys
import time

import pytest
import torch
from mmcv.ops.multi_scale_deform_attn import (
    MultiScaleDeformableAttnFunction,
    multi_scale_deformable_attn_pytorch,
)
from packaging.requirements import Requirement

from maskfreevis_demo.analysis import gpu_check

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))))
WRAPPER = osp.join(REPO_ROOT, 'tools', 'analysis_tools', 'gpu_check.sh')
CUDA = torch.cuda.is_available()
MEASURED = ('environment', 'losses', 'train_T3', 'train_T5', 'inference_window', 'inference_whole')


def _steps(report):
    return {step['name']: step for step in report['steps']}


@pytest.mark.skipif(CUDA, reason='the small mode is the CPU run')
def test_small_mode_on_the_cpu_measures_every_step_and_writes_the_report(tmp_path):
    report = gpu_check.run_check(
        str(tmp_path / 'out'), small=True, in_process=True, build_dir=str(tmp_path / 'build')
    )
    steps = _steps(report)
    assert [step['name'] for step in report['steps']] == [s.name for s in gpu_check.plan_steps()]
    assert steps['install']['status'] == 'skipped'
    assert 'the installed stack is used' in steps['install']['reason']
    for name in ('build_mmcv', 'msda'):
        assert (steps[name]['status'], steps[name]['reason']) == ('skipped', 'no CUDA')
    for name in MEASURED:
        assert steps[name]['status'] == 'ok', steps[name]
        assert f'gpu_check --step {name} --params' in steps[name]['command']
    assert report['environment']['torch'] == torch.__version__
    assert report['environment']['mmdet'] == metadata.version('mmdet')
    losses = steps['losses']['result']
    assert [row['case'] for row in losses['rows']][0].startswith('TK T=3')
    assert all(row['rel_diff'] < 1e-4 for row in losses['rows'])
    for name, frames in (('train_T3', 3), ('train_T5', 5)):
        training = steps[name]['result']
        assert f'x {frames} frames' in training['table']
        assert training['summary']['maskfreevis']['finite']
        assert training['summary']['mask2former']['finite']
        assert training['summary']['maskfreevis']['median_step_s'] > 0
    for name in ('inference_window', 'inference_whole'):
        assert steps[name]['result']['frames'] == 6 and steps[name]['result']['fps'] > 0
    written = json.loads((tmp_path / 'out' / 'gpu_check.json').read_text())
    assert _steps(written)['train_T5']['result']['ratios'] == pytest.approx(
        steps['train_T5']['result']['ratios']
    )
    markdown = (tmp_path / 'out' / 'gpu_check.md').read_text()
    assert markdown.startswith('# GPU check on CPU') and '(small mode)' in markdown
    assert '| msda | skipped | - | no CUDA |' in markdown
    assert '## training step, T = 5' in markdown and '| windows of 4 (overlap 1) | cpu | 6 |' in (
        markdown
    )
    assert (tmp_path / 'out' / 'gpu_check_logs.tar.gz').is_file()


def test_the_wrapper_runs_a_step_in_its_own_process(tmp_path):
    out = tmp_path / 'out'
    env = dict(os.environ, PYTHON=sys.executable, OUT=str(out))
    finished = subprocess.run(
        ['bash', WRAPPER, '--small', '--steps', 'environment', '--build-dir', str(tmp_path)],
        env=env,
        capture_output=True,
        text=True,
    )
    assert finished.returncode == 0, finished.stderr[-3000:]
    report = json.loads((out / 'gpu_check.json').read_text())
    assert report['command'].startswith('bash tools/analysis_tools/gpu_check.sh --small')
    steps = _steps(report)
    assert steps['environment']['status'] == 'ok'
    assert steps['environment']['result']['torch'] == torch.__version__
    assert steps['environment']['command'].startswith('PYTHONPATH=')
    assert steps['losses']['reason'] == 'not asked for (--steps)'
    # the end of the output (what a device call returns) lists every step's status
    tail = [line.strip() for line in finished.stdout.splitlines()[-len(steps) :]]
    assert 'environment: ok' in tail and 'losses: skipped not asked for (--steps)' in tail


def test_a_command_over_its_budget_is_stopped_with_its_children(tmp_path):
    marker = tmp_path / 'grandchild_survived'
    grandchild = f'import time; time.sleep(3); open({str(marker)!r}, "w").close()'
    child = f'import subprocess, sys, time; subprocess.Popen([sys.executable, "-c", {grandchild!r}]); time.sleep(30)'  # noqa: E501
    log = str(tmp_path / 'step.log')
    start = time.monotonic()
    status, seconds, _ = gpu_check.run_command([sys.executable, '-c', child], 1.0, log)
    assert status == 'timeout' and seconds < 10 and time.monotonic() - start < 10
    time.sleep(3.5)
    assert not marker.exists()
    assert 'stopped after its budget of 1 s' in open(log).read()
    status, _, code = gpu_check.run_command([sys.executable, '-c', 'raise SystemExit(3)'], 30, log)
    assert (status, code) == ('failed', 3)


def test_steps_out_of_time_are_skipped_and_the_report_is_still_written(tmp_path):
    report = gpu_check.run_check(
        str(tmp_path / 'out'), small=True, deadline_s=0.0, build_dir=str(tmp_path / 'build')
    )
    for step in report['steps']:
        assert step['status'] == 'skipped'
        if step['name'] in ('build_mmcv', 'msda') and not CUDA:
            assert step['reason'] == 'no CUDA'
        else:
            assert step['reason'].startswith('out of time')
    assert (
        '| train_T3 | skipped | - | out of time' in (tmp_path / 'out' / 'gpu_check.md').read_text()
    )


def test_a_failed_install_skips_what_needs_it(tmp_path):
    wheels = tmp_path / 'gpu_wheels'
    wheels.mkdir()
    report = gpu_check.run_check(
        str(tmp_path / 'out'), wheels=str(wheels), small=True, build_dir=str(tmp_path / 'b')
    )
    steps = _steps(report)
    assert steps['install']['status'] == 'failed' and 'no wheels in' in steps['install']['reason']
    assert steps['environment']['status'] == 'skipped'
    assert steps['environment']['reason'] == 'needs install, which failed'


def test_the_build_needs_mmcvs_source_release(tmp_path):
    wheels = tmp_path / 'gpu_wheels'
    wheels.mkdir()
    (wheels / 'mmdet-3.3.0-py3-none-any.whl').write_bytes(b'')
    context = gpu_check.CheckContext(
        wheels=str(wheels),
        out_dir=str(tmp_path),
        build_dir=str(tmp_path / 'build'),
        work_dir=str(tmp_path),
        site=str(tmp_path / 'site'),
        python=sys.executable,
        cuda=True,
        capability='9.0',
        in_process=True,
        env=dict(os.environ),
    )
    step = next(step for step in gpu_check.plan_steps() if step.name == 'build_mmcv')
    record = gpu_check._build_step(step, context, 60.0, str(tmp_path / 'build.log'))
    assert record == dict(status='failed', reason=f'no mmcv source release in {wheels}')


def test_a_failing_step_is_recorded_and_the_next_one_runs(tmp_path, monkeypatch):
    def broken(params):
        raise RuntimeError('CUDA error: an illegal memory access was encountered')

    monkeypatch.setitem(gpu_check.STEP_FUNCTIONS, 'inference_window', broken)
    report = gpu_check.run_check(
        str(tmp_path / 'out'),
        small=True,
        in_process=True,
        only=['inference_window', 'inference_whole'],
        build_dir=str(tmp_path / 'build'),
    )
    steps = _steps(report)
    assert steps['inference_window']['status'] == 'failed'
    assert steps['inference_window']['reason'] == (
        'RuntimeError: CUDA error: an illegal memory access was encountered'
    )
    assert steps['inference_whole']['status'] == 'ok'


def test_the_gpu_losses_step_profiles_the_demos_criterion():
    config = gpu_check.criterion_config_path('demo')
    losses = next(step for step in gpu_check.plan_steps() if step.name == 'losses')
    assert gpu_check.criterion_config_path(losses.params['criterion_config']) == config
    assert osp.isfile(config) and 'mobilenetv2' in osp.basename(config)
    assert gpu_check.criterion_config_path(None) is None


def test_difference_stats_name_the_values_that_differ():
    expected = torch.arange(24, dtype=torch.float64).view(2, 3, 4)
    actual = expected.clone()
    actual[1, 2, 3] += 0.5
    actual[0, 1, 0] -= 0.01
    actual[0, 0, 1] = float('nan')
    stats = gpu_check.difference_stats(actual, expected, rtol=1e-4, atol=1e-5, worst=2)
    assert stats['differing'] == 3 and stats['nonfinite'] == 1 and stats['elements'] == 24
    assert stats['worst'][0]['index'] == [0, 0, 1]  # NaN first
    assert stats['worst'][1] == dict(index=[1, 2, 3], actual=23.5, expected=23.0)
    same = gpu_check.difference_stats(expected.float(), expected, rtol=1e-4, atol=1e-5)
    assert same['max_abs'] == 0 and same['differing'] == 0 and same['rel_l2'] == 0
    with pytest.raises(ValueError, match=r'shapes differ: \(2, 3, 4\) vs \(24,\)'):
        gpu_check.difference_stats(actual, expected.flatten(), 1e-4, 1e-5)


def test_msda_inputs_are_a_pixel_decoders():
    shapes = [[24, 40], [12, 20]]
    inputs = gpu_check.msda_inputs(2, shapes, heads=2, head_dim=4, points=3, seed=0, device='cpu')
    assert inputs['value'].shape == (2, 1200, 2, 4)
    assert inputs['sampling_locations'].shape == (2, 1200, 2, 2, 3, 2)
    assert inputs['level_start_index'].tolist() == [0, 960]
    weights = inputs['attention_weights'].flatten(-2).sum(-1)
    assert torch.allclose(weights, torch.ones_like(weights))
    outside = ((inputs['sampling_locations'] < 0) | (inputs['sampling_locations'] > 1)).any(-1)
    assert 0 < outside.float().mean() < 0.2  # some samples fall on the zero-padded border
    args = [inputs[key] for key in ('value', 'spatial_shapes', 'sampling_locations')]
    output = multi_scale_deformable_attn_pytorch(*args, inputs['attention_weights'])
    assert output.shape == (2, 1200, 8) and torch.isfinite(output).all()


def test_msda_agreement_compares_outputs_and_gradients(monkeypatch):
    """The comparison's plumbing on the CPU: the CUDA kernel's place is taken by the PyTorch
    path itself (the kernel has no CPU implementation), so the two agree exactly and both sit
    within float32 rounding of float64."""

    def pytorch_in_kernels_place(value, shapes, starts, locations, weights, im2col_step):
        return multi_scale_deformable_attn_pytorch(value, shapes, locations, weights)

    monkeypatch.setattr(MultiScaleDeformableAttnFunction, 'apply', pytorch_in_kernels_place)
    params = dict(
        batch=2, shapes=[[8, 12], [4, 6]], heads=2, head_dim=4, points=2, seed=0, device='cpu'
    )
    result = gpu_check.msda_agreement(dict(params, dtypes=['float32']))
    assert result['num_value'] == 120
    tensors = ['output', 'grad_value', 'grad_sampling_locations', 'grad_attention_weights']
    assert [row['tensor'] for row in result['rows']] == tensors
    for row in result['rows']:
        assert row['cuda_vs_pytorch']['max_abs'] == 0 and row['cuda_vs_pytorch']['differing'] == 0
        assert row['cuda_vs_float64']['rel_l2'] < 1e-5 and row['cuda_vs_float64']['nonfinite'] == 0
        assert 0 < row['pytorch_vs_float64']['rel_l2']  # float32 differs from float64 at all
    table = gpu_check._msda_section(dict(result=result))
    assert [line.split(' | ')[1] for line in table if line.startswith('| float32 |')] == tensors


def test_carried_wheels_are_sorted_by_role_and_one_version_each(tmp_path):
    for name in (
        'mmdet-3.3.0-py3-none-any.whl',
        'scikit_video-1.1.11-py2.py3-none-any.whl',
        'mmcv-2.1.0-cp312-cp312-linux_x86_64.whl',
        'mmcv-2.1.0.tar.gz',
    ):
        (tmp_path / name).write_bytes(b'')
    wheels, mmcv_wheels, sdist = gpu_check.carried_wheels(str(tmp_path))
    assert [osp.basename(w) for w in wheels] == [
        'mmdet-3.3.0-py3-none-any.whl',
        'scikit_video-1.1.11-py2.py3-none-any.whl',
    ]
    assert [osp.basename(w) for w in mmcv_wheels] == ['mmcv-2.1.0-cp312-cp312-linux_x86_64.whl']
    assert osp.basename(sdist) == 'mmcv-2.1.0.tar.gz'
    (tmp_path / 'mmdet-3.2.0-py3-none-any.whl').write_bytes(b'')
    with pytest.raises(ValueError, match=r"more than one wheel of \['mmdet'\]"):
        gpu_check.carried_wheels(str(tmp_path))


def _name(requirement: str) -> str:
    return re.sub(r'[-_.]+', '-', Requirement(requirement).name).lower()


def test_every_dependency_is_carried_or_on_the_gpu_machine():
    carried = {_name(pin) for pin in gpu_check.PURE_WHEELS + gpu_check.BINARY_WHEELS}
    carried.add(_name(gpu_check.MMCV_SDIST))
    there = carried | gpu_check.DEVICE_PACKAGES | set(gpu_check.PROVIDED_BY)
    device = dict(python_version=gpu_check.DEVICE_PYTHON, sys_platform='linux', extra='')
    with open(osp.join(REPO_ROOT, 'requirements', 'runtime.txt')) as handle:
        ours = [line.split('#')[0].strip() for line in handle if line.split('#')[0].strip()]
    needed = {}
    for requirement in ours + [
        text for package in ('mmengine', 'mmcv', 'mmdet') for text in metadata.requires(package)
    ]:
        parsed = Requirement(requirement)
        if parsed.marker is None or parsed.marker.evaluate(device):
            needed[_name(requirement)] = requirement
    missing = {name: text for name, text in needed.items() if name not in there}
    assert not missing
    # the GPU machine runs the versions the CPU stack pins
    pins = {_name(line): line for line in ours if '==' in line}
    for pin in gpu_check.PURE_WHEELS + (gpu_check.MMCV_SDIST,):
        if _name(pin) in pins:
            assert pin == pins[_name(pin)]
