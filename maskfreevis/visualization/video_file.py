"""Writing drawn frames into a video file, one frame at a time (OpenCV's FFmpeg writer).

The codec is a choice between speed and where the file plays: ``mp4v`` (MPEG-4 part 2) encodes
hundreds of 360p frames per second on a CPU and plays in desktop players (VLC, mpv, ffmpeg), but
not in web browsers; ``vp09`` (VP9 in MP4) plays in browsers and desktop players, but encodes at a
few frames per second on a CPU. OpenCV's wheels carry no H.264 encoder.
"""

import os
import os.path as osp
from typing import Optional

import cv2
import numpy as np

__all__ = ['VideoFileWriter', 'VIDEO_CODECS']

VIDEO_CODECS = ('mp4v', 'vp09')


class VideoFileWriter:
    """Append (H, W, 3) uint8 RGB frames of one size to a video file; use as a context manager.

    Args:
        path: the file to write (its folder is created).
        fps: frames per second.
        codec: a FourCC from :data:`VIDEO_CODECS`.
    """

    def __init__(self, path: str, fps: float, codec: str = 'mp4v') -> None:
        if codec not in VIDEO_CODECS:
            raise ValueError(f'codec must be one of {VIDEO_CODECS}, got {codec!r}')
        self.path = str(path)
        self.fps = float(fps)
        self.codec = codec
        self.frames_written = 0
        self._writer: Optional[cv2.VideoWriter] = None
        self._size = None

    def write(self, frame: np.ndarray) -> None:
        """Append one (H, W, 3) uint8 RGB frame (the first frame fixes the video's size)."""
        height, width = frame.shape[:2]
        if self._writer is None:
            os.makedirs(osp.dirname(osp.abspath(self.path)), exist_ok=True)
            fourcc = cv2.VideoWriter_fourcc(*self.codec)
            self._writer = cv2.VideoWriter(self.path, fourcc, self.fps, (width, height))
            if not self._writer.isOpened():
                raise OSError(
                    f'cannot write video file {self.path!r} with codec {self.codec!r} '
                    '(a folder that cannot be written to, or a codec this OpenCV lacks)'
                )
            self._size = (height, width)
        elif (height, width) != self._size:
            raise ValueError(
                f'frame {self.frames_written} for {self.path!r} is {width}x{height}, the video '
                f'is {self._size[1]}x{self._size[0]}'
            )
        self._writer.write(np.ascontiguousarray(frame[..., ::-1]))
        self.frames_written += 1

    def close(self) -> None:
        """Finish the file."""
        if self._writer is not None:
            self._writer.release()
            self._writer = None

    def __enter__(self) -> 'VideoFileWriter':
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()
