"""Validation of annotation input shared by the video and pseudo-video datasets.

Bad input either raises an error that names the file and the offending record, or is skipped and
counted by :class:`SkipCounter`, which logs one summary line per reason with a few examples.
"""

import json
import logging
import os
import os.path as osp
from collections import OrderedDict
from stat import S_ISREG
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence, Tuple

import cv2
import numpy as np
from mmengine.fileio import LocalBackend, get_file_backend, get_local_path
from mmengine.logging import print_log
from PIL import Image

# Status codes returned by :func:`sanitize_xywh_boxes`.
BOX_VALID = 0
BOX_CLIPPED = 1
BOX_EMPTY = 2  # w or h <= 0, or a non-finite coordinate
BOX_OUTSIDE = 3  # no overlap with the image
# EXIF orientation (tag 0x0112): how the stored pixel grid is to be turned for display. OpenCV's
# and PIL's colour decoding apply it; YouTube-VIS boxes and masks are in the stored grid.
EXIF_ORIENTATION_TAG = 0x0112
EXIF_ORIENTATIONS = {
    2: 'mirrored',
    3: 'rotated 180 degrees',
    4: 'flipped upside down',
    5: 'mirrored and rotated 90 degrees',
    6: 'rotated 90 degrees',
    7: 'mirrored and rotated 270 degrees',
    8: 'rotated 270 degrees',
}
# the decoders' colour modes that apply the EXIF orientation (mmcv's imread flags)
ORIENTATION_APPLYING_COLOR_TYPES = ('color', 'grayscale')
# box_format_mistake: the fewest boxes running past the frame that make corners a likely mistake,
# and the largest coordinate of boxes that look normalised to 0-1
MIN_BOXES_FOR_FORMAT_GUESS = 3
NORMALISED_BOX_LIMIT = 1.5
# compressed RLE strings are decoded this many characters at a time (about 100 MB of arrays)
RLE_CHUNK_CHARS = 1 << 20


class AnnotationError(ValueError):
    """Raised for annotation input that cannot be loaded without guessing."""


class FrameError(ValueError):
    """A frame image is missing, unreadable, or does not match its annotations."""


def load_annotation_json(ann_file: str, backend_args: Optional[dict] = None) -> Any:
    """Read an annotation json; any problem with the file raises an error naming it.

    Args:
        ann_file: Path or URL of the json.
        backend_args: mmengine file backend arguments.

    Returns:
        The parsed json.

    Raises:
        FileNotFoundError: the file does not exist (or is a directory).
        AnnotationError: the file is empty, not UTF-8 text, or not valid json (e.g. cut short);
            the message gives the line and column.
    """
    with get_local_path(ann_file, backend_args=backend_args) as local_path:
        if not osp.isfile(local_path):
            what = 'is a directory' if osp.isdir(local_path) else 'does not exist'
            raise FileNotFoundError(
                f'annotation file {ann_file} {what}; check data_root and ann_file'
            )
        if osp.getsize(local_path) == 0:
            raise AnnotationError(f'{ann_file}: the annotation file is empty (0 bytes)')
        try:
            with open(local_path, encoding='utf-8-sig') as handle:  # a BOM is no error
                return json.load(handle)
        except UnicodeDecodeError as error:
            raise AnnotationError(f'{ann_file}: not a json text file ({error})') from None
        except json.JSONDecodeError as error:
            size = osp.getsize(local_path)
            # An error close to the end of the text is what a file cut short looks like.
            hint = (
                (
                    '; the error is near the end of the file: is it complete (an interrupted '
                    'download or copy cuts it short)?'
                )
                if 0 < error.pos and size - error.pos < max(1024, size // 100)
                else ''
            )
            raise AnnotationError(
                f'{ann_file}: invalid json at line {error.lineno} column {error.colno} (char '
                f'{error.pos} of {size}): {error.msg}{hint}'
            ) from None


def require_keys(record: Mapping, keys: Sequence[str], ann_file: str, what: str) -> None:
    """Raise :class:`AnnotationError` naming ``ann_file``, ``what`` and the first missing key.

    Args:
        record: One json object (a video, image, annotation or the top-level dict).
        keys: Keys that must be present (a ``None`` value counts as present).
        ann_file: Annotation file, for the message.
        what: Human-readable name of the record, e.g. ``"annotation id 7"``.
    """
    if not isinstance(record, Mapping):
        raise AnnotationError(
            f'{ann_file}: {what} must be a json object, got {type(record).__name__}'
        )
    for key in keys:
        if key not in record:
            raise AnnotationError(f"{ann_file}: {what} has no key '{key}'")


def crowd_flag(annotation: Mapping, ann_file: str, what: str) -> bool:
    """An annotation's ``iscrowd``: 0 / 1 (or false / true; absent or null is 0).

    Raises:
        AnnotationError: any other value, e.g. the string ``"0"``, which Python reads as true
            (every such box would be ignored in training without a word).
    """
    value = annotation.get('iscrowd', 0)
    if value is None:
        return False
    if isinstance(value, (bool, int, np.integer)) and value in (0, 1):
        return bool(value)
    raise AnnotationError(f"{ann_file}: {what}: 'iscrowd' must be 0 or 1, got {value!r}")


def as_int_array(values: Sequence[Any], ann_file: str, what: str) -> np.ndarray:
    """Convert json ids to an ``int64`` array of shape (N,), with a clear error for non-integers."""
    array = np.asarray(values, dtype=object)
    is_int = np.fromiter(
        (isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in array),
        dtype=bool,
        count=len(array),
    )
    if not is_int.all():
        bad = array[np.flatnonzero(~is_int)[0]]
        raise AnnotationError(f'{ann_file}: {what} must be integers, got {bad!r}')
    return array.astype(np.int64)


def sanitize_xywh_boxes(
    boxes_xywh: np.ndarray, image_wh: np.ndarray
) -> Tuple[np.ndarray, np.ndarray]:
    """Turn json ``[x, y, w, h]`` boxes into image-clipped ``[x1, y1, x2, y2]`` boxes.

    Args:
        boxes_xywh: (N, 4) float array, NaN allowed (reported as empty).
        image_wh: (N, 2) image width and height of each box's frame.

    Returns:
        ``(boxes_xyxy, status)``: (N, 4) float64 boxes clipped to ``[0, W] x [0, H]`` and (N,)
        int status codes (``BOX_VALID``, ``BOX_CLIPPED``, ``BOX_EMPTY``, ``BOX_OUTSIDE``). Boxes
        whose status is ``BOX_EMPTY`` or ``BOX_OUTSIDE`` must be skipped by the caller.
    """
    boxes_xywh = np.asarray(boxes_xywh, dtype=np.float64).reshape(-1, 4)
    image_wh = np.asarray(image_wh, dtype=np.float64).reshape(-1, 2)
    x1, y1, w, h = boxes_xywh.T
    finite = np.isfinite(boxes_xywh).all(axis=1)
    # NaN comparisons are False, so non-finite boxes also land here.
    empty = ~(finite & (w > 0) & (h > 0))
    raw_xyxy = np.stack([x1, y1, x1 + w, y1 + h], axis=1)
    upper = np.concatenate([image_wh, image_wh], axis=1)
    with np.errstate(invalid='ignore'):
        clipped = np.clip(raw_xyxy, 0.0, upper)
        outside = ~empty & ((clipped[:, 2] <= clipped[:, 0]) | (clipped[:, 3] <= clipped[:, 1]))
        changed = ~empty & ~outside & (clipped != raw_xyxy).any(axis=1)
    status = np.full(len(boxes_xywh), BOX_VALID, dtype=np.int64)
    status[changed] = BOX_CLIPPED
    status[empty] = BOX_EMPTY
    status[outside] = BOX_OUTSIDE
    return clipped, status


def box_format_mistake(
    boxes_xywh: np.ndarray, image_wh: np.ndarray
) -> Optional[Tuple[str, np.ndarray]]:
    """Whether a json's boxes as a whole look like another format than pixel ``[x, y, w, h]``.

    * ``'corners'``: ``[x1, y1, x2, y2]``. Read as ``[x, y, w, h]``, at least
      :data:`MIN_BOXES_FOR_FORMAT_GUESS` boxes and a fifth of all run past the frame by more
      than a pixel, while every box fits inside its frame as corners (``x1 <= x2 <= W``,
      ``y1 <= y2 <= H``). Legitimate boxes that run past the frame (amodal boxes at a border)
      are rarely all anchored closer to the origin than their size.
    * ``'normalised'``: every coordinate lies in ``[0, 1.5]`` (boxes under 1.5 pixels, all in
      the frame's corner), in frames of at least 16 pixels.

    Boxes with a non-finite coordinate or ``w, h <= 0`` are left out of the statistics.

    Args:
        boxes_xywh: (N, 4) json boxes.
        image_wh: (N, 2) width and height of each box's frame.

    Returns:
        ``(kind, rows)``: the mistake and the (K,) rows that show it (those running past the
        frame; all rows for normalised boxes); None when the boxes look right.
    """
    boxes = np.asarray(boxes_xywh, dtype=np.float64).reshape(-1, 4)
    image_wh = np.asarray(image_wh, dtype=np.float64).reshape(-1, 2)
    with np.errstate(invalid='ignore'):
        usable = np.isfinite(boxes).all(1) & (boxes[:, 2] > 0) & (boxes[:, 3] > 0)
    rows = np.flatnonzero(usable)
    if len(rows) == 0:
        return None
    boxes, image_wh = boxes[rows], image_wh[rows]
    if ((boxes >= 0) & (boxes <= NORMALISED_BOX_LIMIT)).all() and (image_wh >= 16).all():
        return 'normalised', rows
    x, y, w, h = boxes.T
    width, height = image_wh.T
    tolerance = 1.0  # pixels: rounding of boxes drawn on the frame's border
    past = (x + w > width + tolerance) | (y + h > height + tolerance)
    as_corners = (
        (x >= -tolerance)
        & (y >= -tolerance)
        & (w >= x)
        & (h >= y)
        & (w <= width + tolerance)
        & (h <= height + tolerance)
    )
    num_past = int(past.sum())
    if as_corners.all() and num_past >= max(MIN_BOXES_FOR_FORMAT_GUESS, 0.2 * len(rows)):
        return 'corners', rows[past]
    return None


def lookup_labels(category_ids: np.ndarray, cat2label: Mapping[int, int]) -> np.ndarray:
    """Label index of each category id, -1 where ``cat2label`` has no entry.

    Args:
        category_ids: (N,) integer category ids.
        cat2label: ``{category_id: label}``.

    Returns:
        (N,) int64 labels.
    """
    category_ids = np.asarray(category_ids, dtype=np.int64)
    if not cat2label:
        return np.full(len(category_ids), -1, dtype=np.int64)
    keys = np.array(sorted(cat2label), dtype=np.int64)
    values = np.array([cat2label[k] for k in keys], dtype=np.int64)
    slots = np.clip(np.searchsorted(keys, category_ids), 0, len(keys) - 1)
    return np.where(keys[slots] == category_ids, values[slots], -1)


class SkipCounter:
    """Counts skipped or repaired annotation records per reason and logs a summary.

    Args:
        owner: Name used in log lines, e.g. ``"BoxVISDataset(train.json)"``.
        max_examples: Examples kept (and logged) per reason.
    """

    def __init__(self, owner: str, max_examples: int = 5) -> None:
        self.owner = owner
        self.max_examples = max_examples
        self.counts: Dict[str, int] = OrderedDict()
        self.examples: Dict[str, List[str]] = {}
        self.levels: Dict[str, int] = {}

    def add(
        self, reason: str, count: int, examples: Sequence[str], level: int = logging.WARNING
    ) -> None:
        """Record ``count`` occurrences of ``reason``; keep the first ``max_examples`` examples."""
        if count <= 0:
            return
        kept = self.examples.setdefault(reason, [])
        kept.extend(examples[: self.max_examples - len(kept)])
        self.counts[reason] = self.counts.get(reason, 0) + count
        self.levels[reason] = max(self.levels.get(reason, level), level)

    def log_summary(self) -> None:
        """Log one line per reason: the count and the kept examples."""
        for reason, count in self.counts.items():
            examples = '; '.join(self.examples.get(reason, []))
            suffix = f' (e.g. {examples})' if examples else ''
            print_log(
                f'{self.owner}: {reason}: {count}{suffix}',
                logger='current',
                level=self.levels[reason],
            )


def check_image_files(
    img_paths: Sequence[str],
    describe_frame: Callable[[int], str],
    ann_file: str,
    backend_args: Optional[dict],
) -> None:
    """Raise ``FileNotFoundError`` if any frame image is missing on a local file system.

    One ``stat`` per frame; skipped (returns silently) for non-local backends, where a
    per-file round trip would be slow and ``LoadImageFromFile`` still fails on access.

    Args:
        img_paths: Path of every frame.
        describe_frame: Maps a frame's position in ``img_paths`` to where it comes from
            (video id/name, frame index), for the message.
        ann_file: Annotation file, for the message.
        backend_args: The dataset's ``backend_args``.
    """
    if len(img_paths) == 0:
        return
    backend = get_file_backend(img_paths[0], backend_args=backend_args)
    if not isinstance(backend, LocalBackend):
        return
    sizes = [_file_size(path) for path in img_paths]
    missing = [i for i, size in enumerate(sizes) if size is None]
    if missing:
        first = missing[0]
        raise FileNotFoundError(
            f'{len(missing)} of {len(img_paths)} frame images listed in {ann_file} do not exist; '
            f'first: {img_paths[first]} ({describe_frame(first)}). Check data_root / '
            f'data_prefix, or pass check_files=False to defer the error to image loading.'
        )
    empty = [i for i, size in enumerate(sizes) if size == 0]
    if empty:
        first = empty[0]
        raise FileNotFoundError(
            f'{len(empty)} of {len(img_paths)} frame images listed in {ann_file} are empty '
            f'(0 bytes); first: {img_paths[first]} ({describe_frame(first)}). Re-extract or '
            're-download those frames.'
        )


def _file_size(path: str) -> Optional[int]:
    """Size in bytes of a regular file; None when it does not exist (or is not a file)."""
    try:
        stat = os.stat(path)
    except OSError:
        return None
    return stat.st_size if S_ISREG(stat.st_mode) else None


def exif_orientation(path: str) -> int:
    """A frame file's EXIF orientation, 2..8 (see :data:`EXIF_ORIENTATIONS`); 1 (stored upright)
    when it has none, or the file cannot be read as an image.

    A JPEG without an EXIF segment among its leading application segments is answered from
    those few bytes (a tenth of the time PIL takes to parse the header).
    """
    if not _may_hold_exif(path):
        return 1
    try:
        with Image.open(path) as image:
            value = image.getexif().get(EXIF_ORIENTATION_TAG, 1)
    except (OSError, ValueError, SyntaxError):
        return 1
    return value if value in EXIF_ORIENTATIONS else 1


def _may_hold_exif(path: str) -> bool:
    """False when ``path`` is a JPEG whose application segments (which come before the image
    data) hold no ``Exif`` block; True otherwise (other formats, or unsure)."""
    try:
        with open(path, 'rb') as handle:
            if handle.read(2) != b'\xff\xd8':
                return True  # not a JPEG: let PIL tell
            while True:
                header = handle.read(4)
                if len(header) < 4 or header[0] != 0xFF:
                    return True
                marker, length = header[1], int.from_bytes(header[2:4], 'big')
                if not (0xE0 <= marker <= 0xEF or marker == 0xFE):
                    return False  # past the application segments: no EXIF
                segment_start = handle.tell()  # after the 2-byte length, which counts itself
                if marker == 0xE1 and handle.read(6) == b'Exif\x00\x00':
                    return True
                handle.seek(segment_start + length - 2)
    except OSError:
        return True


def exif_orientation_problem(path: str, orientation: int, where: str) -> str:
    """The message for a frame whose EXIF orientation the loader applies (boxes would not line
    up with the turned pixels)."""
    return (
        f'{where} ({path}) has an EXIF orientation tag ({orientation}: '
        f"{EXIF_ORIENTATIONS[orientation]}), and the pipeline's LoadImageFromFile decodes "
        "frames with color_type 'color' (the default) or 'grayscale', which turns the pixels; "
        'YouTube-VIS boxes and masks are in the stored pixel grid, so they would not line up. '
        "Load the frames as stored: LoadImageFromFile(color_type='color_ignore_orientation') "
        'in the config (every pipeline of the dataset), or remove the tag from the frame files '
        '(e.g. exiftool -Orientation= -n FILES, or re-extract the frames from the video).'
    )


def diagnose_frames(
    img_paths: Sequence[str], expected_hw: Optional[np.ndarray] = None
) -> List[str]:
    """What is wrong with a video's frame files, read from disk (for error messages only).

    Args:
        img_paths: The frames' paths.
        expected_hw: (L, 2) height and width of each frame according to the annotations; None
            when there are no annotations to compare with.

    Returns:
        One line per problem (missing, empty or undecodable file, a size that differs from the
        annotations or from the other frames); empty when the files look fine.
    """
    problems, sizes = [], {}
    if expected_hw is None:
        expected_hw = np.full((len(img_paths), 2), -1)
    for path, (height, width) in zip(img_paths, np.asarray(expected_hw).tolist()):
        size = _file_size(path)
        if size is None:
            problems.append(f'{path} does not exist')
            continue
        if size == 0:
            problems.append(f'{path} is empty (0 bytes)')
            continue
        image = cv2.imread(path, cv2.IMREAD_UNCHANGED)
        if image is None:
            problems.append(f'{path} cannot be decoded as an image ({size} bytes)')
            continue
        sizes[path] = image.shape[:2]
        if height >= 0 and image.shape[:2] != (height, width):
            problems.append(
                f'{path} is {image.shape[1]}x{image.shape[0]} (w x h) but the '
                f'annotation file says {int(width)}x{int(height)}'
            )
        orientation = exif_orientation(path)
        if orientation != 1:
            problems.append(
                f'{path} has an EXIF orientation tag ({orientation}: '
                f'{EXIF_ORIENTATIONS[orientation]}); decoders that apply it turn the frame'
            )
    if len(set(sizes.values())) > 1:
        listed = ', '.join(f'{osp.basename(p)}: {w}x{h}' for p, (h, w) in list(sizes.items())[:6])
        problems.append(
            f'the frames differ in size ({listed}); all frames of a video must have one size'
        )
    return problems


def decode_compressed_rle_counts(
    strings: Sequence[str],
) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Decode COCO compressed RLE ``counts`` strings, all in one vectorised pass.

    The format (pycocotools ``rleFrString``): each count is a little-endian run of 6-bit
    characters ``chr(48 + c)``; bit 5 of ``c`` says another character follows, the low 5 bits
    carry the value, and bit 4 of the last character is the sign. From the fourth count on, a
    count is stored as the difference to the count two places before it.

    Args:
        strings: N compressed ``counts``.

    Returns:
        ``(counts, owner, well_formed)``: (M,) int64 decoded counts of all strings in order,
        (M,) index of the string each belongs to, and (N,) bool: False where a string has a
        character outside the alphabet, ends in the middle of a count (cut short), holds a
        count too large for pycocotools' 32 bits, or decodes to a negative count.
    """
    num = len(strings)
    lengths = np.fromiter((len(s) for s in strings), dtype=np.int64, count=num)
    ascii_only = np.fromiter((s.isascii() for s in strings), dtype=bool, count=num)
    well_formed = ascii_only.copy()
    text = ''.join(s if ok else '0' * len(s) for s, ok in zip(strings, ascii_only))
    chars = np.frombuffer(text.encode('ascii'), dtype=np.uint8).astype(np.int64) - 48
    if len(chars) == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), well_formed
    char_owner = np.repeat(np.arange(num), lengths)
    out_of_alphabet = (chars < 0) | (chars > 63)
    well_formed &= np.bincount(char_owner[out_of_alphabet], minlength=num) == 0
    chars = np.where(out_of_alphabet, 0, chars)
    continues = (chars & 0x20) != 0
    string_ends = np.cumsum(lengths)[lengths > 0] - 1
    well_formed[char_owner[string_ends[continues[string_ends]]]] = False  # cut short
    # a count ends at a character without the continuation bit, and always at a string's end
    count_ends = ~continues
    count_ends[string_ends] = True
    count_starts = np.flatnonzero(np.concatenate([[True], count_ends[:-1]]))
    count_of_char = np.cumsum(count_ends) - count_ends
    shift = np.arange(len(chars)) - count_starts[count_of_char]  # character's place in its count
    too_long = shift > 6  # 7 characters hold 35 bits, more than any 32-bit count
    well_formed &= np.bincount(char_owner[too_long], minlength=num) == 0
    values = np.add.reduceat((chars & 0x1F) << (5 * np.minimum(shift, 6)), count_starts)
    last = np.flatnonzero(count_ends)
    negative = (chars[last] & 0x10) != 0
    values = values - np.where(negative, np.left_shift(1, 5 * (shift[last] + 1)), 0)
    owner = char_owner[count_starts]
    # undo the difference coding: per string, counts 1, 3, 5, ... and 2, 4, 6, ... are
    # running sums of the stored values (count 0 stands alone)
    place = np.arange(len(owner)) - _first_positions(owner, num)[owner]
    chain = np.where(place == 0, -1, place % 2)
    counts = values.copy()
    for parity in (0, 1):
        members = np.flatnonzero(chain == parity)
        if len(members) == 0:
            continue
        running = np.cumsum(values[members])
        chain_owner = owner[members]
        chain_start = _first_positions(chain_owner, num)[chain_owner]
        before = np.concatenate([[0], running])[chain_start]
        counts[members] = running - before
    bad_count = (counts < 0) | (counts >= 1 << 32)
    well_formed &= np.bincount(owner[bad_count], minlength=num) == 0
    return counts, owner, well_formed


def _first_positions(sorted_owner: np.ndarray, num: int) -> np.ndarray:
    """(num,) position of each owner's first element in the sorted (M,) ``sorted_owner``."""
    sizes = np.bincount(sorted_owner, minlength=num)
    return np.cumsum(sizes) - sizes


def segmentation_problems(
    segmentations: Sequence[Any], frame_hw: np.ndarray
) -> List[Tuple[int, str]]:
    """What is wrong with json segmentations, each against its frame's size.

    A polygon list needs polygons of at least 3 points (6 finite numbers, an even count); an RLE
    needs ``size`` equal to the frame's ``[height, width]`` and ``counts`` (a compressed string
    or a list of non-negative integers) that sum to ``height * width`` - pycocotools loops
    forever, or reads past the mask, on counts that do not.

    Args:
        segmentations: N segmentations (polygon list, RLE dict; ``None`` = no mask, skipped).
        frame_hw: (N, 2) height and width of each one's frame.

    Returns:
        ``(index, problem)`` of every bad segmentation, in order.
    """
    frame_hw = np.asarray(frame_hw, dtype=np.int64).reshape(-1, 2)
    problems: List[Tuple[int, str]] = []
    compressed: List[int] = []
    for index, segmentation in enumerate(segmentations):
        if segmentation is None:
            continue
        height, width = frame_hw[index].tolist()
        if isinstance(segmentation, list):
            problem = _polygon_problem(segmentation)
        elif isinstance(segmentation, Mapping):
            problem = _rle_header_problem(segmentation, height, width)
            if problem is None and isinstance(segmentation['counts'], str):
                compressed.append(index)
        else:
            problem = (
                'a segmentation must be a list of polygons or an RLE dict, got '
                f'{type(segmentation).__name__}'
            )
        if problem is not None:
            problems.append((index, problem))
    if compressed:
        totals, well_formed = compressed_rle_totals(
            [segmentations[i]['counts'] for i in compressed]
        )
        for position in np.flatnonzero(~well_formed | (totals != frame_hw[compressed].prod(1))):
            index = compressed[position]
            height, width = frame_hw[index].tolist()
            problem = (
                'RLE counts are not a valid compressed string (a character outside the '
                'alphabet, cut short, or a negative count)'
                if not well_formed[position]
                else f'RLE counts sum to {int(totals[position])}, not height x width = '
                f'{height} x {width} = {height * width}'
            )
            problems.append((index, problem + ': the mask is cut short or corrupt'))
    return sorted(problems)


def compressed_rle_totals(strings: Sequence[str]) -> Tuple[np.ndarray, np.ndarray]:
    """(N,) sum of the counts and (N,) well-formedness of compressed RLE strings, decoded in
    chunks of about :data:`RLE_CHUNK_CHARS` characters to bound the memory."""
    totals = np.zeros(len(strings), dtype=np.int64)
    well_formed = np.zeros(len(strings), dtype=bool)
    start = 0
    while start < len(strings):
        stop, size = start, 0
        while stop < len(strings) and (stop == start or size < RLE_CHUNK_CHARS):
            size += len(strings[stop])
            stop += 1
        counts, owner, chunk_ok = decode_compressed_rle_counts(strings[start:stop])
        totals[start:stop] = np.bincount(owner, weights=counts, minlength=stop - start)
        well_formed[start:stop] = chunk_ok
        start = stop
    return totals, well_formed


def _polygon_problem(polygons: list) -> Optional[str]:
    """What is wrong with a polygon list ``[[x1, y1, x2, y2, ...], ...]``, or None."""
    for number, polygon in enumerate(polygons):
        if not isinstance(polygon, list):
            return (
                'a polygon segmentation must be a list of polygons [[x1, y1, x2, y2, x3, y3, '
                f'...], ...]; polygon {number} is {polygon!r}'
            )
        values = np.asarray(
            [
                v if isinstance(v, (int, float)) and not isinstance(v, bool) else np.nan
                for v in polygon
            ],
            dtype=np.float64,
        )
        if len(polygon) < 6 or len(polygon) % 2 or not np.isfinite(values).all():
            return (
                f'polygon {number} must list at least 3 points as finite numbers x1, y1, x2, '
                f'y2, x3, y3, ... (an even count >= 6), got {len(polygon)} values'
                + ('' if len(polygon) > 12 else f' {polygon!r}')
            )
    return None


def _rle_header_problem(rle: Mapping, height: int, width: int) -> Optional[str]:
    """What is wrong with an RLE's ``size`` or uncompressed ``counts``, or None (a compressed
    string's counts are checked in bulk by the caller)."""
    if 'size' not in rle or 'counts' not in rle:
        return f'an RLE segmentation needs "size" and "counts", has {sorted(rle)}'
    size = rle['size']
    if not isinstance(size, list) or size != [height, width]:  # 32.0 equals 32
        return f'RLE size {size!r} is not the frame size [height, width] = [{height}, {width}]'
    counts = rle['counts']
    if isinstance(counts, str):
        return None
    if not isinstance(counts, list) or not all(
        isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in counts
    ):
        return 'RLE counts must be a compressed string or a list of non-negative integers'
    if sum(counts) != height * width:
        return (
            f'RLE counts sum to {sum(counts)}, not height x width = {height} x {width} = '
            f'{height * width}: the mask is cut short or corrupt'
        )
    return None
