"""VideoFileWriter: frames in, a video file that decodes to the same frames, written atomically."""

import os
import os.path as osp

import cv2
import numpy as np
import pytest

from maskfreevis.apis import VideoSource
from maskfreevis.visualization.video_file import VideoFileWriter


def _fourcc(path: str) -> str:
    capture = cv2.VideoCapture(path)
    code = int(capture.get(cv2.CAP_PROP_FOURCC)).to_bytes(4, 'little').decode()
    capture.release()
    return code


@pytest.mark.parametrize('codec', ['mp4v', 'avc1'])
def test_frames_round_trip(codec, tmp_path):
    if codec == 'avc1':
        pytest.importorskip('imageio_ffmpeg', reason="'avc1' needs imageio-ffmpeg")
    path = str(tmp_path / 'sub' / f'{codec}.mp4')  # the folder is created
    with VideoFileWriter(path, fps=5.0, codec=codec) as writer:
        for k in range(5):
            writer.write(np.full((32, 48, 3), (40 * k, 10, 200), np.uint8))
    decoded = list(VideoSource(path))
    assert writer.frames_written == 5 and len(decoded) == 5
    assert decoded[0].shape == (32, 48, 3)
    # RGB in, BGR out of OpenCV: the blue channel is 200 in every frame
    assert abs(int(decoded[3][16, 24, 0]) - 200) <= 4
    assert abs(int(decoded[3][16, 24, 2]) - 120) <= 4


def test_h264_of_odd_size_is_padded_not_cut_and_plays_in_browsers(tmp_path):
    pytest.importorskip('imageio_ffmpeg', reason="'avc1' needs imageio-ffmpeg")
    path = str(tmp_path / 'odd.mp4')
    with VideoFileWriter(path, fps=5.0, codec='avc1') as writer:
        for k in range(3):
            writer.write(np.full((33, 47, 3), 40 * k, np.uint8))
    decoded = list(VideoSource(path))
    assert _fourcc(path) in ('avc1', 'h264') and len(decoded) == 3
    assert decoded[0].shape == (34, 48, 3)
    assert abs(int(decoded[2][16, 23].mean()) - 80) <= 3
    with open(path, 'rb') as handle:
        data = handle.read()
    assert data.find(b'moov') < data.find(b'mdat')  # index first: playback starts at once


@pytest.mark.parametrize('codec', ['mp4v', 'avc1'])
def test_a_frame_of_another_size_is_refused_naming_the_file(codec, tmp_path):
    if codec == 'avc1':
        pytest.importorskip('imageio_ffmpeg', reason="'avc1' needs imageio-ffmpeg")
    path = str(tmp_path / 'sizes.mp4')
    with VideoFileWriter(path, fps=5.0, codec=codec) as writer:
        writer.write(np.zeros((4, 8, 3), np.uint8))
        with pytest.raises(ValueError, match=r'frame 1 for .*sizes.mp4.* is 8x6, the video is 8x4'):
            writer.write(np.zeros((6, 8, 3), np.uint8))


def test_unknown_codec_is_refused(tmp_path):
    with pytest.raises(ValueError, match="'h265'"):
        VideoFileWriter(str(tmp_path / 'x.mp4'), fps=5.0, codec='h265')


def _folder_entries(folder) -> list:
    return sorted(os.listdir(folder))


def test_written_atomically_an_earlier_file_stays_until_the_new_one_is_complete(tmp_path):
    path = str(tmp_path / 'out.mp4')
    with VideoFileWriter(path, fps=5.0) as writer:
        for _ in range(3):
            writer.write(np.full((16, 24, 3), 50, np.uint8))
    earlier = open(path, 'rb').read()
    with VideoFileWriter(path, fps=5.0) as writer:
        for _ in range(7):
            writer.write(np.full((16, 24, 3), 200, np.uint8))
            assert open(path, 'rb').read() == earlier  # the name still holds the earlier video
        partial = writer.partial_path
        assert osp.dirname(partial) == str(tmp_path) and osp.basename(partial).startswith('.out.')
    assert len(list(VideoSource(path))) == 7 and not osp.exists(partial)
    assert _folder_entries(tmp_path) == ['out.mp4']


@pytest.mark.parametrize('interruption', [KeyboardInterrupt, RuntimeError])
def test_an_interrupted_write_leaves_the_earlier_file_and_no_partial(interruption, tmp_path):
    path = str(tmp_path / 'out.mp4')
    with VideoFileWriter(path, fps=5.0) as writer:
        writer.write(np.zeros((16, 24, 3), np.uint8))
    earlier = open(path, 'rb').read()
    with pytest.raises(interruption):
        with VideoFileWriter(path, fps=5.0) as writer:
            writer.write(np.zeros((16, 24, 3), np.uint8))
            raise interruption()
    assert open(path, 'rb').read() == earlier
    assert _folder_entries(tmp_path) == ['out.mp4']


def test_a_writer_without_frames_writes_nothing(tmp_path):
    with VideoFileWriter(str(tmp_path / 'none.mp4'), fps=5.0):
        pass
    assert _folder_entries(tmp_path) == []


@pytest.mark.parametrize(
    'name, codec, message',
    [
        ('result', 'mp4v', r"'.*result' has no extension; codec 'mp4v' is written into "),
        ('clip.gif', 'mp4v', r"extension '.gif'.*e.g. '.*clip.mp4'"),
        ('clip.webm', 'mp4v', r"extension '.webm'; codec 'mp4v'"),
        ('clip.webm', 'avc1', r"extension '.webm'; codec 'avc1'"),
        ('clip.mov', 'vp09', r"extension '.mov'; codec 'vp09'"),
    ],
)
def test_an_extension_the_codec_cannot_be_written_into_is_refused_at_once(
    name, codec, message, tmp_path
):
    with pytest.raises(ValueError, match=message):
        VideoFileWriter(str(tmp_path / name), fps=5.0, codec=codec)
    assert _folder_entries(tmp_path) == []


@pytest.mark.parametrize('fps', [0, -5, float('nan'), float('inf'), '25'])
def test_a_bad_fps_is_refused_at_once(fps, tmp_path):
    with pytest.raises(ValueError, match=r'fps of the video file .* must be a positive number'):
        VideoFileWriter(str(tmp_path / 'x.mp4'), fps=fps)


def test_folders_in_the_way_are_named(tmp_path):
    (tmp_path / 'taken.mp4').mkdir()
    with pytest.raises(IsADirectoryError, match=r"'.*taken.mp4' is a folder"):
        VideoFileWriter(str(tmp_path / 'taken.mp4'), fps=5.0)
    (tmp_path / 'notes.txt').write_text('a file, not a folder')
    with pytest.raises(NotADirectoryError, match=r"'.*notes.txt' is a file, not a folder"):
        VideoFileWriter(str(tmp_path / 'notes.txt' / 'sub' / 'x.mp4'), fps=5.0)


def test_a_non_uint8_frame_is_refused(tmp_path):
    with VideoFileWriter(str(tmp_path / 'x.mp4'), fps=5.0) as writer:
        with pytest.raises(ValueError, match=r'frame 0 .* must be an \(H, W, 3\) uint8 array'):
            writer.write(np.zeros((4, 8, 3), np.float32))
        writer.write(np.zeros((4, 8, 3), np.uint8))
    assert len(list(VideoSource(str(tmp_path / 'x.mp4')))) == 1
