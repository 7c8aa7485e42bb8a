"""A tiny ``make demo`` (3 iterations per stage, 2 videos per split) writes every artefact; the
synthetic-shapes demo still runs."""

import json
import os.path as osp
import subprocess
import sys

import imageio.v2 as imageio
import pytest

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


@pytest.fixture(scope='module')
def demo_run(tmp_path_factory):
    root = tmp_path_factory.mktemp('demo')
    out_dir, data_root = root / 'out', root / 'data'
    command = [
        sys.executable,
        osp.join(REPO_ROOT, 'tools', 'run_demo.py'),
        '--out-dir',
        str(out_dir),
        '--data-root',
        str(data_root),
        '--iters',
        '3',
        '--train-videos',
        '2',
        '--val-videos',
        '2',
        '--frames',
        '4',
        '--num-gifs',
        '2',
        '--no-progress',
    ]
    process = subprocess.run(command, capture_output=True, text=True, cwd=str(root), timeout=600)
    assert process.returncode == 0, process.stdout[-3000:] + process.stderr[-3000:]
    return out_dir, data_root, process.stdout


def test_data_is_generated(demo_run):
    _, data_root, _ = demo_run
    for name in ('train.json', 'train_with_masks.json', 'val.json'):
        assert osp.isfile(data_root / 'annotations' / name)
    assert osp.isfile(data_root / 'val' / 'JPEGImages' / 'video_0001' / '00003.jpg')


def test_results_table_and_json(demo_run):
    out_dir, _, stdout = demo_run
    with open(out_dir / 'results.json') as handle:
        results = json.load(handle)
    assert results['iterations'] == 3
    assert results['data']['num_train_videos'] == 2 and results['data']['num_val_videos'] == 2
    for key in ('AP', 'AP50', 'AP75'):
        assert 0.0 <= results['mask_ap'][key] <= 1.0
        assert 0.0 <= results['mask_ap_class_agnostic'][key] <= 1.0
    assert results['timings_s']['total'] >= results['timings_s']['train'] > 0
    markdown = (out_dir / 'results.md').read_text()
    assert '| evaluation | mask AP | AP50 | AP75 |' in markdown and 'boxes only' in markdown
    assert 'class-agnostic' in markdown
    best = results['best_prediction_iou']
    assert 0.0 <= best['class_accuracy'] <= 1.0 and best['chance'] == pytest.approx(1 / 6)
    assert "has the object's category for" in markdown
    assert '| evaluation | mask AP | AP50 | AP75 |' in stdout  # the table is printed too


def test_training_curve_png(demo_run):
    out_dir, _, _ = demo_run
    image = imageio.imread(out_dir / 'training_curves.png')
    assert image.ndim == 3 and image.shape[0] > 100 and image.shape[1] > 100


def test_prediction_gifs_and_contact_sheet(demo_run):
    out_dir, _, _ = demo_run
    for name in ('video_0000.gif', 'video_0001.gif'):
        frames = imageio.mimread(out_dir / 'videos' / name)
        assert len(frames) == 4  # every frame of the 4-frame video
        # input | ground truth | prediction side by side, each upscaled x2 from 128 x 192
        assert frames[0].shape[:2] == (128 * 2, 192 * 2 * 3)
    sheet = imageio.imread(out_dir / 'contact_sheet.png')
    assert sheet.shape[0] > 4 * 128 * 2  # 2 videos x (GT row + prediction row)


def test_both_stages_train_and_keep_a_checkpoint(demo_run):
    out_dir, _, stdout = demo_run
    assert osp.isfile(out_dir / 'work_dir' / 'pretraining_stage' / 'iter_3.pth')
    assert osp.isfile(out_dir / 'work_dir' / 'iter_3.pth')
    with open(out_dir / 'results.json') as handle:
        stage = json.load(handle)['pretraining_stage']
    assert stage['config'].endswith(
        'maskfreevis-imagestage_mobilenetv2_1xb8-300iter_realimagery.py'
    )
    assert stage['iterations'] == 3 and not stage['reused']
    assert stage['metrics'] == {}  # the demo scores the video model only
    assert 'then 3 from its last checkpoint' in (out_dir / 'results.md').read_text()
    # each stage logs into its own folder (one visualizer name per process sent both to the first)
    assert len(list((out_dir / 'work_dir').glob('2*/vis_data/scalars.json'))) == 1
    assert (
        len(list((out_dir / 'work_dir' / 'pretraining_stage').glob('2*/vis_data/scalars.json')))
        == 1
    )


def run_demo_tool(cwd, *arguments: str) -> subprocess.CompletedProcess:
    command = [sys.executable, osp.join(REPO_ROOT, 'tools', 'run_demo.py'), *arguments]
    process = subprocess.run(command, capture_output=True, text=True, cwd=str(cwd), timeout=600)
    assert process.returncode == 0, process.stdout[-3000:] + process.stderr[-3000:]
    return process


TINY = ('--iters', '2', '--train-videos', '2', '--val-videos', '2', '--frames', '3')


def test_an_identical_pretraining_stage_is_reused(tmp_path):
    data, stage = str(tmp_path / 'data'), str(tmp_path / 'stage')
    common = ('--data-root', data, '--pretraining-dir', stage, '--no-visuals', '--no-progress')
    run_demo_tool(tmp_path, '--out-dir', str(tmp_path / 'a'), *TINY, *common)
    second = run_demo_tool(tmp_path, '--out-dir', str(tmp_path / 'b'), *TINY, *common)
    assert f'reusing the pretraining stage in {stage}' in second.stdout
    with open(tmp_path / 'b' / 'results.json') as handle:
        assert json.load(handle)['pretraining_stage']['reused']
    # another seed is another stage
    third = run_demo_tool(tmp_path, '--out-dir', str(tmp_path / 'c'), '--seed', '1', *TINY, *common)
    assert 'reusing' not in third.stdout


def test_the_synthetic_demo_still_runs(tmp_path):
    run_demo_tool(
        tmp_path,
        '--dataset',
        'synthetic',
        '--out-dir',
        str(tmp_path / 'out'),
        '--data-root',
        str(tmp_path / 'data'),
        *TINY,
        '--no-visuals',
        '--no-progress',
    )
    with open(tmp_path / 'out' / 'results.json') as handle:
        results = json.load(handle)
    assert results['pretraining_stage'] is None and results['iterations'] == 2
    assert results['data']['kind'] == 'SyntheticVISSettings'
    assert results['best_prediction_iou']['chance'] == pytest.approx(0.25)


def test_the_video_stage_is_evaluated_once(demo_run):
    # per category and class-agnostic in one pass after training: the loop's own validation at
    # the end would run the model over the validation videos a second time
    out_dir, _, _ = demo_run
    (scalars,) = (out_dir / 'work_dir').glob('2*/vis_data/scalars.json')
    logged = [json.loads(line) for line in scalars.read_text().splitlines()]
    assert logged and not any('youtube_vis/segm_mAP' in entry for entry in logged)
    with open(out_dir / 'results.json') as handle:
        results = json.load(handle)
    assert results['metrics']['youtube_vis/segm_mAP'] == results['mask_ap']['AP']
