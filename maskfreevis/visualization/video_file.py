"""Writing drawn frames into a video file, one frame at a time (OpenCV's FFmpeg writer).

The codec is a choice between speed and where the file plays: ``mp4v`` (MPEG-4 part 2) encodes
hundreds of 360p frames per second on a CPU and plays in desktop players (VLC, mpv, ffmpeg), but
not in web browsers; ``vp09`` (VP9 in MP4) plays in browsers and desktop players, but encodes at a
few frames per second on a CPU. OpenCV's wheels carry no H.264 encoder: ``avc1`` (H.264) is written
with the FFmpeg that the optional ``imageio-ffmpeg`` wheel bundles (libx264); it plays everywhere
and encodes ~100 frames of 640 × 272 per second on one CPU core (measured: mp4v ~580, vp09 ~5).
"""

import os
import os.path as osp
from typing import Optional

import cv2
import numpy as np

__all__ = ['VideoFileWriter', 'VIDEO_CODECS']

VIDEO_CODECS = ('mp4v', 'vp09', 'avc1')


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
        self._h264 = None  # imageio-ffmpeg's frame generator, for 'avc1'
        self._size = None

    def write(self, frame: np.ndarray) -> None:
        """Append one (H, W, 3) uint8 RGB frame (the first frame fixes the video's size)."""
        height, width = frame.shape[:2]
        if self._size is None:
            self._open(height, width)
        elif (height, width) != self._size:
            raise ValueError(
                f'frame {self.frames_written} for {self.path!r} is {width}x{height}, the video '
                f'is {self._size[1]}x{self._size[0]}'
            )
        if self._h264 is not None:
            # yuv420p needs even sides: an odd frame gets one black row / column, nothing is cut
            pad = ((0, height % 2), (0, width % 2), (0, 0))
            self._h264.send(np.ascontiguousarray(np.pad(np.asarray(frame, np.uint8), pad)))
        else:
            self._writer.write(np.ascontiguousarray(frame[..., ::-1]))
        self.frames_written += 1

    def _open(self, height: int, width: int) -> None:
        os.makedirs(osp.dirname(osp.abspath(self.path)), exist_ok=True)
        if self.codec == 'avc1':
            self._h264 = _open_h264_writer(self.path, self.fps, width, height)
        else:
            fourcc = cv2.VideoWriter_fourcc(*self.codec)
            self._writer = cv2.VideoWriter(self.path, fourcc, self.fps, (width, height))
            if not self._writer.isOpened():
                raise OSError(
                    f'cannot write video file {self.path!r} with codec {self.codec!r} '
                    '(a folder that cannot be written to, or a codec this OpenCV lacks)'
                )
        self._size = (height, width)

    def close(self) -> None:
        """Finish the file."""
        if self._writer is not None:
            self._writer.release()
            self._writer = None
        if self._h264 is not None:
            self._h264.close()
            self._h264 = None

    def __enter__(self) -> 'VideoFileWriter':
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()


def _open_h264_writer(path: str, fps: float, width: int, height: int):
    """imageio-ffmpeg's H.264 writer for frames of (height, width), padded to even sides; the
    ``moov`` atom goes first, so a browser starts playing before the download ends."""
    try:
        import imageio_ffmpeg
    except ImportError as error:
        raise ImportError(
            f"codec 'avc1' (H.264) for {path!r} needs imageio-ffmpeg (requirements/optional.txt: "
            "pip install imageio-ffmpeg); 'mp4v' and 'vp09' need nothing more"
        ) from error
    writer = imageio_ffmpeg.write_frames(
        path,
        (width + width % 2, height + height % 2),
        fps=fps,
        codec='libx264',
        pix_fmt_out='yuv420p',
        macro_block_size=1,
        output_params=['-movflags', '+faststart'],
    )
    writer.send(None)  # starts FFmpeg
    return writer
