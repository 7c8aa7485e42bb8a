"""VideoFileWriter: frames in, a video file that decodes to the same frames."""

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
