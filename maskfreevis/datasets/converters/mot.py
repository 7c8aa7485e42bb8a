"""MOTChallenge ``gt.txt`` and CVAT "MOT 1.1" exports as box-only YouTube-VIS videos.

A sequence is a folder with ``gt/gt.txt`` and the frame images:

* MOTChallenge (MOT15/16/17/20): ``seqinfo.ini`` gives the frame count, size, image folder and
  extension (``[Sequence] seqLength, imWidth, imHeight, imDir, imExt``); frame ``n`` is
  ``imDir/{n:06d}imExt``.
* CVAT "MOT 1.1" export: ``gt/labels.txt`` (one label name per line) and the frames in ``img1/``;
  without ``seqinfo.ini`` frame ``n`` is the n-th image of ``img1/`` in name order and the size is
  read from the first image (or given).

``gt.txt`` has one box per line, comma separated, in one of two layouts told apart by the number
of columns:

* MOT16 / MOT17 / MOT20 and CVAT: ``frame, id, x, y, w, h, flag, class, visibility`` (9 columns;
  a line may stop after the box, the rest then defaults to flag 1, class -1, visibility 1);
* MOT15 (2DMOT2015): ``frame, id, x, y, w, h, conf, world x, world y, world z`` (10 columns, the
  world coordinates -1 in 2D ground truth): no class or visibility, so every row is a
  pedestrian with visibility 1 and the world coordinates are ignored. A file mixing 10-column
  lines with others, or lines of more than 10 columns, is an error.

Choices, stated here because they decide what the model learns from:

* ``frame`` is 1-based: frame ``n`` is the video's frame position ``n - 1``. A frame outside
  ``1..seqLength`` (or beyond the images of ``img1/``) is an error, as is a non-integer one.
* ``flag`` (the "conf" column; "not ignored" in CVAT) is 1 for boxes the benchmark evaluates and
  0 for those it ignores. In MOT16/17/20 ground truth the 0 rows are the classes it does not
  evaluate (vehicles, static people, distractors, occluders, reflections, ...). Rows with flag 0
  are dropped and counted whatever their class, so a pedestrian row flagged 0 is dropped too.
* ``class``: MOTChallenge ids are those of :data:`MOT_CHALLENGE_CLASSES` (1 pedestrian ... 13
  crowd). Only the requested classes become tracks (default: pedestrian, the benchmark's one
  evaluated class); other rows are dropped and counted per class. ``-1`` or a missing column
  (MOT15, plain ``frame, id, x, y, w, h`` files) means pedestrian. For a CVAT export the class is
  the 1-based line of ``labels.txt`` and every label is kept by default. An id outside the table
  (or beyond ``labels.txt``) is an error.
* ``visibility`` (0..1): MOTChallenge boxes are amodal - they cover the whole person even where
  occluded - and box-projection supervision reads a box as the object's visible extent.
  ``min_visibility`` drops boxes seen less than that fraction (default 0: keep all); a track is
  then absent (``null``) on those frames.
* One ``id`` is one object of the sequence; two lines with the same ``(frame, id)`` or one id with
  two classes are errors. Boxes need ``w > 0`` and ``h > 0``.
"""

import configparser
import logging
import os
import os.path as osp
from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
from mmengine.logging import print_log

from ..annotation_checks import AnnotationError, SkipCounter
from .box_only_json import (
    VideoBoxTracks,
    build_box_only_json,
    first_repeated_row,
    group_rows_into_tracks,
)
from .frame_images import list_frame_images, resolve_frame_size

MOT_CHALLENGE_CLASSES: Dict[int, str] = {
    1: 'pedestrian',
    2: 'person_on_vehicle',
    3: 'car',
    4: 'bicycle',
    5: 'motorbike',
    6: 'non_motorised_vehicle',
    7: 'static_person',
    8: 'distractor',
    9: 'occluder',
    10: 'occluder_on_the_ground',
    11: 'occluder_full',
    12: 'reflection',
    13: 'crowd',
}
DEFAULT_MOT_CHALLENGE_CLASSES = ('pedestrian',)
GT_COLUMNS = ('frame', 'id', 'x', 'y', 'w', 'h', 'flag', 'class', 'visibility')
# MOT15's columns: the box and a confidence (the flag), then world coordinates instead of
# class and visibility
MOT15_COLUMNS = ('frame', 'id', 'x', 'y', 'w', 'h', 'conf', 'world_x', 'world_y', 'world_z')
# what a MOT15 row has in place of class and visibility: a pedestrian, fully visible
_MOT15_CLASS_AND_VISIBILITY = ['-1', '1']
# Values of the optional columns when a line stops after the box.
_OPTIONAL_COLUMN_DEFAULTS = ('1', '-1', '1')
_PEDESTRIAN = 1


@dataclass
class MOTSequence:
    """Where one sequence's annotations and frames are.

    Attributes:
        directory: The sequence folder.
        gt_file: Its ``gt/gt.txt``.
        frame_paths: Full path of every frame, in order (frame ``n`` is ``frame_paths[n - 1]``).
        width: Frame width (``None`` until read from ``seqinfo.ini`` or an image).
        height: Frame height.
        label_names: ``labels.txt`` lines for a CVAT export, ``None`` for MOTChallenge ids.
        info_files: The other annotation files read (``seqinfo.ini``, ``labels.txt``).
    """

    directory: str
    gt_file: str
    frame_paths: List[str]
    width: Optional[int]
    height: Optional[int]
    label_names: Optional[List[str]]
    info_files: List[str]


def find_mot_sequences(root: str) -> List[str]:
    """Sequence folders under ``root``: ``root`` itself if it has ``gt/gt.txt``, else its
    sub-folders that have one (sorted by name).

    Raises:
        AnnotationError: no sequence found.
    """
    if osp.isfile(osp.join(root, 'gt', 'gt.txt')):
        return [root]
    if not osp.isdir(root):
        raise AnnotationError(f'{root}: not a folder')
    sequences = sorted(
        osp.join(root, name)
        for name in os.listdir(root)
        if osp.isfile(osp.join(root, name, 'gt', 'gt.txt'))
    )
    if not sequences:
        raise AnnotationError(
            f'{root}: no sequence folder with gt/gt.txt (neither {root} nor its sub-folders)'
        )
    return sequences


def _read_seqinfo(path: str) -> Tuple[List[str], int, int]:
    """Frame paths and ``(width, height)`` from a MOTChallenge ``seqinfo.ini``."""
    parser = configparser.ConfigParser()
    try:
        parser.read(path)
    except configparser.Error as error:
        raise AnnotationError(f'{path}: cannot be parsed ({error})') from error
    if not parser.has_section('Sequence'):
        raise AnnotationError(f'{path}: no [Sequence] section')
    section = parser['Sequence']
    values = {}
    for key in ('seqLength', 'imWidth', 'imHeight'):
        if key.lower() not in section:
            raise AnnotationError(f'{path}: [Sequence] has no {key}')
        try:
            values[key] = int(section[key.lower()])
        except ValueError as error:
            raise AnnotationError(
                f'{path}: {key} must be an integer, got {section[key.lower()]!r}'
            ) from error
        if values[key] <= 0:
            raise AnnotationError(f'{path}: {key} must be positive, got {values[key]}')
    image_dir = osp.join(osp.dirname(path), section.get('imdir', 'img1'))
    extension = section.get('imext', '.jpg')
    frame_paths = [
        osp.join(image_dir, f'{number:06d}{extension}')
        for number in range(1, values['seqLength'] + 1)
    ]
    return frame_paths, values['imWidth'], values['imHeight']


def _read_labels(path: str) -> List[str]:
    """Label names of a CVAT ``labels.txt``: one per non-empty line, unique."""
    with open(path) as stream:
        lines = [(number, line.strip()) for number, line in enumerate(stream, 1)]
    names: List[str] = []
    for number, name in lines:
        if not name:
            continue
        if name in names:
            raise AnnotationError(f'{path}:{number}: label {name!r} is listed twice')
        names.append(name)
    if not names:
        raise AnnotationError(f'{path}: no label names')
    return names


def read_mot_sequence_layout(directory: str) -> MOTSequence:
    """Find a sequence's ``gt.txt``, frames, size (where written down) and labels.

    Raises:
        AnnotationError: no ``gt/gt.txt``, or neither ``seqinfo.ini`` nor images in ``img1/``.
    """
    gt_file = osp.join(directory, 'gt', 'gt.txt')
    if not osp.isfile(gt_file):
        raise AnnotationError(f'{directory}: no gt/gt.txt')
    info_files = []
    seqinfo = osp.join(directory, 'seqinfo.ini')
    labels_file = osp.join(directory, 'gt', 'labels.txt')
    width = height = None
    if osp.isfile(seqinfo):
        frame_paths, width, height = _read_seqinfo(seqinfo)
        info_files.append(seqinfo)
    else:
        image_dir = osp.join(directory, 'img1')
        frame_paths = list_frame_images(image_dir) if osp.isdir(image_dir) else []
        if not frame_paths:
            raise AnnotationError(
                f'{directory}: neither seqinfo.ini nor frame images in img1/, so '
                'the frame count is unknown'
            )
    label_names = None
    if osp.isfile(labels_file):
        label_names = _read_labels(labels_file)
        info_files.append(labels_file)
    return MOTSequence(directory, gt_file, frame_paths, width, height, label_names, info_files)


def read_gt_rows(gt_file: str) -> Tuple[np.ndarray, np.ndarray]:
    """Parse ``gt.txt`` into numbers, in either layout (see the module docstring).

    Blank lines and lines starting with ``#`` are skipped.

    Returns:
        ``(values, line_numbers)``: (N, 9) float64 in :data:`GT_COLUMNS` order (missing optional
        columns filled with flag 1, class -1, visibility 1; MOT15 rows get class -1 and
        visibility 1) and (N,) 1-based line numbers.

    Raises:
        AnnotationError: ``file:line`` of a line with fewer than six or more than ten columns,
            of a line whose layout differs from a 10-column (MOT15) line, or of a non-numeric
            field (naming the column).
    """
    lines: List[List[str]] = []
    line_numbers: List[int] = []
    with open(gt_file) as stream:
        for number, line in enumerate(stream, 1):
            text = line.strip()
            if not text or text.startswith('#'):
                continue
            fields = [value.strip() for value in text.split(',')]
            if not 6 <= len(fields) <= len(MOT15_COLUMNS):
                raise AnnotationError(
                    f'{gt_file}:{number}: expected 6 to 9 comma-separated columns (frame, id, x, '
                    f'y, w, h[, flag, class, visibility]) or the 10 of MOT15 ('
                    f'{", ".join(MOT15_COLUMNS)}), got {len(fields)}: {text!r}'
                )
            lines.append(fields)
            line_numbers.append(number)
    widths = np.array([len(fields) for fields in lines], dtype=np.int64)
    if (widths == len(MOT15_COLUMNS)).any():
        other = np.flatnonzero(widths != len(MOT15_COLUMNS))
        if len(other):
            ten = line_numbers[int(np.argmax(widths == len(MOT15_COLUMNS)))]
            raise AnnotationError(
                f'{gt_file}:{line_numbers[other[0]]}: {widths[other[0]]} columns, but line {ten} '
                f'has the 10 of MOT15 ({", ".join(MOT15_COLUMNS)}); a gt.txt has one layout'
            )
        print_log(
            f'{gt_file}: MOT15 layout (10 columns: {", ".join(MOT15_COLUMNS)}): the conf column '
            'is the flag, every row a pedestrian with visibility 1, world coordinates ignored',
            logger='current',
        )
        rows = [fields[:7] + _MOT15_CLASS_AND_VISIBILITY for fields in lines]
    else:
        rows = [fields + list(_OPTIONAL_COLUMN_DEFAULTS[len(fields) - 6 :]) for fields in lines]
    if not rows:
        return np.zeros((0, len(GT_COLUMNS))), np.zeros(0, dtype=np.int64)
    try:
        values = np.asarray(rows, dtype=np.float64)
    except ValueError:
        for fields, number in zip(rows, line_numbers):
            for column, value in zip(GT_COLUMNS, fields):
                try:
                    float(value)
                except ValueError:
                    raise AnnotationError(
                        f'{gt_file}:{number}: column {column!r} is not a number: {value!r}'
                    ) from None
        raise
    return values, np.asarray(line_numbers, dtype=np.int64)


def _first_bad_line(bad: np.ndarray, line_numbers: np.ndarray) -> Optional[int]:
    """Line number of the first row where ``bad`` is true, ``None`` if none is."""
    rows = np.flatnonzero(bad)
    return int(line_numbers[rows[0]]) if len(rows) else None


def _check_gt_values(
    values: np.ndarray,
    line_numbers: np.ndarray,
    gt_file: str,
    num_frames: int,
    num_classes: Optional[int],
) -> None:
    """Raise naming ``file:line`` for impossible values (see the module docstring)."""
    frame, track_id, box = values[:, 0], values[:, 1], values[:, 2:6]
    class_id = values[:, 7]
    checks = [
        (~np.isfinite(values[:, :6]).all(axis=1), 'frame, id and box must be finite numbers'),
        (frame != np.round(frame), 'frame must be an integer'),
        (
            (frame < 1) | (frame > num_frames),
            f'frame is outside the sequence (1..{num_frames}, 1-based)',
        ),
        (track_id != np.round(track_id), 'id must be an integer'),
        ((box[:, 2] <= 0) | (box[:, 3] <= 0), 'box width and height must be > 0'),
        (class_id != np.round(class_id), 'class must be an integer'),
    ]
    if num_classes is None:
        known = np.isin(class_id, [-1] + list(MOT_CHALLENGE_CLASSES))
        checks.append(
            (
                ~known,
                f'class is not a MOTChallenge class id {sorted(MOT_CHALLENGE_CLASSES)} (or -1)',
            )
        )
    else:
        checks.append(
            (
                (class_id < 1) | (class_id > num_classes),
                f'class must be a 1-based line of labels.txt (1..{num_classes})',
            )
        )
    for bad, message in checks:
        line = _first_bad_line(bad, line_numbers)
        if line is not None:
            row = values[np.flatnonzero(bad)[0]]
            raise AnnotationError(
                f'{gt_file}:{line}: {message}; got {dict(zip(GT_COLUMNS, row.tolist()))}'
            )


def _class_names_of_rows(values: np.ndarray, label_names: Optional[List[str]]) -> np.ndarray:
    """(N,) category name of each row: MOTChallenge table (``-1`` = pedestrian) or labels.txt."""
    class_ids = values[:, 7].astype(np.int64)
    if label_names is None:
        class_ids = np.where(class_ids == -1, _PEDESTRIAN, class_ids)
        table = MOT_CHALLENGE_CLASSES
    else:
        table = {index + 1: name for index, name in enumerate(label_names)}
    lookup = np.array(
        [''] + [table.get(index, '') for index in range(1, max(table) + 1)], dtype=object
    )
    return lookup[class_ids]


def convert_mot_sequence(
    sequence: MOTSequence,
    data_root: str,
    classes: Optional[Sequence[str]],
    min_visibility: float,
    skips: SkipCounter,
    image_size: Optional[Sequence[int]] = None,
) -> VideoBoxTracks:
    """One sequence as box tracks (see the module docstring for what is kept).

    Args:
        sequence: From :func:`read_mot_sequence_layout`.
        data_root: Frame file names are written relative to this folder.
        classes: Category names to keep; ``None``: pedestrian for MOTChallenge class ids, every
            label for a CVAT export.
        min_visibility: Drop boxes whose visibility column is below this.
        skips: Counts the dropped rows per reason.
        image_size: ``(width, height)`` when neither ``seqinfo.ini`` nor the images give it.

    Returns:
        The video; tracks keep the category names of the rows.
    """
    values, line_numbers = read_gt_rows(sequence.gt_file)
    num_frames = len(sequence.frame_paths)
    num_classes = None if sequence.label_names is None else len(sequence.label_names)
    _check_gt_values(values, line_numbers, sequence.gt_file, num_frames, num_classes)
    names = _class_names_of_rows(values, sequence.label_names)
    if classes is None:
        classes = (
            DEFAULT_MOT_CHALLENGE_CLASSES if sequence.label_names is None else sequence.label_names
        )

    def describe(rows: np.ndarray) -> List[str]:
        return [f'{sequence.gt_file}:{line}' for line in line_numbers[rows[: skips.max_examples]]]

    ignored = values[:, 6] == 0
    other_class = ~ignored & ~np.isin(names, list(classes))
    low_visibility = ~ignored & ~other_class & (values[:, 8] < min_visibility)
    # Chosen drops are INFO; the counts still tell the user what the json leaves out.
    skips.add(
        'rows with flag 0 (ignored by the benchmark; dropped)',
        int(ignored.sum()),
        describe(np.flatnonzero(ignored)),
        logging.INFO,
    )
    for name in sorted(set(names[other_class].tolist())):
        rows = np.flatnonzero(other_class & (names == name))
        skips.add(
            f'rows of class {name!r} (not requested; dropped)',
            len(rows),
            describe(rows),
            logging.INFO,
        )
    skips.add(
        f'rows with visibility < {min_visibility} (dropped)',
        int(low_visibility.sum()),
        describe(np.flatnonzero(low_visibility)),
        logging.INFO,
    )

    # Two boxes of one id on one frame are an error among all rows, not only the kept ones.
    repeated = first_repeated_row(values[:, 0], values[:, 1])
    if repeated is not None:
        first, second = line_numbers[list(repeated)]
        raise AnnotationError(
            f'{sequence.gt_file}:{second}: object {values[repeated[1], 1]:g} '
            f'already has a box on this frame ({sequence.gt_file}:{first})'
        )
    keep = ~(ignored | other_class | low_visibility)
    kept_lines = line_numbers[keep]
    tracks = group_rows_into_tracks(
        values[keep, 0].astype(np.int64) - 1,
        values[keep, 1].astype(np.int64),
        values[keep, 2:6],
        names[keep],
        lambda row: f'{sequence.gt_file}:{kept_lines[row]}',
    )
    if sequence.width is not None:
        width, height = sequence.width, sequence.height
    else:
        width, height = resolve_frame_size(image_size, sequence.frame_paths, sequence.directory)
    file_names = [osp.relpath(path, data_root) for path in sequence.frame_paths]
    return VideoBoxTracks(file_names, width, height, tracks, source=sequence.directory)


def convert_mot(
    sequence_dirs: Sequence[str],
    data_root: str,
    classes: Optional[Sequence[str]] = None,
    min_visibility: float = 0.0,
    image_size: Optional[Sequence[int]] = None,
    skips: Optional[SkipCounter] = None,
) -> Tuple[dict, List[str]]:
    """MOTChallenge / CVAT MOT sequences as one box-only YouTube-VIS json.

    Args:
        sequence_dirs: Sequence folders (see :func:`find_mot_sequences`), one video each.
        data_root: Frame file names are relative to this folder (the dataset's image root).
        classes: Category names to keep (see :func:`convert_mot_sequence`); ``None`` = default.
        min_visibility: Drop boxes less visible than this (0..1).
        image_size: ``(width, height)`` for sequences without ``seqinfo.ini`` (else read from
            the first frame).
        skips: Collects the dropped-row counts; a new one when ``None``.

    Returns:
        ``(json, input_files)``: the json (categories in the order of ``classes``, else of the
        MOTChallenge table / ``labels.txt`` files) and every annotation file read.

    Raises:
        AnnotationError: bad input, naming the file and line; a requested class that no
            sequence knows.
    """
    skips = skips or SkipCounter('mot')
    layouts = [read_mot_sequence_layout(directory) for directory in sequence_dirs]
    known: List[str] = []
    for layout in layouts:
        names = MOT_CHALLENGE_CLASSES.values() if layout.label_names is None else layout.label_names
        known.extend(name for name in names if name not in known)
    if classes is not None:
        unknown = [name for name in classes if name not in known]
        if unknown:
            raise AnnotationError(
                f'classes {unknown} are neither MOTChallenge classes nor labels '
                f'of the sequences; known: {known}'
            )
    videos = [
        convert_mot_sequence(layout, data_root, classes, min_visibility, skips, image_size)
        for layout in layouts
    ]
    if classes is None:
        defaults = [
            name
            for layout in layouts
            for name in (
                DEFAULT_MOT_CHALLENGE_CLASSES if layout.label_names is None else layout.label_names
            )
        ]
        classes = [name for name in known if name in defaults]
    input_files = [path for layout in layouts for path in [layout.gt_file] + layout.info_files]
    return build_box_only_json(videos, list(classes)), input_files
