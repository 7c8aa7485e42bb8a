"""Writing drawn frames into a video file, one frame at a time (OpenCV's FFmpeg writer).

The codec is a choice between speed and where the file plays: ``mp4v`` (MPEG-4 part 2) encodes
hundreds of 360p frames per second on a CPU and plays in desktop players (VLC, mpv, ffmpeg), but
not in web browsers; ``vp09`` (VP9 in MP4) plays in browsers and desktop players, but encodes at a
few frames per second on a CPU. OpenCV's wheels carry no H.264 encoder: ``avc1`` (H.264) is written
with the FFmpeg that the optional ``imageio-ffmpeg`` wheel bundles (libx264); it plays everywhere
and encodes ~100 frames of 640 × 272 per second on one CPU core (measured: mp4v ~580, vp09 ~5).

The file is written atomically: frames go into a hidden file next to the target
(``.<name>.partial-<random><ext>``), renamed over the target only once the video is complete, so an
interrupted or failed run leaves the earlier file of that name as it was and no half video.
"""

import math
import os
import os.path as osp
import secrets
from typing import Optional

import cv2
import numpy as np

__all__ = ['VideoFileWriter', 'VIDEO_CODECS', 'CODEC_EXTENSIONS', 'check_video_output']

VIDEO_CODECS = ('mp4v', 'vp09', 'avc1')

# The containers each codec is written into correctly (checked by decoding the result). FFmpeg
# picks the container from the extension, and some pairs "succeed" into a file that does not play
# (mp4v into .gif or .webm, vp09 into .mpg, avc1 into .webm).
CODEC_EXTENSIONS = {
    'mp4v': ('.mp4', '.m4v', '.mov', '.mkv', '.avi'),
    'vp09': ('.mp4', '.webm', '.mkv', '.avi'),
    'avc1': ('.mp4', '.m4v', '.mov', '.mkv', '.avi'),
}


def check_video_output(path: str, fps: float, codec: str, what: str = 'the video file') -> None:
    """Refuse, before any frame is made, a video output that cannot be written as asked.

    Args:
        path: the file to write.
        fps: frames per second (finite and positive).
        codec: a FourCC of :data:`VIDEO_CODECS`.
        what: how the error names ``path`` (a command line passes its option, e.g. ``'--out'``).

    Raises:
        ValueError: an unknown codec, an extension the codec cannot be written into, or a bad fps.
        IsADirectoryError: ``path`` is a folder.
    """
    if codec not in VIDEO_CODECS:
        raise ValueError(f'codec must be one of {VIDEO_CODECS}, got {codec!r}')
    extension = osp.splitext(path)[1].lower()
    allowed = CODEC_EXTENSIONS[codec]
    if extension not in allowed:
        found = f'extension {extension!r}' if extension else 'no extension'
        raise ValueError(
            f'{what} {path!r} has {found}; codec {codec!r} is written into '
            f'{"/".join(allowed)} files (FFmpeg picks the container from the extension), '
            f'e.g. {osp.splitext(path)[0] + ".mp4"!r}'
        )
    if isinstance(fps, bool) or not isinstance(fps, (int, float)) or not math.isfinite(fps):
        raise ValueError(f'fps of {what} {path!r} must be a positive number, got {fps!r}')
    if fps <= 0:
        raise ValueError(f'fps of {what} {path!r} must be a positive number, got {fps!r}')
    if osp.isdir(path):
        raise IsADirectoryError(f'{what} {path!r} is a folder; give a file name such as out.mp4')


def _make_folder(path: str, what: str) -> str:
    """Create the folder of ``path``; an error naming the part of it that is in the way."""
    folder = osp.dirname(osp.abspath(path))
    try:
        os.makedirs(folder, exist_ok=True)
    except (FileExistsError, NotADirectoryError) as error:
        blocking = folder
        while blocking and not osp.exists(blocking):
            blocking = osp.dirname(blocking)
        raise NotADirectoryError(
            f'cannot create the folder of {what} {path!r}: {blocking!r} is a file, not a folder'
        ) from error
    except OSError as error:
        raise OSError(
            f'cannot create the folder of {what} {path!r}: {error.strerror} ({folder!r})'
        ) from error
    return folder


class VideoFileWriter:
    """Append (H, W, 3) uint8 RGB frames of one size to a video file; use as a context manager.

    The frames go into a hidden partial file in the target's folder; leaving the ``with`` block
    normally completes the video and renames it over ``path``, leaving it by an exception
    (``KeyboardInterrupt`` included) deletes the partial file, so ``path`` keeps what it held.
    Without a ``with`` block: :meth:`close` (or :meth:`finish` then :meth:`commit`) on success,
    :meth:`discard` on failure. A writer that received no frame writes nothing.

    Args:
        path: the file to write (its folder is created); its extension picks the container and
            must suit the codec (:data:`CODEC_EXTENSIONS`).
        fps: frames per second (finite, positive).
        codec: a FourCC from :data:`VIDEO_CODECS`.

    Raises:
        ValueError: a bad codec, extension or fps (see :func:`check_video_output`).
        OSError: the folder cannot be created or written to.
    """

    def __init__(self, path: str, fps: float, codec: str = 'mp4v') -> None:
        self.path = os.fsdecode(path)
        check_video_output(self.path, fps, codec)
        self.fps = float(fps)
        self.codec = codec
        self.frames_written = 0
        self._writer: Optional[cv2.VideoWriter] = None
        self._h264 = None  # imageio-ffmpeg's frame generator, for 'avc1'
        self._size = None
        folder = _make_folder(self.path, 'the video file')
        stem, extension = osp.splitext(osp.basename(self.path))
        # the extension stays last: FFmpeg picks the container from it
        self.partial_path = osp.join(folder, f'.{stem}.partial-{secrets.token_hex(4)}{extension}')
        try:
            # reserve the name now: a folder that cannot be written to fails before any frame
            with open(self.partial_path, 'xb'):
                pass
        except OSError as error:
            raise OSError(
                f'cannot write video file {self.path!r}: {error.strerror} in {folder!r}'
            ) from error

    def write(self, frame: np.ndarray) -> None:
        """Append one (H, W, 3) uint8 RGB frame (the first frame fixes the video's size)."""
        if not (
            isinstance(frame, np.ndarray)
            and frame.ndim == 3
            and frame.shape[2] == 3
            and frame.dtype == np.uint8
        ):
            raise ValueError(
                f'frame {self.frames_written} for {self.path!r} must be an (H, W, 3) uint8 array, '
                f'got {getattr(frame, "shape", type(frame).__name__)} '
                f'{getattr(frame, "dtype", "")}'.rstrip()
            )
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
            self._h264.send(np.ascontiguousarray(np.pad(frame, pad)))
        else:
            self._writer.write(np.ascontiguousarray(frame[..., ::-1]))
        self.frames_written += 1

    def _open(self, height: int, width: int) -> None:
        if self.codec == 'avc1':
            self._h264 = _open_h264_writer(self.partial_path, self.fps, width, height, self.path)
        else:
            fourcc = cv2.VideoWriter_fourcc(*self.codec)
            self._writer = cv2.VideoWriter(self.partial_path, fourcc, self.fps, (width, height))
            if not self._writer.isOpened():
                raise OSError(
                    f'cannot write video file {self.path!r}: OpenCV cannot encode {width}x{height} '
                    f'frames with codec {self.codec!r} into {osp.splitext(self.path)[1]!r}'
                )
        self._size = (height, width)

    def finish(self) -> None:
        """Complete the partial file (the encoder writes its last frames and the index)."""
        if self._writer is not None:
            self._writer.release()
            self._writer = None
        if self._h264 is not None:
            self._h264.close()
            self._h264 = None

    def commit(self) -> None:
        """Rename the finished partial file over :attr:`path` (nothing when no frame came)."""
        self.finish()
        if not osp.exists(self.partial_path):
            return
        if self.frames_written == 0:
            os.remove(self.partial_path)
            return
        with open(self.partial_path, 'rb') as handle:
            os.fsync(handle.fileno())  # on disk before the name points at it
        os.replace(self.partial_path, self.path)

    def close(self) -> None:
        """Finish the file and put it in place."""
        self.commit()

    def discard(self) -> None:
        """Stop and delete the partial file; :attr:`path` keeps what it held before."""
        try:
            self.finish()
        finally:
            if osp.exists(self.partial_path):
                os.remove(self.partial_path)

    def __enter__(self) -> 'VideoFileWriter':
        return self

    def __exit__(self, exc_type, exc_value, traceback) -> None:
        if exc_type is None:
            self.close()
        else:
            self.discard()


def _open_h264_writer(path: str, fps: float, width: int, height: int, target: str):
    """imageio-ffmpeg's H.264 writer into ``path`` (the partial file of ``target``) for frames of
    (height, width), padded to even sides; the ``moov`` atom goes first, so a browser starts
    playing before the download ends."""
    try:
        import imageio_ffmpeg
    except ImportError as error:
        raise ImportError(
            f"codec 'avc1' (H.264) for {target!r} needs imageio-ffmpeg (requirements/optional.txt: "
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
