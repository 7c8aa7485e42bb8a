"""Reading a video's frames one at a time: a video file, a directory of frames or a list of frames.

Video files are decoded with OpenCV (``cv2.VideoCapture``): the pinned stack already needs
OpenCV, its wheels bundle FFmpeg (MP4/H.264, AVI, MOV, WebM, MKV), and it decodes frame by frame,
so a long video never has to be held in memory. Every frame is checked as it is read, and a bad one
stops the run with an error naming the file (and the frame) at fault. A video file that decodes to
fewer frames than its container lists (cut short, or damaged midway) is read as far as it decodes,
with a :class:`TruncatedVideoWarning` naming the file and the frame where decoding stopped.

Frame files are decoded as an image viewer shows them: OpenCV applies a JPEG's EXIF orientation
tag (``IMREAD_COLOR``), as the test pipeline's ``LoadImageFromFile`` does, so the masks and boxes
are in the turned image's pixels. Frame arrays must be (H, W, 3) ``uint8`` BGR; any other dtype
(float, uint16, bool ...) is refused with the conversion to use, never cast.
"""

import os
import os.path as osp
import re
import warnings
from typing import Iterator, List, Optional, Sequence, Tuple, Union

import cv2
import numpy as np

from ..datasets.annotation_checks import diagnose_frames

__all__ = [
    'IMAGE_EXTENSIONS',
    'VIDEO_EXTENSIONS',
    'TruncatedVideoWarning',
    'VideoSource',
    'check_frame_array',
    'exif_orientation',
    'list_video_frames',
    'read_video_file',
    'iter_video_file',
]

IMAGE_EXTENSIONS = ('.jpg', '.jpeg', '.png', '.bmp', '.tif', '.tiff', '.webp')
VIDEO_EXTENSIONS = (
    '.mp4',
    '.avi',
    '.mov',
    '.mkv',
    '.webm',
    '.m4v',
    '.mpg',
    '.mpeg',
    '.ts',
    '.flv',
    '.wmv',
    '.3gp',
    '.ogv',
)

PathInput = Union[str, bytes, os.PathLike]
VideoInput = Union[PathInput, Sequence[PathInput], Sequence[np.ndarray], np.ndarray]

# Frame rate assumed for directories and lists of frames, which carry none.
DEFAULT_FPS = 10.0
# EXIF orientations that turn the image by 90 or 270 degrees (its width and height swap).
_TURNING_ORIENTATIONS = {
    5: 'mirrored and turned 270°',
    6: 'turned 90° clockwise',
    7: 'mirrored and turned 90°',
    8: 'turned 270° clockwise',
}


class TruncatedVideoWarning(UserWarning):
    """A video file decoded to fewer frames than its container lists."""


def _natural_key(name: str) -> list:
    """Sort key comparing runs of digits as numbers: ``frame_2`` before ``frame_10``."""
    return [int(part) if part.isdigit() else part.lower() for part in re.split(r'(\d+)', name)]


def list_video_frames(video_dir: PathInput) -> List[str]:
    """The image files of a frame directory (one video), in natural order of their names.

    Names are compared with their numbers as numbers (``2.jpg`` before ``10.jpg``; zero-padded
    names sort as they read). Hidden files (``.name``, e.g. macOS ``._0001.jpg``) and folders
    are not frames.
    """
    video_dir = os.fsdecode(video_dir)
    if osp.isfile(video_dir):
        raise ValueError(
            f'{video_dir!r} is a file, not a directory of frames; pass a directory, '
            f'a video file ({"/".join(VIDEO_EXTENSIONS)}) or a list of frames'
        )
    if not osp.isdir(video_dir):
        raise FileNotFoundError(f'video directory {video_dir!r} does not exist')
    names = [
        name
        for name in os.listdir(video_dir)
        if name.lower().endswith(IMAGE_EXTENSIONS)
        and not name.startswith('.')
        and osp.isfile(osp.join(video_dir, name))
    ]
    if not names:
        raise FileNotFoundError(f'no frames ({"/".join(IMAGE_EXTENSIONS)}) in {video_dir!r}')
    return [osp.join(video_dir, name) for name in sorted(names, key=_natural_key)]


def exif_orientation(path: str) -> Optional[int]:
    """The EXIF orientation tag (1-8) of an image file, None when it has none or is unreadable."""
    try:
        from PIL import Image

        with Image.open(path) as image:
            value = image.getexif().get(0x0112)
    except Exception:  # noqa: BLE001  only used to explain an error
        return None
    return int(value) if isinstance(value, int) and 1 <= value <= 8 else None


def _orientation_note(path: str) -> str:
    """`` (PATH carries EXIF orientation N: turned 90°...)`` when the tag swaps width and height."""
    orientation = exif_orientation(path)
    if orientation not in _TURNING_ORIENTATIONS:
        return ''
    return (
        f'; {path} carries EXIF orientation {orientation} ({_TURNING_ORIENTATIONS[orientation]}), '
        'which the decoder applies, as a viewer does: give every frame the same orientation, '
        'e.g. `mogrify -auto-orient *.jpg` writes the turned pixels and drops the tag'
    )


def _mp4_box_types(path: str, limit: int = 64) -> List[str]:
    """Types of the top-level boxes of an MP4/MOV file (as far as they can be walked)."""
    types = []
    size_of_file = osp.getsize(path)
    with open(path, 'rb') as handle:
        offset = 0
        while offset + 8 <= size_of_file and len(types) < limit:
            handle.seek(offset)
            header = handle.read(16)
            size = int.from_bytes(header[:4], 'big')
            types.append(header[4:8].decode('latin-1'))
            if size == 1 and len(header) >= 16:
                size = int.from_bytes(header[8:16], 'big')
            elif size == 0:
                break
            if size < 8:
                break
            offset += size
    return types


def _unreadable_video_error(path: str) -> ValueError:
    reason = '(empty, damaged, or a codec OpenCV lacks)'
    if osp.getsize(path) == 0:
        reason = '(the file is empty: 0 bytes)'
    elif path.lower().endswith(('.mp4', '.mov', '.m4v', '.3gp')):
        boxes = _mp4_box_types(path)
        if boxes and boxes[0] == 'ftyp' and 'moov' not in boxes:
            reason = (
                "(the MP4 has no index, its 'moov' box: the file was cut short by an interrupted "
                'download or copy, or is still being written; copy it again)'
            )
    return ValueError(
        f'cannot read any frame from video file {path!r} {reason}; if other players read it, '
        f'extract its frames into a directory instead, e.g. `ffmpeg -i {path} frames/%05d.jpg`'
    )


def _truncation_message(path: str, decoded: int, listed: int) -> str:
    return (
        f'video file {path!r}: only {decoded} of the {listed} frames its container lists could '
        f'be decoded; the file is cut short (decoding stopped after frame {decoded - 1}) or has '
        'damaged frames that were skipped (the frame indices after them are then early); the '
        f'results cover the {decoded} frames that decoded'
    )


def _decode_video_file(path: str, counts: dict) -> Iterator[np.ndarray]:
    """Frames of a video file; fills ``counts`` with ``listed`` (container) and ``decoded``."""
    if not osp.isfile(path):
        raise FileNotFoundError(f'video file {path!r} does not exist')
    capture = cv2.VideoCapture(path)
    counts['listed'] = int(capture.get(cv2.CAP_PROP_FRAME_COUNT))
    counts['decoded'] = 0
    try:
        while capture.isOpened():
            ok, frame = capture.read()
            if not ok:
                break
            counts['decoded'] += 1
            yield frame
    finally:
        capture.release()
    if counts['decoded'] == 0:
        raise _unreadable_video_error(path)


def iter_video_file(path: PathInput) -> Iterator[np.ndarray]:
    """Frames of a video file, decoded one at a time, as (H, W, 3) uint8 BGR arrays.

    A file that decodes to fewer frames than its container lists yields what decodes, then warns
    (:class:`TruncatedVideoWarning`, naming the file and where decoding stopped).
    """
    path = os.fsdecode(path)
    counts: dict = {}
    yield from _decode_video_file(path, counts)
    if 0 < counts['decoded'] < counts['listed']:
        warnings.warn(
            _truncation_message(path, counts['decoded'], counts['listed']),
            TruncatedVideoWarning,
            stacklevel=2,
        )


def read_video_file(path: PathInput) -> List[np.ndarray]:
    """All frames of a video file as (H, W, 3) uint8 BGR arrays (OpenCV decodes them)."""
    return list(iter_video_file(path))


def _read_frame_file(path: str, index: int) -> np.ndarray:
    """One frame file as an (H, W, 3) uint8 BGR array, or an error naming the file."""
    frame = cv2.imread(path, cv2.IMREAD_COLOR)
    if frame is None:
        problems = diagnose_frames([path])
        reason = problems[0] if problems else f'{path} cannot be decoded as an image'
        raise ValueError(f'cannot read frame {index} of the video: {reason}')
    return frame


def _conversion_hint(frame: np.ndarray) -> str:
    """The conversion to uint8 that fits what a non-uint8 frame holds."""
    if frame.dtype == np.bool_:
        return '`frame.astype(np.uint8) * 255` (a mask: True = 255)'
    if frame.size == 0:
        return '`frame.astype(np.uint8)`'
    if np.issubdtype(frame.dtype, np.floating):
        if not np.isfinite(frame).all():
            return 'replace its NaN / inf values first, e.g. `np.nan_to_num(frame)`, then convert'
        high = float(frame.max())
        if high <= 1.0:
            return '`(frame * 255).round().clip(0, 255).astype(np.uint8)` (values in [0, 1])'
        return '`frame.round().clip(0, 255).astype(np.uint8)` (values in [0, 255])'
    if np.issubdtype(frame.dtype, np.integer):
        low, high = int(frame.min()), int(frame.max())
        if frame.dtype == np.uint16 or high > 255:
            return '`(frame // 257).astype(np.uint8)` (16-bit values: 65535 -> 255)'
        if low >= 0:
            return '`frame.astype(np.uint8)` (its values already lie in [0, 255])'
    return '`cv2.normalize(frame, None, 0, 255, cv2.NORM_MINMAX, cv2.CV_8U)` or your own scaling'


def check_frame_array(frame, label: str) -> None:
    """Refuse a frame that is not an (H, W, 3) uint8 array, naming it and the fix.

    Nothing is cast: a float frame in [0, 1] cast to uint8 is black, 16-bit values wrap, so the
    error names the frame, its dtype and value range and the conversion that fits.

    Args:
        frame: what was given as one frame.
        label: how the error names it, e.g. ``'frame 3 of the frame list'``.
    """
    if not isinstance(frame, np.ndarray):
        raise ValueError(
            f'{label} must be an (H, W, 3) uint8 BGR array or a frame file path, got '
            f'{type(frame).__name__}'
        )
    if frame.ndim == 2 or (frame.ndim == 3 and frame.shape[2] in (1, 4)):
        channels = 1 if frame.ndim == 2 else frame.shape[2]
        fix = 'cv2.COLOR_BGRA2BGR' if channels == 4 else 'cv2.COLOR_GRAY2BGR'
        raise ValueError(
            f'{label} must be an (H, W, 3) BGR array, got shape {frame.shape} ({channels} '
            f'channel(s)); convert it with `cv2.cvtColor(frame, {fix})`'
        )
    if frame.ndim != 3 or frame.shape[2] != 3:
        raise ValueError(f'{label} must be an (H, W, 3) BGR array, got shape {frame.shape}')
    if frame.shape[0] == 0 or frame.shape[1] == 0:
        raise ValueError(f'{label} is empty: shape {frame.shape}')
    if frame.dtype != np.uint8:
        if frame.dtype == np.bool_ or np.issubdtype(frame.dtype, np.number):
            span = f'values {frame.min().item()} to {frame.max().item()}'
        else:
            span = 'no numbers'
        raise ValueError(
            f'{label} is {frame.dtype} ({span}); frames must be uint8 (0-255) and are not cast, '
            f'as a cast would silently darken or wrap them. Convert it first: '
            f'{_conversion_hint(frame)}'
        )


class VideoSource:
    """The frames of one video, read lazily and checked to be (H, W, 3) uint8 arrays of one size.

    Args:
        video: a video file (mp4/avi/mov/mkv/webm/...), a directory of frames (natural order of
            the names), a list of frame file paths, a list of (H, W, 3) uint8 **BGR** arrays, or
            one (T, H, W, 3) uint8 array. Paths may be ``str``, ``bytes`` or ``os.PathLike``.

    Attributes:
        name: what the errors call the video (its path, or ``'the frame list'``).
        num_frames: the number of frames when known in advance (a video file's container count
            may be an estimate), else None.
        fps: frames per second of a video file; :data:`DEFAULT_FPS` for frames.
        frames_decoded: frames read so far.
        incomplete: after reading a video file to its end, a message when it decoded to fewer
            frames than its container lists (also warned as :class:`TruncatedVideoWarning`),
            else None.
    """

    def __init__(self, video: VideoInput) -> None:
        self._file: Optional[str] = None
        self._frames: Optional[Sequence] = None
        self._frame_size: Optional[Tuple[int, int]] = None
        self.fps = DEFAULT_FPS
        self.num_frames: Optional[int] = None
        self.frames_decoded = 0
        self.incomplete: Optional[str] = None
        if isinstance(video, (str, bytes, os.PathLike)):
            path = os.fsdecode(video)
            self.name = path
            if path.lower().endswith(VIDEO_EXTENSIONS) and not osp.isdir(path):
                self._open_video_file(path)
                return
            self._frames = list_video_frames(path)
        elif isinstance(video, np.ndarray):
            self.name = 'the frame array'
            if not (video.ndim == 4 and video.shape[-1] == 3):
                one_frame = video.ndim == 3 and video.shape[-1] == 3
                raise ValueError(
                    f'a video given as one array must be (T, H, W, 3), got shape {video.shape}'
                    + ('; for a single frame pass [frame]' if one_frame else '')
                )
            self._frames = list(video)
        elif isinstance(video, Sequence) or hasattr(video, '__iter__'):
            self.name = 'the frame list'
            self._frames = [
                os.fsdecode(f) if isinstance(f, (bytes, os.PathLike)) else f for f in video
            ]
        else:
            raise TypeError(
                'video must be a video file, a directory of frames, a list of frame paths or '
                f'of (H, W, 3) uint8 arrays, got {type(video).__name__}'
            )
        if not self._frames:
            kind = 'frame array' if isinstance(video, np.ndarray) else 'frame list'
            raise ValueError(f'the video has no frames (empty {kind})')
        missing = [str(f) for f in self._frames if isinstance(f, str) and not osp.isfile(f)]
        if missing:
            raise FileNotFoundError(
                f'{len(missing)} frame file(s) do not exist, first: {missing[0]!r}'
            )
        self.num_frames = len(self._frames)

    def _open_video_file(self, path: str) -> None:
        if '://' in path:
            raise ValueError(
                f'{path!r} is a URL: videos are read from local files; download it first'
            )
        if not osp.isfile(path):
            raise FileNotFoundError(f'video file {path!r} does not exist')
        self._file = path
        capture = cv2.VideoCapture(path)
        try:
            if not capture.isOpened():
                raise _unreadable_video_error(path)
            fps = capture.get(cv2.CAP_PROP_FPS)
            count = int(capture.get(cv2.CAP_PROP_FRAME_COUNT))
            width = int(capture.get(cv2.CAP_PROP_FRAME_WIDTH))
            height = int(capture.get(cv2.CAP_PROP_FRAME_HEIGHT))
        finally:
            capture.release()
        self.fps = float(fps) if fps and fps > 0 else DEFAULT_FPS
        self.num_frames = count if count > 0 else None
        if width > 0 and height > 0:
            self._frame_size = (height, width)

    @property
    def frame_size(self) -> Tuple[int, int]:
        """(H, W) of the frames, from the container or the first frame (as decoded)."""
        if self._frame_size is None:
            if self._file is not None:  # the container did not say: decode the first frame
                first = next(_decode_video_file(self._file, {}))
            else:
                first = self._frames[0]
            if isinstance(first, str):
                first = _read_frame_file(first, 0)
            check_frame_array(first, self._frame_label(0))
            self._frame_size = tuple(first.shape[:2])
        return self._frame_size

    def _raw_frames(self) -> Iterator[np.ndarray]:
        if self._file is not None:
            counts: dict = {}
            yield from _decode_video_file(self._file, counts)
            if counts['decoded'] < counts['listed']:
                self.incomplete = _truncation_message(
                    self._file, counts['decoded'], counts['listed']
                )
                warnings.warn(self.incomplete, TruncatedVideoWarning, stacklevel=2)
            return
        for index, frame in enumerate(self._frames):
            if isinstance(frame, str):
                yield _read_frame_file(frame, index)
            else:
                yield frame

    def _frame_label(self, index: int) -> str:
        if self._frames is not None and isinstance(self._frames[index], str):
            return f'frame {index} ({self._frames[index]})'
        return f'frame {index} of {self.name}'

    def _size_error(self, first_hw, index: int, frame: np.ndarray) -> ValueError:
        note = ''
        if self._frames is not None:
            paths = [self._frames[i] for i in (0, index) if isinstance(self._frames[i], str)]
            note = ''.join(_orientation_note(p) for p in paths)
        return ValueError(
            f'all frames of a video must have one size: frame 0 of {self.name} is '
            f'{first_hw[1]}x{first_hw[0]} (w x h), {self._frame_label(index)} is '
            f'{frame.shape[1]}x{frame.shape[0]}{note}'
        )

    def __iter__(self) -> Iterator[np.ndarray]:
        """Yield the frames in order as (H, W, 3) uint8 BGR arrays of one size."""
        first_hw = None
        self.frames_decoded = 0
        self.incomplete = None
        for index, frame in enumerate(self._raw_frames()):
            check_frame_array(frame, self._frame_label(index))
            if first_hw is None:
                first_hw = frame.shape[:2]
            elif frame.shape[:2] != first_hw:
                raise self._size_error(first_hw, index, frame)
            self.frames_decoded += 1
            yield np.ascontiguousarray(frame)
