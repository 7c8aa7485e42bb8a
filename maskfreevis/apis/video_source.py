"""Reading a video's frames one at a time: a video file, a directory of frames or a list of frames.

Video files are decoded with OpenCV (``cv2.VideoCapture``): the pinned stack already needs
OpenCV, its wheels bundle FFmpeg (MP4/H.264, AVI, MOV, WebM, MKV), and it decodes frame by frame,
so a long video never has to be held in memory. Every frame is checked as it is read, and a bad one
stops the run with an error naming the file (and the frame) at fault.
"""

import os
import os.path as osp
from typing import Iterator, List, Optional, Sequence, Union

import cv2
import numpy as np

from ..datasets.annotation_checks import diagnose_frames

__all__ = [
    'IMAGE_EXTENSIONS',
    'VIDEO_EXTENSIONS',
    'VideoSource',
    'list_video_frames',
    'read_video_file',
    'iter_video_file',
]

IMAGE_EXTENSIONS = ('.jpg', '.jpeg', '.png', '.bmp')
VIDEO_EXTENSIONS = ('.mp4', '.avi', '.mov', '.mkv', '.webm', '.m4v', '.mpg', '.mpeg')

VideoInput = Union[str, os.PathLike, Sequence[str], Sequence[np.ndarray]]

# Frame rate assumed for directories and lists of frames, which carry none.
DEFAULT_FPS = 10.0


def list_video_frames(video_dir: str) -> List[str]:
    """Sorted image files of a frame directory (one video)."""
    if osp.isfile(video_dir):
        raise ValueError(
            f'{video_dir!r} is a file, not a directory of frames; pass a directory, '
            f'a video file ({"/".join(VIDEO_EXTENSIONS)}) or a list of frames'
        )
    if not osp.isdir(video_dir):
        raise FileNotFoundError(f'video directory {video_dir!r} does not exist')
    frames = sorted(
        osp.join(video_dir, name)
        for name in os.listdir(video_dir)
        if name.lower().endswith(IMAGE_EXTENSIONS)
    )
    if not frames:
        raise FileNotFoundError(f'no frames ({"/".join(IMAGE_EXTENSIONS)}) in {video_dir!r}')
    return frames


def _unreadable_video_error(path: str) -> ValueError:
    return ValueError(
        f'cannot read any frame from video file {path!r} (empty, damaged, or a '
        'codec OpenCV lacks); extract its frames into a directory instead, e.g. '
        f'`ffmpeg -i {path} frames/%05d.jpg`'
    )


def iter_video_file(path: str) -> Iterator[np.ndarray]:
    """Frames of a video file, decoded one at a time, as (H, W, 3) uint8 BGR arrays."""
    if not osp.isfile(path):
        raise FileNotFoundError(f'video file {path!r} does not exist')
    capture = cv2.VideoCapture(path)
    count = 0
    try:
        while capture.isOpened():
            ok, frame = capture.read()
            if not ok:
                break
            count += 1
            yield frame
    finally:
        capture.release()
    if count == 0:
        raise _unreadable_video_error(path)


def read_video_file(path: str) -> List[np.ndarray]:
    """All frames of a video file as (H, W, 3) uint8 BGR arrays (OpenCV decodes them)."""
    return list(iter_video_file(path))


def _read_frame_file(path: str, index: int) -> np.ndarray:
    """One frame file as an (H, W, 3) uint8 BGR array, or an error naming the file."""
    frame = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if frame is None:
        problems = diagnose_frames([str(path)])
        reason = problems[0] if problems else f'{path} cannot be decoded as an image'
        raise ValueError(f'cannot read frame {index} of the video: {reason}')
    return frame


class VideoSource:
    """The frames of one video, read lazily and checked to be (H, W, 3) arrays of one size.

    Args:
        video: a video file (mp4/avi/mov/mkv/webm/...), a directory of frames (sorted by name), a
            list of frame file paths, or a list of (H, W, 3) uint8 **BGR** arrays.

    Attributes:
        name: what the errors call the video (its path, or ``'the frame list'``).
        num_frames: the number of frames when known in advance (a video file's container count
            may be an estimate), else None.
        fps: frames per second of a video file; :data:`DEFAULT_FPS` for frames.
    """

    def __init__(self, video: VideoInput) -> None:
        self._file: Optional[str] = None
        self._frames: Optional[Sequence] = None
        self.fps = DEFAULT_FPS
        self.num_frames: Optional[int] = None
        if isinstance(video, (str, os.PathLike)):
            path = str(video)
            self.name = path
            if path.lower().endswith(VIDEO_EXTENSIONS) and not osp.isdir(path):
                if not osp.isfile(path):
                    raise FileNotFoundError(f'video file {path!r} does not exist')
                self._file = path
                capture = cv2.VideoCapture(path)
                try:
                    if not capture.isOpened():
                        raise _unreadable_video_error(path)
                    fps = capture.get(cv2.CAP_PROP_FPS)
                    count = int(capture.get(cv2.CAP_PROP_FRAME_COUNT))
                finally:
                    capture.release()
                self.fps = float(fps) if fps and fps > 0 else DEFAULT_FPS
                self.num_frames = count if count > 0 else None
                return
            self._frames = list_video_frames(path)
        else:
            self.name = 'the frame list'
            self._frames = list(video)
            if not self._frames:
                raise ValueError('the video has no frames (empty frame list)')
            missing = [
                str(f)
                for f in self._frames
                if isinstance(f, (str, os.PathLike)) and not osp.isfile(f)
            ]
            if missing:
                raise FileNotFoundError(
                    f'{len(missing)} frame file(s) do not exist, first: {missing[0]!r}'
                )
        self.num_frames = len(self._frames)

    def _raw_frames(self) -> Iterator[np.ndarray]:
        if self._file is not None:
            yield from iter_video_file(self._file)
            return
        for index, frame in enumerate(self._frames):
            if isinstance(frame, (str, os.PathLike)):
                yield _read_frame_file(str(frame), index)
            else:
                yield frame

    def _frame_label(self, index: int) -> str:
        if self._frames is not None and isinstance(self._frames[index], (str, os.PathLike)):
            return f'frame {index} ({self._frames[index]})'
        return f'frame {index} of {self.name}'

    def __iter__(self) -> Iterator[np.ndarray]:
        """Yield the frames in order as (H, W, 3) uint8 BGR arrays of one size."""
        first_hw = None
        for index, frame in enumerate(self._raw_frames()):
            if not (isinstance(frame, np.ndarray) and frame.ndim == 3 and frame.shape[2] == 3):
                raise ValueError(
                    f'{self._frame_label(index)} must be an (H, W, 3) array, got '
                    f'{getattr(frame, "shape", type(frame).__name__)}'
                )
            if first_hw is None:
                first_hw = frame.shape[:2]
            elif frame.shape[:2] != first_hw:
                raise ValueError(
                    f'all frames of a video must have one size: frame 0 of {self.name} is '
                    f'{first_hw[1]}x{first_hw[0]} (w x h), {self._frame_label(index)} is '
                    f'{frame.shape[1]}x{frame.shape[0]}'
                )
            yield np.ascontiguousarray(frame, dtype=np.uint8)
