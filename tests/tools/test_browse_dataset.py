"""``tools/analysis_tools/browse_dataset.py`` on generated box-only data, dataset from the config
with ``--cfg-options``."""

import os

import cv2
import pytest

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


@pytest.mark.parametrize(
    'option, value', [('--upscale', '0'), ('--num-clips', '-1'), ('--fps', '0')]
)
def test_sizes_that_draw_nothing_are_refused_before_the_dataset_loads(
    load_tool, tmp_path, capsys, option, value
):
    """--upscale 0 failed with a bare error from inside the drawing."""
    with pytest.raises(SystemExit):
        load_tool(TOOL).main([DEMO_CONFIG, '--out-dir', str(tmp_path / 'b'), option, value])
    assert f'argument {option}: must be a positive' in capsys.readouterr().err
    assert not (tmp_path / 'b').exists()


def test_indices_outside_the_dataset_are_named(load_tool, tiny_dataset, tmp_path):
    argv = [DEMO_CONFIG, '--out-dir', str(tmp_path / 'b'), '--indices', '0', '9']
    with pytest.raises(ValueError, match=r'video indices \[9\] are outside the dataset \(0..3\)'):
        load_tool(TOOL).main(
            [*argv, '--cfg-options', f'train_dataloader.dataset.data_root={tiny_dataset}']
        )


@pytest.mark.parametrize(
    'options, expected',
    [
        (['--output', 'mp4', '--fps', 'inf'], 'argument --fps: must be a positive number, got inf'),
        (['--output', 'mp4', '--fps', 'nan'], 'argument --fps: must be a positive number, got nan'),
        (['--output', 'mp4', '--fps', '1e-9'], '--fps 1e-09: the MP4 encoder (OpenCV, codec mp4v)'),
        (['--output', 'mp4', '--fps', '1e6'], '--fps 1e+06: the MP4 encoder (OpenCV, codec mp4v)'),
        (['--seed', '-1'], 'argument --seed: must lie in 0..4294967295, got -1'),
    ],
)
def test_options_the_writer_or_numpy_would_refuse_are_named_before_the_dataset_loads(
    load_tool, tmp_path, capsys, monkeypatch, options, expected
):
    """These failed after every clip was drawn (fps) or after the dataset loaded (seed)."""
    tool = load_tool(TOOL)
    monkeypatch.setattr(tool, 'build_dataset_from_config', pytest.fail)
    with pytest.raises(SystemExit):
        tool.main([DEMO_CONFIG, '--out-dir', str(tmp_path / 'b'), *options])
    assert expected in capsys.readouterr().err
    assert not (tmp_path / 'b').exists()


def test_an_out_dir_that_cannot_be_a_folder_is_named_before_the_dataset_loads(
    load_tool, tmp_path, capsys, monkeypatch
):
    tool = load_tool(TOOL)
    monkeypatch.setattr(tool, 'build_dataset_from_config', pytest.fail)
    notes = tmp_path / 'notes.txt'
    notes.write_text('kept')
    for out_dir, expected in (
        (notes, f'--out-dir {notes} is a file, not a folder'),
        (notes / 'b', f'--out-dir {notes / "b"}: cannot create it, {notes} is a file'),
    ):
        with pytest.raises(SystemExit):
            tool.main([DEMO_CONFIG, '--out-dir', str(out_dir)])
        assert expected in capsys.readouterr().err
    assert notes.read_text() == 'kept'
