"""Bad datasets, ground truth and analysis-tool arguments through the real command-line tools:
each ends with a message naming the file / video / frame / option at fault and the fix, before
any long work, and loses nothing. Details are unit-tested next to their modules."""

import json
import os
import os.path as osp
import shutil
import subprocess
from typing import Sequence

import pytest
from PIL import Image

from .conftest import DEMO_CONFIG, PYTHON, REPO_ROOT, evaluate_args, run_tool, tiny_run_options

pytestmark = pytest.mark.slow


def run_failing(args: Sequence[str], timeout: int = 600) -> str:
    """Run a tool that must fail; its stdout + stderr."""
    env = dict(os.environ, OMP_NUM_THREADS='1', MKL_NUM_THREADS='1')
    result = subprocess.run(
        list(args), cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=timeout
    )
    output = result.stdout + result.stderr
    assert result.returncode != 0, f'{" ".join(args)} succeeded:\n{output[-3000:]}'
    return output


def snapshot(root: str) -> dict:
    """Relative path -> bytes of every file under ``root``."""
    files = {}
    for directory, _, names in os.walk(root):
        for name in names:
            path = osp.join(directory, name)
            with open(path, 'rb') as handle:
                files[osp.relpath(path, root)] = handle.read()
    return files


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


def train_args(work_dir: str, data_root: str, *options: str) -> list:
    return [
        PYTHON,
        'tools/train.py',
        DEMO_CONFIG,
        '--work-dir',
        work_dir,
        '--cfg-options',
        *tiny_run_options(data_root, 2),
        *options,
    ]


@pytest.fixture(scope='module')
def checkpoint(tiny_dataset, tmp_path_factory) -> str:
    """The demo config's checkpoint after 2 iterations on the tiny dataset."""
    work_dir = str(tmp_path_factory.mktemp('trained'))
    run_tool(train_args(work_dir, tiny_dataset), env_overrides={})
    return osp.join(work_dir, 'iter_2.pth')


def test_demo_refuses_to_generate_into_a_users_dataset(tiny_dataset, tmp_path):
    """The user's own dataset as --data-root (as for their own data elsewhere): refused before
    anything is written, naming the folder and the fix."""
    root = copy_dataset(tiny_dataset, tmp_path / 'my_vis')
    os.remove(osp.join(root, 'generated_by_maskfreevis.json'))
    for name in ('train.json', 'train_with_masks.json', 'val.json'):
        edit_json(osp.join(root, 'annotations', name), lambda data: data.pop('info'))
    before = snapshot(root)
    output = run_failing(
        [
            PYTHON,
            'tools/run_demo.py',
            '--dataset',
            'synthetic',
            '--data-root',
            root,
            '--out-dir',
            str(tmp_path / 'out'),
            '--iters',
            '1',
            '--no-progress',
        ]
    )
    assert f'FileExistsError: {root} was not written by a maskfreevis dataset generator' in output
    assert '--data-root NEW_DIR' in output
    assert snapshot(root) == before


def cut_rle(segmentation):
    return dict(segmentation, counts=segmentation['counts'][: len(segmentation['counts']) // 2])


@pytest.mark.parametrize(
    'damage, expected',
    [
        (cut_rle, 'the mask is cut short or corrupt'),
        (lambda _: [[10, 10, 30, 20]], 'polygon 0 must list at least 3 points'),
    ],
    ids=['cut-short RLE', '2-point polygon'],
)
def test_bad_ground_truth_masks_are_refused_before_inference(
    tiny_dataset, checkpoint, tmp_path, damage, expected
):
    """pycocotools looped forever on the cut-short RLE at "Evaluate annotation type *segm*", and
    failed inside on the polygon - both after the whole inference."""
    root = copy_dataset(tiny_dataset, tmp_path / 'data')
    ann_file = osp.join(root, 'annotations', 'val.json')

    def edit(data):
        segmentations = data['annotations'][0]['segmentations']
        frame = next(f for f, s in enumerate(segmentations) if s is not None)
        segmentations[frame] = damage(segmentations[frame])

    edit_json(ann_file, edit)
    output = run_failing(evaluate_args(str(tmp_path / 'work'), root, checkpoint), timeout=300)
    assert f'AnnotationError: {ann_file}: 1 bad segmentation(s): video 1 frame ' in output
    assert expected in output
    assert 'Evaluate annotation type' not in output


@pytest.mark.parametrize(
    'convert, expected',
    [
        (lambda b: [b[0], b[1], b[0] + b[2], b[1] + b[3]], 'the boxes look like corners'),
        (lambda b: [b[0] / 96, b[1] / 64, b[2] / 96, b[3] / 64], 'they look normalised to 0-1'),
    ],
    ids=['corners', 'normalised'],
)
def test_boxes_in_another_format_are_refused_before_training(
    tiny_dataset, tmp_path, convert, expected
):
    """They trained with exit 0 on wrong boxes."""
    root = copy_dataset(tiny_dataset, tmp_path / 'data')
    ann_file = osp.join(root, 'annotations', 'train.json')

    def rewrite(data):
        for ann in data['annotations']:
            ann['bboxes'] = [None if b is None else convert(b) for b in ann['bboxes']]

    edit_json(ann_file, rewrite)
    work_dir = str(tmp_path / 'work')
    output = run_failing(train_args(work_dir, root))
    assert f'AnnotationError: {ann_file}: ' in output and expected in output
    assert 'check_box_format=False' in output
    assert not [name for name in os.listdir(work_dir) if name.endswith('.pth')]


def tag_video_frames(root: str, video_name: str, orientation: int = 6) -> str:
    """Re-save every frame of a training video with an EXIF orientation tag; the video folder."""
    video = osp.join(root, 'train', 'JPEGImages', video_name)
    for name in os.listdir(video):
        path = osp.join(video, name)
        with Image.open(path) as image:
            pixels = image.copy()
        exif = Image.Exif()
        exif[0x0112] = orientation
        pixels.save(path, exif=exif.tobytes())
    return video


def test_frames_with_an_exif_orientation_train_as_stored_with_the_shipped_configs(
    tiny_dataset, tmp_path
):
    """A phone's frames: the configs load frames in their stored pixel grid, where the json's
    boxes are (YouTube-VIS), so OpenCV does not turn them and the dataset check accepts them."""
    root = copy_dataset(tiny_dataset, tmp_path / 'data')
    tag_video_frames(root, 'video_0002')
    work_dir = str(tmp_path / 'work')
    run_tool(train_args(work_dir, root))
    assert 'iter_2.pth' in os.listdir(work_dir)


def test_frames_with_an_exif_orientation_are_named_not_the_json_when_opencv_turns_them(
    tiny_dataset, tmp_path
):
    """With OpenCV's default decoding, the error blamed the json's width and height (and said
    nothing on square frames)."""
    root = copy_dataset(tiny_dataset, tmp_path / 'data')
    video = tag_video_frames(root, 'video_0002')
    output = run_failing(
        train_args(
            str(tmp_path / 'work'),
            root,
            'train_dataloader.dataset.pipeline.1.transforms.0.color_type=color',
        )
    )
    assert (
        f'FrameError: {root}/annotations/train.json: video 3 frame 0 ({video}/00000.jpg) has an '
        'EXIF orientation tag (6: rotated 90 degrees)' in output
    )
    assert "color_type='color_ignore_orientation'" in output
    assert 'but the json says' not in output


def test_zero_queries_is_refused_before_training(tiny_dataset, tmp_path):
    """It trained on a loss of 0 and saved a checkpoint that predicts nothing."""
    work_dir = str(tmp_path / 'work')
    output = run_failing(train_args(work_dir, tiny_dataset, 'model.track_head.num_queries=0'))
    assert (
        'ValueError: model.track_head.num_queries must be a positive integer (object queries per '
        'clip, e.g. 100), got 0' in output
    )
    assert not osp.isdir(work_dir) or not [n for n in os.listdir(work_dir) if n.endswith('.pth')]


def test_a_syntax_error_in_a_base_config_names_that_file(tmp_path):
    (tmp_path / 'my_runtime.py').write_text("log_level = 'INFO'\ncustom_hooks = [dict(type='X'\n")
    config = tmp_path / 'my_config.py'
    config.write_text(f"_base_ = ['{DEMO_CONFIG}', './my_runtime.py']\n")
    output = run_failing([PYTHON, 'tools/train.py', str(config), '--work-dir', str(tmp_path / 'w')])
    assert (
        f'ConfigFileError: syntax error in config file {tmp_path}/my_runtime.py (a _base_ of '
        f"{config}), line 2: '(' was never closed" in output
    )
    assert '<unknown>' not in output.splitlines()[-1]


def test_an_option_of_the_wrong_type_is_named_before_the_datasets_load(tiny_dataset, tmp_path):
    output = run_failing(
        train_args(str(tmp_path / 'work'), tiny_dataset, 'train_cfg.max_iters=abc')
    )
    assert (
        'ConfigFileError: --cfg-options train_cfg.max_iters=abc: train_cfg.max_iters is an '
        f'integer in the config ({DEMO_CONFIG}: 800)' in output
    )
    assert 'BoxVISDataset' not in output


@pytest.mark.parametrize(
    'out, expected',
    [
        (
            'metrics.txt',
            'chosen by the extension (.json, .yaml, .yml, .pkl, .pickle), e.g. --out '
            'metrics.json; got .txt',
        ),
        ('metrics', 'got no extension'),
        ('missing_folder/m.json', 'its folder'),
    ],
)
def test_an_out_file_that_cannot_be_written_is_refused_before_the_test(tmp_path, out, expected):
    """It failed after the whole test."""
    output = run_failing(
        [PYTHON, 'tools/test.py', DEMO_CONFIG, 'iter_2.pth', '--out', str(tmp_path / out)]
    )
    assert 'test.py: error: --out ' in output and expected in output
    assert 'Load checkpoint' not in output and 'Traceback' not in output


def test_box_only_converter_takes_a_cocovid_json(tiny_dataset, tmp_path):
    """It failed with "videos[0] has no key 'file_names'"; the result trains as CocoVID."""
    with open(osp.join(tiny_dataset, 'annotations', 'train_with_masks.json')) as handle:
        data = json.load(handle)
    videos, images, annotations = [], [], []
    for video in data['videos']:
        videos.append(dict(id=video['id'], name=video['name']))
        for frame, name in enumerate(video['file_names']):
            images.append(
                dict(
                    id=len(images) + 1,
                    file_name=name,
                    video_id=video['id'],
                    frame_id=frame,
                    width=video['width'],
                    height=video['height'],
                )
            )
            for track in data['annotations']:
                if track['video_id'] == video['id'] and track['bboxes'][frame] is not None:
                    annotations.append(
                        dict(
                            id=len(annotations) + 1,
                            image_id=len(images),
                            video_id=video['id'],
                            category_id=track['category_id'],
                            instance_id=track['id'],
                            bbox=track['bboxes'][frame],
                            segmentation=track['segmentations'][frame],
                        )
                    )
    source, target = str(tmp_path / 'cocovid.json'), str(tmp_path / 'box_only.json')
    with open(source, 'w') as handle:
        json.dump(dict(data, videos=videos, images=images, annotations=annotations), handle)
    result = run_tool([PYTHON, 'tools/dataset_converters/ytvis_to_box_only.py', source, target])
    assert f'{len(annotations)} annotations written without masks to {target}' in result.stdout
    with open(target) as handle:
        written = json.load(handle)
    assert [a['bbox'] for a in written['annotations']] == [a['bbox'] for a in annotations]
    assert not any('segmentation' in a for a in written['annotations'])
