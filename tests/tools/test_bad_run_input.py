"""Bad ways to start a run, through the real tools: a launcher outside its job, mixed precision
without a GPU, an empty or the config's own work_dir, a schedule that trains nothing, a
validation set of other classes, ``--out`` naming an input, a bad process count. Each is named
before any long work (or, for the config's own folder, the run goes on and the config is kept)."""

import json
import os
import os.path as osp
import shutil
import subprocess
from typing import Sequence

import pytest
import torch

from .conftest import DEMO_CONFIG, PYTHON, REPO_ROOT, run_tool, tiny_run_options

pytestmark = pytest.mark.slow


def tool_env() -> dict:
    env = dict(os.environ, OMP_NUM_THREADS='1', MKL_NUM_THREADS='1')
    for name in list(env):
        if name.startswith(('SLURM_', 'OMPI_')):
            del env[name]
    return env


def run_failing(args: Sequence[str], cwd: str = REPO_ROOT) -> str:
    """Run a tool that must fail; its stdout + stderr."""
    result = subprocess.run(
        list(args), cwd=cwd, env=tool_env(), capture_output=True, text=True, timeout=600
    )
    output = result.stdout + result.stderr
    assert result.returncode != 0, f'{" ".join(args)} succeeded:\n{output[-3000:]}'
    return output


def train_args(work_dir: str, data_root: str, *options: str, config: str = DEMO_CONFIG) -> list:
    return [
        PYTHON,
        osp.join(REPO_ROOT, 'tools', 'train.py'),
        config,
        '--work-dir',
        work_dir,
        '--cfg-options',
        *tiny_run_options(data_root, 2),
        *options,
    ]


def files_under(folder: str) -> list:
    return sorted(
        osp.relpath(osp.join(root, name), folder)
        for root, _, names in os.walk(folder)
        for name in names
    )


@pytest.mark.parametrize(
    'tool, launcher, expected',
    [
        ('train.py', 'slurm', 'missing here: SLURM_PROCID, SLURM_NTASKS, SLURM_NODELIST'),
        ('test.py', 'mpi', 'missing here: OMPI_COMM_WORLD_LOCAL_RANK, OMPI_COMM_WORLD_RANK'),
    ],
)
def test_a_launcher_outside_its_job_is_named_by_the_command_line(
    tmp_path, tool, launcher, expected
):
    """mmengine failed with a bare KeyError: 'SLURM_PROCID'."""
    args = [PYTHON, f'tools/{tool}', DEMO_CONFIG]
    if tool == 'test.py':
        args.append(str(tmp_path / 'x.pth'))
    output = run_failing([*args, '--launcher', launcher, '--work-dir', str(tmp_path / 'work')])
    assert f'{tool}: error: --launcher {launcher} runs' in output and expected in output
    assert 'KeyError' not in output and not (tmp_path / 'work').exists()


@pytest.mark.skipif(torch.cuda.is_available(), reason='mixed precision runs on this GPU')
def test_mixed_precision_without_a_gpu_is_refused_before_anything_is_built(tiny_dataset, tmp_path):
    output = run_failing(train_args(str(tmp_path / 'work'), tiny_dataset) + ['--amp'])
    assert 'train.py: error: --amp (optim_wrapper.type=AmpOptimWrapper) trains in mixed' in output
    assert 'AssertionError' not in output and not (tmp_path / 'work').exists()


def test_an_empty_work_dir_writes_nothing_into_the_current_folder(tiny_dataset, tmp_path):
    """--work-dir "$UNSET": checkpoints, logs and the config dump went into the current folder."""
    cwd = tmp_path / 'cwd'
    cwd.mkdir()
    output = run_failing(train_args('', tiny_dataset), cwd=str(cwd))
    assert "WorkDirError: work_dir is empty ('': an unset variable" in output
    assert files_under(str(cwd)) == []


def test_the_configs_own_folder_as_work_dir_keeps_the_config(tiny_dataset, tmp_path):
    """mmengine's config dump replaced the user's config (its _base_ and comments) with the
    flattened copy."""
    folder = tmp_path / 'experiment'
    folder.mkdir()
    config = folder / 'my_experiment.py'
    text = f"# my notes\n_base_ = '{DEMO_CONFIG}'\ntrain_cfg = dict(max_iters=2)\n"
    config.write_text(text)
    result = run_tool(train_args(str(folder), tiny_dataset, config=str(config)))
    assert config.read_text() == text
    assert f'Not writing the resolved config over {config}' in result.stdout + result.stderr
    assert (folder / 'iter_2.pth').is_file()


def test_a_schedule_of_zero_iterations_is_refused(tiny_dataset, tmp_path):
    """It trained nothing, saved nothing and exited 0."""
    output = run_failing(train_args(str(tmp_path / 'work'), tiny_dataset, 'train_cfg.max_iters=0'))
    assert 'ValueError: train_cfg.max_iters must be a positive integer, got 0' in output


def copy_with_val_category(tiny_dataset: str, destination) -> str:
    """The tiny dataset whose val.json has a fifth category, 'cube', on its first annotation."""
    root = str(destination)
    shutil.copytree(tiny_dataset, root)
    path = osp.join(root, 'annotations', 'val.json')
    with open(path) as handle:
        data = json.load(handle)
    data['categories'].append({'id': 5, 'name': 'cube'})
    data['annotations'][0]['category_id'] = 5
    with open(path, 'w') as handle:
        json.dump(data, handle)
    return root


def test_a_validation_json_with_a_category_not_in_training_is_refused(tiny_dataset, tmp_path):
    """Validation scored label i as class i of another list, without a word."""
    root = copy_with_val_category(tiny_dataset, tmp_path / 'data')
    work_dir = str(tmp_path / 'work')
    output = run_failing(train_args(work_dir, root))
    assert (
        f'ClassMismatchError: The classes of the training dataset ({root}/annotations/train.json)'
        f' and of the validation dataset ({root}/annotations/val.json) differ'
    ) in output
    assert f"only in the validation dataset ({root}/annotations/val.json): 'cube'" in output
    assert 'val_dataloader.dataset.metainfo.classes=[ellipse,polygon,star,blob]' in output
    assert 'Refused; training did not start.' in output
    assert not [name for name in os.listdir(work_dir) if name.endswith('.pth')]


def test_the_metainfo_fix_for_the_validation_json_trains(tiny_dataset, tmp_path):
    root = copy_with_val_category(tiny_dataset, tmp_path / 'data')
    work_dir = str(tmp_path / 'work')
    run_tool(
        train_args(
            work_dir, root, 'val_dataloader.dataset.metainfo.classes=[ellipse,polygon,star,blob]'
        )
    )
    assert 'iter_2.pth' in os.listdir(work_dir)


def test_out_naming_the_test_json_is_refused_before_the_test(tiny_dataset, tmp_path):
    """The metrics were written over the ground truth after the whole test."""
    root = str(tmp_path / 'data')
    shutil.copytree(tiny_dataset, root)
    ann_file = osp.join(root, 'annotations', 'val.json')
    with open(ann_file, 'rb') as handle:
        before = handle.read()
    output = run_failing(
        [
            PYTHON,
            'tools/test.py',
            DEMO_CONFIG,
            str(tmp_path / 'never_read.pth'),
            '--work-dir',
            str(tmp_path / 'work'),
            '--out',
            ann_file,
            '--cfg-options',
            f'test_dataloader.dataset.data_root={root}',
        ]
    )
    assert f'test.py: error: --out {ann_file} is the test annotation file' in output
    with open(ann_file, 'rb') as handle:
        assert handle.read() == before


@pytest.mark.parametrize('script, count', [('dist_train.sh', '0'), ('dist_test.sh', 'two')])
def test_a_process_count_that_is_not_a_positive_number_is_named(script, count):
    """torchrun failed with a bare AssertionError (0) or 'Unsupported nproc_per_node value'."""
    args = ['bash', f'tools/{script}', DEMO_CONFIG]
    if script == 'dist_test.sh':
        args.append('x.pth')
    output = run_failing([*args, count])
    assert f"{script}: error: NUM_PROCS must be a positive number of processes, got '{count}'" in (
        output
    )
