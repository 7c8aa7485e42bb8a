"""``tools/analysis_tools/browse_dataset.py`` on generated box-only data, dataset from the config
with ``--cfg-options``."""

import os

import cv2

from .conftest import DEMO_CONFIG

TOOL = 'analysis_tools/browse_dataset.py'


def test_images_of_sampled_training_clips(load_tool, tiny_dataset, tmp_path, capsys):
    out_dir = tmp_path / 'browse'
    argv = [DEMO_CONFIG, '--out-dir', str(out_dir), '--num-clips', '3', '--upscale', '1']
    load_tool(TOOL).main(
        [*argv, '--cfg-options', f'train_dataloader.dataset.data_root={tiny_dataset}']
    )
    names = sorted(os.listdir(out_dir))
    assert len(names) == 3 and all(
        name.startswith('clip') and name.endswith('.png') for name in names
    )
    assert cv2.imread(str(out_dir / names[0])).shape == (64 + 14, 3 * 96, 3)
    assert '3 file(s) written' in capsys.readouterr().out


def test_mp4_of_chosen_videos(load_tool, tiny_dataset, tmp_path):
    out_dir = tmp_path / 'browse'
    argv = [DEMO_CONFIG, '--out-dir', str(out_dir), '--output', 'mp4', '--indices', '0', '3']
    load_tool(TOOL).main(
        [*argv, '--cfg-options', f'train_dataloader.dataset.data_root={tiny_dataset}']
    )
    capture = cv2.VideoCapture(str(out_dir / 'clips.mp4'))
    assert int(capture.get(cv2.CAP_PROP_FRAME_COUNT)) == 2 * 3  # 2 clips of the config's 3 frames
    capture.release()


def test_same_seed_same_clips(load_tool, tiny_dataset, tmp_path):
    images = []
    for run in ('first', 'second'):
        argv = [DEMO_CONFIG, '--out-dir', str(tmp_path / run), '--num-clips', '2', '--seed', '5']
        load_tool(TOOL).main(
            [*argv, '--cfg-options', f'train_dataloader.dataset.data_root={tiny_dataset}']
        )
        images.append([cv2.imread(str(path)) for path in sorted((tmp_path / run).iterdir())])
    assert all((a == b).all() for a, b in zip(*images)) and len(images[0]) == 2
