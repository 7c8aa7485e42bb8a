"""The generators' writer: it only writes into an empty folder or one it wrote, and writes its
jsons atomically."""

import json
import os
import os.path as osp

import pytest

from maskfreevis_demo.datasets.synthetic import SyntheticVISSettings, generate_synthetic_vis
from maskfreevis_demo.datasets.vis_json_writer import (
    GENERATED_MARKER,
    check_output_folder,
    dump_json,
)

TINY = SyntheticVISSettings(
    num_train_videos=1, num_val_videos=1, num_frames=2, height=32, width=48, max_objects=1
)


def snapshot(root: str) -> dict:
    """Relative path -> bytes of every file under ``root``."""
    files = {}
    for directory, _, names in os.walk(root):
        for name in names:
            path = osp.join(directory, name)
            with open(path, 'rb') as handle:
                files[osp.relpath(path, root)] = handle.read()
    return files


def users_dataset(root) -> str:
    """A user's own YouTube-VIS folder, laid out as the generator lays out its own."""
    root = str(root)
    os.makedirs(osp.join(root, 'annotations'))
    os.makedirs(osp.join(root, 'train', 'JPEGImages', 'video_0000'))
    with open(osp.join(root, 'annotations', 'train.json'), 'w') as handle:
        json.dump(dict(videos=[], annotations=[], categories=[]), handle)
    with open(osp.join(root, 'train', 'JPEGImages', 'video_0000', '00000.jpg'), 'wb') as handle:
        handle.write(b'my frame')
    return root


def test_a_users_dataset_is_refused_and_kept(tmp_path):
    root = users_dataset(tmp_path / 'mine')
    before = snapshot(root)
    with pytest.raises(FileExistsError) as error:
        generate_synthetic_vis(root, seed=0, settings=TINY, show_progress=False)
    message = str(error.value)
    assert f'{root} was not written by a maskfreevis dataset generator' in message
    assert 'annotations, train' in message and '--data-root NEW_DIR' in message
    assert snapshot(root) == before


def test_a_generated_folder_is_regenerated(tmp_path):
    root = str(tmp_path / 'generated')
    generate_synthetic_vis(root, seed=0, settings=TINY, show_progress=False)
    assert osp.isfile(osp.join(root, GENERATED_MARKER))
    other = SyntheticVISSettings(**{**TINY.__dict__, 'num_frames': 3})
    generate_synthetic_vis(root, seed=1, settings=other, show_progress=False)
    with open(osp.join(root, 'annotations', 'val.json')) as handle:
        assert json.load(handle)['info']['seed'] == 1
    assert not [name for name in snapshot(root) if name.endswith('.partial')]


def test_a_folder_generated_before_the_marker_existed_is_still_the_generators(tmp_path):
    root = str(tmp_path / 'generated')
    generate_synthetic_vis(root, seed=0, settings=TINY, show_progress=False)
    os.remove(osp.join(root, GENERATED_MARKER))
    check_output_folder(root)  # the jsons' info names the generator


def test_an_interrupted_generation_can_be_restarted(tmp_path):
    """Frames written, no json yet: the marker, written first, says whose they are."""
    root = str(tmp_path / 'generated')
    generate_synthetic_vis(root, seed=0, settings=TINY, show_progress=False)
    for name in ('train.json', 'train_with_masks.json', 'val.json'):
        os.remove(osp.join(root, 'annotations', name))
    check_output_folder(root)


@pytest.mark.parametrize(
    'extra, listed',
    [
        ('notes.txt', 'notes.txt'),
        ('annotations/valid.json', 'annotations/valid.json'),
        ('train/JPEGImages/my_video/00000.jpg', 'train/JPEGImages/my_video'),
        ('val/JPEGImages/video_0000/00000.png', 'val/JPEGImages/video_0000/00000.png'),
    ],
)
def test_a_users_file_in_a_generated_folder_is_refused(tmp_path, extra, listed):
    root = str(tmp_path / 'generated')
    generate_synthetic_vis(root, seed=0, settings=TINY, show_progress=False)
    path = osp.join(root, extra)
    os.makedirs(osp.dirname(path), exist_ok=True)
    with open(path, 'w') as handle:
        handle.write('mine')
    before = snapshot(root)
    with pytest.raises(FileExistsError) as error:
        generate_synthetic_vis(root, seed=0, settings=TINY, show_progress=False)
    assert f'holds files a dataset generator did not write ({listed})' in str(error.value)
    assert snapshot(root) == before


def test_empty_missing_and_file_outputs(tmp_path):
    check_output_folder(str(tmp_path))  # empty
    check_output_folder(str(tmp_path / 'new'))
    path = tmp_path / 'file'
    path.write_text('x')
    with pytest.raises(FileExistsError, match='is a file, not a folder'):
        check_output_folder(str(path))


def test_json_is_written_through_a_partial_file(tmp_path, monkeypatch):
    path = str(tmp_path / 'a' / 'out.json')
    dump_json(dict(a=1), path)
    replaced = []
    original_replace = os.replace
    monkeypatch.setattr(
        os, 'replace', lambda src, dst: (replaced.append((src, dst)), original_replace(src, dst))
    )
    dump_json(dict(a=2), path)
    assert replaced == [(path + '.partial', path)]
    with open(path) as handle:
        assert json.load(handle) == dict(a=2)
