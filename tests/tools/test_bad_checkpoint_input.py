"""Checkpoints that do not belong to the run, through the real tools: a test set of other
classes, a checkpoint URL that fails, a checkpoint of another architecture. Each ends before any
inference with a message naming the checkpoint, the reason and the fix."""

import http.server
import json
import os
import os.path as osp
import pickle
import re
import shutil
import subprocess
import threading
from typing import Sequence

import numpy as np
import pytest
import torch

from .conftest import DEMO_CONFIG, PYTHON, REPO_ROOT, evaluate_args, run_tool, tiny_run_options

pytestmark = pytest.mark.slow


def tool_env(torch_home: str) -> dict:
    env = dict(os.environ, OMP_NUM_THREADS='1', MKL_NUM_THREADS='1', TORCH_HOME=torch_home)
    env.pop('MASKFREEVIS_TRUST_CHECKPOINTS', None)
    return env


def run_failing(args: Sequence[str], torch_home: str) -> str:
    """Run a tool that must fail; its stdout + stderr."""
    result = subprocess.run(
        list(args),
        cwd=REPO_ROOT,
        env=tool_env(torch_home),
        capture_output=True,
        text=True,
        timeout=600,
    )
    output = result.stdout + result.stderr
    assert result.returncode != 0, f'{" ".join(args)} succeeded:\n{output[-3000:]}'
    return output


def dataset_with_categories(tiny_dataset: str, destination, edit) -> str:
    """A copy of the tiny dataset whose val.json categories (and annotations) ``edit`` changes."""
    root = str(destination)
    shutil.copytree(tiny_dataset, root)
    path = osp.join(root, 'annotations', 'val.json')
    with open(path) as handle:
        data = json.load(handle)
    edit(data)
    with open(path, 'w') as handle:
        json.dump(data, handle)
    return root


@pytest.fixture(scope='module')
def checkpoint(tiny_dataset, tmp_path_factory) -> str:
    """``iter_2.pth`` of the demo config, trained on classes ellipse, polygon, star, blob."""
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
        ]
    )
    return osp.join(work_dir, 'iter_2.pth')


def rename_first_category(data: dict) -> None:
    data['categories'][0]['name'] = 'circle'


def swap_first_two_category_ids(data: dict) -> None:
    swap = {1: 2, 2: 1}
    for category in data['categories']:
        category['id'] = swap.get(category['id'], category['id'])
    for annotation in data['annotations']:
        annotation['category_id'] = swap.get(annotation['category_id'], annotation['category_id'])


@pytest.mark.parametrize(
    'edit, difference',
    [
        (rename_first_category, "only in the test dataset (DATA/annotations/val.json): 'circle'"),
        (swap_first_two_category_ids, "the same names in another order: label 0 is 'ellipse'"),
    ],
)
def test_a_test_json_of_other_classes_is_refused_before_inference(
    tiny_dataset, checkpoint, tmp_path, edit, difference
):
    data_root = dataset_with_categories(tiny_dataset, tmp_path / 'data', edit)
    output = run_failing(
        evaluate_args(str(tmp_path / 'work'), data_root, checkpoint), str(tmp_path / 'hub')
    )
    assert 'ClassMismatchError' in output
    assert f"checkpoint {checkpoint}: (4) 'ellipse', 'polygon', 'star', 'blob'" in output
    assert difference.replace('DATA', data_root) in output
    assert 'test_dataloader.dataset.metainfo.classes=[ellipse,polygon,star,blob]' in output
    assert 'Refused; nothing was scored.' in output
    assert 'Iter(test)' not in output and 'segm_mAP' not in output


def test_the_metainfo_fix_the_refusal_names_scores(tiny_dataset, checkpoint, tmp_path):
    data_root = dataset_with_categories(
        tiny_dataset, tmp_path / 'data', swap_first_two_category_ids
    )
    result = run_tool(
        evaluate_args(
            str(tmp_path / 'work'),
            data_root,
            checkpoint,
            'test_dataloader.dataset.metainfo.classes=[ellipse,polygon,star,blob]',
        ),
        env_overrides=dict(TORCH_HOME=str(tmp_path / 'hub')),
    )
    assert 'youtube_vis/segm_mAP' in result.stdout + result.stderr


class NotFoundHandler(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        self.send_error(404, 'Not Found')

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def not_found_server():
    """``http://127.0.0.1:PORT`` of a local server that answers 404 to everything."""
    httpd = http.server.ThreadingHTTPServer(('127.0.0.1', 0), NotFoundHandler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f'http://127.0.0.1:{httpd.server_address[1]}'
    httpd.shutdown()
    httpd.server_close()


def test_a_checkpoint_url_that_fails_is_named_with_the_reason_and_the_fix(
    tiny_dataset, tmp_path, not_found_server
):
    hub = str(tmp_path / 'hub')
    refused = 'http://127.0.0.1:9/x.pth'
    output = run_failing(evaluate_args(str(tmp_path / 'work'), tiny_dataset, refused), hub)
    assert (
        f'CheckpointDownloadError: Cannot download checkpoint {refused}: the connection was '
        'refused: no server answers at that host and port. Download it yourself (e.g. wget -O '
        f"x.pth '{refused}', or with a browser) and pass the local path instead"
    ) in output
    missing = f'{not_found_server}/models/missing.pth'
    output = run_failing(evaluate_args(str(tmp_path / 'work'), tiny_dataset, missing), hub)
    assert (
        f'Cannot download checkpoint {missing}: the server answered HTTP 404 Not Found (no file '
        'at this address)'
    ) in output
    assert not os.listdir(osp.join(hub, 'hub', 'checkpoints'))


def test_load_from_a_url_that_fails_stops_training_before_it_starts(tiny_dataset, tmp_path):
    work_dir = str(tmp_path / 'work')
    output = run_failing(
        [
            PYTHON,
            'tools/train.py',
            DEMO_CONFIG,
            '--work-dir',
            work_dir,
            '--cfg-options',
            *tiny_run_options(tiny_dataset, 2),
            'load_from=http://127.0.0.1:9/x.pth',
        ],
        str(tmp_path / 'hub'),
    )
    assert 'Cannot download checkpoint http://127.0.0.1:9/x.pth: the connection was refused' in (
        output
    )
    assert not [name for name in os.listdir(work_dir) if name.endswith('.pth')]


def test_the_last_checkpoint_pointer_names_the_checkpoint_to_pass(
    tiny_dataset, checkpoint, tmp_path
):
    """It was refused as an untrusted pickle, with advice to trust it."""
    pointer = osp.join(osp.dirname(checkpoint), 'last_checkpoint')
    output = run_failing(
        evaluate_args(str(tmp_path / 'work'), tiny_dataset, pointer), str(tmp_path / 'hub')
    )
    assert (
        f"CheckpointReadError: Cannot load checkpoint '{pointer}': it is a text file naming the "
        f"checkpoint '{checkpoint}' (mmengine's last_checkpoint pointer); pass that file instead."
    ) in output
    assert 'MASKFREEVIS_TRUST_CHECKPOINTS' not in output


def test_a_checkpoint_of_another_architecture_names_the_run_that_wrote_it(
    tiny_dataset, checkpoint, tmp_path
):
    output = run_failing(
        evaluate_args(str(tmp_path / 'work'), tiny_dataset, checkpoint, 'model.backbone.depth=34'),
        str(tmp_path / 'hub'),
    )
    assert f'Checkpoint {checkpoint} does not fit the model of this config' in output
    assert 'missing from the checkpoint' in output
    assert re.search(
        r'It was written by the run maskfreevis_r18_1xb4-800iter_synthetic_\d{8}_\d{6} '
        r'\(meta.experiment_name\): use it with the config it was trained with, '
        r'maskfreevis_r18_1xb4-800iter_synthetic.py',
        output,
    )


def test_a_released_detectron2_checkpoint_says_to_convert_it(tiny_dataset, tmp_path):
    pkl = str(tmp_path / 'model_final_3c8ec9.pkl')
    with open(pkl, 'wb') as handle:
        pickle.dump({'model': {'sem_seg_head.w': np.zeros(2)}, '__author__': 'x'}, handle)
    pth = str(tmp_path / 'maskfreevis_r50.pth')
    torch.save({'model': {'sem_seg_head.w': torch.zeros(2)}}, pth)
    work_dir, hub = str(tmp_path / 'work'), str(tmp_path / 'hub')
    output = run_failing(evaluate_args(work_dir, tiny_dataset, pkl), hub)
    assert f"Cannot load checkpoint '{pkl}': a .pkl file is a detectron2 checkpoint" in output
    assert f'detectron2_to_maskfreevis.py CONFIG {pkl} OUT.pth' in output
    output = run_failing(evaluate_args(work_dir, tiny_dataset, pth), hub)
    assert (
        "It is a detectron2 checkpoint (the release's layout): convert it first, python "
        f'tools/model_converters/detectron2_to_maskfreevis.py CONFIG {pth} OUT.pth'
    ) in output


def test_a_converter_given_a_pkl_cut_short_names_it(tmp_path):
    """pickle's own 'pickle data was truncated', naming no file."""
    source = str(tmp_path / 'model_final.pkl')
    with open(source, 'wb') as handle:
        handle.write(pickle.dumps({'model': {'w': np.arange(1000.0)}})[:300])
    output = run_failing(
        [
            PYTHON,
            'tools/model_converters/detectron2_to_maskfreevis.py',
            DEMO_CONFIG,
            source,
            str(tmp_path / 'out.pth'),
        ],
        str(tmp_path / 'hub'),
    )
    assert f'{source}: not a readable pickle (300 bytes): cut short by an interrupted' in output
    assert not osp.exists(tmp_path / 'out.pth')
