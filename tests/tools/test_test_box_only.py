"""``tools/test.py`` on box-only validation ground truth: box-track AP, and the submission zip.

A 2-iteration checkpoint of the demo config on the tiny generated dataset; its validation json is
made box-only with ``tools/dataset_converters/ytvis_to_box_only.py``.
"""

import json
import os.path as osp

import pytest

from maskfreevis.evaluation import check_submission_zip

from .conftest import DEMO_CONFIG, PYTHON, run_tool, tiny_run_options
from .test_bad_input import evaluate_args

pytestmark = pytest.mark.slow


@pytest.fixture(scope='module')
def checkpoint(tiny_dataset, tmp_path_factory) -> str:
    work_dir = str(tmp_path_factory.mktemp('trained_for_box_ap'))
    options = tiny_run_options(tiny_dataset, max_iters=2)
    run_tool(
        [PYTHON, 'tools/train.py', DEMO_CONFIG, '--work-dir', work_dir, '--cfg-options', *options]
    )
    return osp.join(work_dir, 'iter_2.pth')


@pytest.fixture(scope='module')
def box_only_val(tiny_dataset, tmp_path_factory) -> str:
    path = str(tmp_path_factory.mktemp('box_only') / 'val_box_only.json')
    converter = 'tools/dataset_converters/ytvis_to_box_only.py'
    run_tool([PYTHON, converter, osp.join(tiny_dataset, 'annotations', 'val.json'), path])
    with open(path) as handle:
        assert all(ann['segmentations'] is None for ann in json.load(handle)['annotations'])
    return path


def evaluate_box_only(tiny_dataset, checkpoint, ann_file, work_dir, *options) -> list:
    """``tools/test.py`` on the demo config with ``ann_file`` as test json, metrics to --out."""
    options = [f'test_dataloader.dataset.ann_file={ann_file}', *options]
    out = ['--out', str(work_dir / 'metrics.json')]
    return [*evaluate_args(str(work_dir), tiny_dataset, checkpoint, *options), *out]


def test_box_only_val_json_gives_box_track_ap(tiny_dataset, checkpoint, box_only_val, tmp_path):
    result = run_tool(evaluate_box_only(tiny_dataset, checkpoint, box_only_val, tmp_path))
    output = result.stdout + result.stderr
    assert 'youtube_vis/bbox_mAP: ' in output
    assert 'box-track AP (bbox_mAP, ...) is computed instead of mask AP' in output
    with open(tmp_path / 'metrics.json') as handle:
        metrics = json.load(handle)
    assert {'youtube_vis/bbox_mAP', 'youtube_vis/bbox_mAP_50'} <= set(metrics)
    assert 0.0 <= metrics['youtube_vis/bbox_mAP'] <= 1.0
    # -1 where no ground truth falls in an area range (COCO's convention), as for mask AP
    assert all(0.0 <= value <= 1.0 or value == -1 for value in metrics.values())


def test_format_only_writes_a_valid_submission_zip(
    tiny_dataset, checkpoint, box_only_val, tmp_path
):
    prefix = tmp_path / 'submission' / 'results'
    prefix.parent.mkdir()
    options = ['test_evaluator.format_only=True', f'test_evaluator.outfile_prefix={prefix}']
    run_tool(evaluate_box_only(tiny_dataset, checkpoint, box_only_val, tmp_path, *options))
    tracks = check_submission_zip(f'{prefix}.submission_file.zip', val_json=box_only_val)
    with open(box_only_val) as handle:
        video_ids = {video['id'] for video in json.load(handle)['videos']}
    assert tracks and {track['video_id'] for track in tracks} == video_ids
