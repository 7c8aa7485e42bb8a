"""Bad input through the command-line tools, as a new user meets it: every case ends with a
message naming the file / video / iteration at fault, loses nothing, and runs no foreign code.

Each case runs a real tool on the tiny generated dataset (a few seconds each), so the module is
marked slow. Dataset, API, converter and checkpoint details are unit-tested next to their modules.
"""

import json
import os
import os.path as osp
import re
import shutil
import signal
import subprocess
from typing import Sequence

import cv2
import numpy as np
import pytest
import torch

from .conftest import (
    DEMO_CONFIG,
    PYTHON,
    REPO_ROOT,
    default_sigint,
    evaluate_args,
    run_tool,
    tiny_run_options,
)

pytestmark = pytest.mark.slow


def tool_env() -> dict:
    env = dict(os.environ, OMP_NUM_THREADS='1', MKL_NUM_THREADS='1')
    env.pop('MASKFREEVIS_TRUST_CHECKPOINTS', None)
    return env


def run_failing(args: Sequence[str]) -> str:
    """Run a tool that must fail; its stdout + stderr."""
    result = subprocess.run(
        list(args), cwd=REPO_ROOT, env=tool_env(), capture_output=True, text=True, timeout=600
    )
    output = result.stdout + result.stderr
    assert result.returncode != 0, f'{" ".join(args)} succeeded:\n{output[-3000:]}'
    return output


def train_args(work_dir: str, data_root: str, max_iters: int, *options: str) -> list:
    return [
        PYTHON,
        'tools/train.py',
        DEMO_CONFIG,
        '--work-dir',
        work_dir,
        '--cfg-options',
        *tiny_run_options(data_root, max_iters),
        *options,
    ]


def copy_dataset(tiny_dataset: str, destination) -> str:
    root = str(destination)
    shutil.copytree(tiny_dataset, root)
    return root


def edit_json(path: str, edit) -> None:
    with open(path) as handle:
        data = json.load(handle)
    edit(data)
    with open(path, 'w') as handle:
        json.dump(data, handle)


def checkpoints_in(work_dir: str) -> list:
    return sorted(name for name in os.listdir(work_dir) if name.endswith('.pth'))


@pytest.fixture(scope='module')
def trained(tiny_dataset, tmp_path_factory) -> str:
    """A work_dir with the 2-iteration checkpoint ``iter_2.pth`` of the demo config."""
    work_dir = str(tmp_path_factory.mktemp('trained'))
    run_tool(
        [
            PYTHON,
            'tools/train.py',
            DEMO_CONFIG,
            '--work-dir',
            work_dir,
            '--cfg-options',
            *tiny_run_options(tiny_dataset, 2),
        ],
        env_overrides={},
    )
    return work_dir


# Data -----------------------------------------------------------------------------------------


def test_truncated_json(tiny_dataset, tmp_path):
    root = copy_dataset(tiny_dataset, tmp_path / 'data')
    ann_file = osp.join(root, 'annotations', 'train.json')
    with open(ann_file) as handle:
        text = handle.read()
    with open(ann_file, 'w') as handle:
        handle.write(text[: len(text) // 2])
    output = run_failing(train_args(str(tmp_path / 'work'), root, 2))
    assert f'{ann_file}: invalid json at line' in output and 'is it complete' in output


def test_every_box_degenerate(tiny_dataset, tmp_path):
    root = copy_dataset(tiny_dataset, tmp_path / 'data')

    def flatten(data):
        for ann in data['annotations']:
            ann['bboxes'] = [None if b is None else [b[0], b[1], b[2], 0] for b in ann['bboxes']]

    edit_json(osp.join(root, 'annotations', 'train.json'), flatten)
    output = run_failing(train_args(str(tmp_path / 'work'), root, 2))
    assert 'no training video left (4 in the json; skipped: boxes with w or h <= 0' in output
    assert 'need at least one array to concatenate' not in output


def test_zero_byte_frame(tiny_dataset, tmp_path):
    root = copy_dataset(tiny_dataset, tmp_path / 'data')
    frame = osp.join(root, 'train', 'JPEGImages', 'video_0001', '00002.jpg')
    open(frame, 'w').close()
    output = run_failing(train_args(str(tmp_path / 'work'), root, 2))
    assert frame in output and 'empty (0 bytes)' in output


def test_frames_of_different_sizes(tiny_dataset, tmp_path):
    """Frames 1-4 of every video at half size: the resize hides it (no stacking error), the
    boxes would silently be off by 2x."""
    root = copy_dataset(tiny_dataset, tmp_path / 'data')
    frames = osp.join(root, 'train', 'JPEGImages')
    for video in os.listdir(frames):
        for index in range(1, 5):
            cv2.imwrite(
                osp.join(frames, video, f'{index:05d}.jpg'), np.zeros((32, 48, 3), np.uint8)
            )
    output = run_failing(train_args(str(tmp_path / 'work'), root, 2))
    assert re.search(
        r'JPEGImages/video_000\d/0000[1-4]\.jpg\) is 48x32 \(w x h\) but the json '
        r'says 96x64',
        output,
    ), output[-2000:]


def test_wrong_data_root(tmp_path):
    output = run_failing(train_args(str(tmp_path / 'work'), str(tmp_path / 'nowhere'), 2))
    assert f'annotation file {tmp_path}/nowhere/annotations/train.json does not exist' in output


# Training runs ----------------------------------------------------------------------------------


@pytest.mark.parametrize('lr, iteration', [('10', 2), ('1e8', 1)])
def test_divergence_stops_before_saving(tiny_dataset, tmp_path, lr, iteration):
    work_dir = str(tmp_path / 'work')
    output = run_failing(
        train_args(
            work_dir,
            tiny_dataset,
            20,
            f'optim_wrapper.optimizer.lr={lr}',
            'default_hooks.checkpoint.interval=1',
        )
    )
    assert f'Training diverged at iteration {iteration}: exploding weights' in output
    assert 'learning rate too high' in output
    assert 'matrix contains invalid numeric entries' not in output
    assert checkpoints_in(work_dir) == [f'iter_{i}.pth' for i in range(1, iteration)]


def test_resume_with_nothing_to_resume_says_so(tiny_dataset, tmp_path):
    result = run_tool(
        train_args(str(tmp_path / 'work'), tiny_dataset, 2) + ['--resume'], env_overrides={}
    )
    output = result.stdout + result.stderr
    assert 'nothing to resume, no checkpoint has been saved in' in output
    assert 'latest checkpoint None' not in output


def test_interrupt_saves_a_checkpoint_that_resumes(tiny_dataset, tmp_path):
    work_dir = str(tmp_path / 'work')
    args = train_args(work_dir, tiny_dataset, 400, 'default_hooks.checkpoint.interval=1000')
    process = subprocess.Popen(
        args,
        cwd=REPO_ROOT,
        env=tool_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        preexec_fn=default_sigint,
    )
    lines = []
    for line in process.stdout:
        lines.append(line)
        if 'Iter(train) [  3/400]' in line:
            process.send_signal(signal.SIGINT)
    assert process.wait(timeout=600) == 128 + signal.SIGINT
    output = ''.join(lines)
    assert 'SIGINT received: finishing this iteration, saving a checkpoint' in output
    with open(osp.join(work_dir, 'last_checkpoint')) as handle:
        saved = handle.read()
    step = int(osp.basename(saved)[len('iter_') : -len('.pth')])
    assert step >= 3 and f'after iteration {step}' in output
    result = run_tool(train_args(work_dir, tiny_dataset, step + 1) + ['--resume'], env_overrides={})
    assert f'--resume: resuming from {saved}' in result.stdout + result.stderr
    assert (
        torch.load(osp.join(work_dir, f'iter_{step + 1}.pth'), weights_only=True)['meta']['iter']
        == step + 1
    )


# A validation hook that takes 20 s per batch: time to interrupt it.
SLOW_VALIDATION = """
import time
from mmdet.registry import HOOKS
from mmengine.hooks import Hook

@HOOKS.register_module()
class SlowValidationHook(Hook):
    priority = 'LOWEST'

    def after_val_iter(self, runner, batch_idx, data_batch=None, outputs=None):
        time.sleep(20)
"""


@pytest.mark.parametrize('signum', [signal.SIGTERM, signal.SIGINT])
def test_interrupt_during_the_final_validation_stops_at_once(tiny_dataset, tmp_path, signum):
    """The final validation used to run to its end and exit 0 after 'saving a checkpoint, then
    stopping'; now it stops within a batch, with 128 + the signal and the last checkpoint."""
    import time

    (tmp_path / 'slow_validation.py').write_text(SLOW_VALIDATION)
    config = tmp_path / 'slow_validation_config.py'
    config.write_text(
        f'_base_ = {DEMO_CONFIG!r}\n'
        "custom_imports = dict(imports=['maskfreevis', 'slow_validation'], "
        'allow_failed_imports=False)\n'
        "custom_hooks = [dict(type='WorkDirGuardHook'), dict(type='CheckpointMatchHook'), "
        "dict(type='DivergenceHook'), dict(type='SlowValidationHook')]\n"
    )
    work_dir = str(tmp_path / 'work')
    args = train_args(work_dir, tiny_dataset, 2, 'train_cfg.val_interval=2')
    args[2] = str(config)
    env = dict(tool_env(), PYTHONPATH=str(tmp_path))
    process = subprocess.Popen(
        args,
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        preexec_fn=default_sigint,
    )
    lines, signalled = [], None
    for line in process.stdout:
        lines.append(line)
        if signalled is None and 'Iter(val) [1/2]' in line:
            process.send_signal(signum)
            signalled = time.monotonic()
    returncode = process.wait(timeout=600)
    elapsed = time.monotonic() - signalled
    output = ''.join(lines)
    assert returncode == 128 + signum, output[-3000:]
    assert elapsed < 15, f'took {elapsed:.0f} s: the 20 s validation batch ran on'
    name = signal.Signals(signum).name
    assert f'Validation after iteration 2 stopped by {name}' in output
    assert f'The last checkpoint is {work_dir}/iter_2.pth' in output
    assert checkpoints_in(work_dir) == ['iter_2.pth']


def test_a_second_fresh_run_in_a_work_dir_is_refused_before_it_writes(
    tiny_dataset, trained, tmp_path
):
    work_dir = str(tmp_path / 'work')
    shutil.copytree(trained, work_dir)
    before = {
        name: open(osp.join(work_dir, name), 'rb').read()
        for name in os.listdir(work_dir)
        if osp.isfile(osp.join(work_dir, name))
    }
    folders = sorted(name for name in os.listdir(work_dir) if osp.isdir(osp.join(work_dir, name)))
    output = run_failing(train_args(work_dir, tiny_dataset, 2))
    assert f'work_dir {work_dir} already holds checkpoints of an earlier run' in output
    assert '--resume' in output and '--overwrite-work-dir' in output
    after = {name: open(osp.join(work_dir, name), 'rb').read() for name in before}
    assert after == before, 'checkpoints, last_checkpoint and the config copy are untouched'
    assert (
        sorted(name for name in os.listdir(work_dir) if osp.isdir(osp.join(work_dir, name)))
        == folders
    )
    result = run_tool(train_args(work_dir, tiny_dataset, 2) + ['--overwrite-work-dir'])
    assert result.returncode == 0


def test_a_second_run_in_a_work_dir_in_use_is_refused(tiny_dataset, tmp_path):
    """Two trainings started 2 s apart in one work_dir: the second stops, naming the first."""
    import time

    work_dir = str(tmp_path / 'work')
    first = subprocess.Popen(
        train_args(work_dir, tiny_dataset, 400, 'default_hooks.checkpoint.interval=1000'),
        cwd=REPO_ROOT,
        env=tool_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        preexec_fn=default_sigint,
    )
    try:
        for line in first.stdout:
            if 'Iter(train) [  1/400]' in line:
                break
        time.sleep(2)
        output = run_failing(train_args(work_dir, tiny_dataset, 2, 'overwrite_work_dir=True'))
        assert (
            f'work_dir {work_dir} is in use by another training run (pid {first.pid} on' in output
        )
        assert 'tools/train.py' in output
        assert first.poll() is None, 'the first run goes on'
    finally:
        first.send_signal(signal.SIGINT)
        first.communicate(timeout=600)
    assert first.returncode == 128 + signal.SIGINT
    assert not osp.exists(osp.join(work_dir, 'training.lock')), 'released by the interrupted run'


def test_a_work_dir_that_is_a_file_is_named(tiny_dataset, tmp_path):
    a_file = tmp_path / 'results.txt'
    a_file.write_text('mine')
    output = run_failing(train_args(str(a_file), tiny_dataset, 2))
    assert (
        f'work_dir {a_file} is an existing file, not a folder' in output and '--work-dir' in output
    )
    assert a_file.read_text() == 'mine'


# Checkpoints ------------------------------------------------------------------------------------


def test_crafted_checkpoint_in_the_work_dir_is_never_unpickled(
    tiny_dataset, trained, tmp_path, write_crafted_checkpoint
):
    work_dir = str(tmp_path / 'work')
    shutil.copytree(trained, work_dir)
    crafted = osp.join(work_dir, 'iter_4.pth')
    marker = write_crafted_checkpoint(crafted)
    with open(osp.join(work_dir, 'last_checkpoint'), 'w') as handle:
        handle.write(crafted)
    outputs = [
        run_failing(evaluate_args(work_dir, tiny_dataset, crafted)),
        run_failing(train_args(work_dir, tiny_dataset, 6) + ['--resume']),
        run_failing(train_args(str(tmp_path / 'other'), tiny_dataset, 2, f'load_from={crafted}')),
        run_failing(
            [
                PYTHON,
                'tools/model_converters/publish_model.py',
                crafted,
                str(tmp_path / 'published.pth'),
            ]
        ),
    ]
    for output in outputs:
        assert f"Refusing to unpickle checkpoint '{crafted}'" in output
    assert not osp.exists(marker), 'the payload ran'


def test_checkpoint_of_another_head_is_refused(tiny_dataset, trained, tmp_path):
    output = run_failing(
        evaluate_args(
            str(tmp_path / 'work'),
            tiny_dataset,
            osp.join(trained, 'iter_2.pth'),
            'model.track_head.num_classes=7',
        )
    )
    assert 'does not fit the model of this config' in output
    assert 'track_head.cls_embed.weight: checkpoint (5, 128), model (8, 128)' in output
    assert 'youtube_vis/segm_mAP' not in output


def test_truncated_checkpoint(tiny_dataset, trained, tmp_path):
    path = str(tmp_path / 'iter_2.pth')
    with open(osp.join(trained, 'iter_2.pth'), 'rb') as handle:
        data = handle.read()
    with open(path, 'wb') as handle:
        handle.write(data[: len(data) // 3])
    output = run_failing(evaluate_args(str(tmp_path / 'work'), tiny_dataset, path))
    assert f"Cannot load checkpoint '{path}'" in output and 'cut short' in output


def test_training_checkpoint_needs_no_trust(trained):
    checkpoint = torch.load(osp.join(trained, 'iter_2.pth'), weights_only=True)
    assert checkpoint['meta']['iter'] == 2 and 'message_hub' in checkpoint


# Converter --------------------------------------------------------------------------------------


def test_converter_never_overwrites_its_input(tiny_dataset, tmp_path):
    ann_file = osp.join(
        copy_dataset(tiny_dataset, tmp_path / 'data'), 'annotations', 'train_with_masks.json'
    )
    with open(ann_file, 'rb') as handle:
        before = handle.read()
    script = 'tools/dataset_converters/ytvis_to_box_only.py'
    alias = osp.join(osp.dirname(ann_file), '..', 'annotations', 'train_with_masks.json')
    for output in (ann_file, alias):
        assert 'is the input file' in run_failing([PYTHON, script, ann_file, output])
    with open(ann_file, 'rb') as handle:
        assert handle.read() == before


def test_converter_refuses_a_short_bboxes_list(tiny_dataset, tmp_path):
    ann_file = osp.join(copy_dataset(tiny_dataset, tmp_path / 'data'), 'annotations', 'train.json')
    edit_json(
        ann_file,
        lambda data: data['annotations'][0].update(bboxes=data['annotations'][0]['bboxes'][:-1]),
    )
    output = run_failing(
        [
            PYTHON,
            'tools/dataset_converters/ytvis_to_box_only.py',
            ann_file,
            str(tmp_path / 'out.json'),
        ]
    )
    assert "annotation 1 (video 1): 'bboxes' must list one entry per frame (5), got 4" in output
    assert not osp.exists(tmp_path / 'out.json')
