"""The converters' common target: a box-only YouTube-VIS json built from per-video box tracks.

Every source-format reader in this package produces :class:`VideoBoxTracks` (one video: its frame
files, frame size and object tracks with per-frame ``[x, y, w, h]`` boxes) and hands them to
:func:`build_box_only_json`, which numbers videos, tracks and categories and lays them out as the
ORIGINAL YouTube-VIS json that :class:`~maskfreevis.datasets.BoxVISDataset` reads::

    videos[{id, file_names, width, height, length}]
    annotations[{id, video_id, category_id, bboxes: [[x, y, w, h] | null per frame],
                 segmentations: null, areas: [w * h | null per frame], iscrowd}]
    categories[{id, name}]

:func:`write_json` writes the result, refusing an output path that is one of the inputs.
"""

import json
import os
import os.path as osp
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np

from ..annotation_checks import AnnotationError


@dataclass
class BoxTrack:
    """One object through one video.

    Attributes:
        category: Category name (one of the categories passed to :func:`build_box_only_json`).
        frame_indices: (K,) int, 0-based positions of the frames the object is on; unique.
        boxes_xywh: (K, 4) float ``[x, y, w, h]`` box on each of those frames.
        iscrowd: The whole track is a crowd region (``BoxVISDataset`` loads it with
            ``ignore_flag=1``).
        source: Where the track comes from (file and record), for error messages.
    """

    category: str
    frame_indices: np.ndarray
    boxes_xywh: np.ndarray
    iscrowd: bool = False
    source: str = ''


@dataclass
class VideoBoxTracks:
    """One video: frame files in temporal order, frame size and object tracks.

    Attributes:
        file_names: (L,) frame image paths relative to the dataset's image root.
        width: Frame width in pixels.
        height: Frame height in pixels.
        tracks: The video's objects.
        source: The input file or folder the video comes from, for messages.
    """

    file_names: List[str]
    width: int
    height: int
    tracks: List[BoxTrack] = field(default_factory=list)
    source: str = ''


def first_repeated_row(
    frame_indices: np.ndarray, track_keys: np.ndarray
) -> Optional[Tuple[int, int]]:
    """The first two rows that put one object twice on one frame, ``None`` if there are none.

    Args:
        frame_indices: (N,) frame of each row.
        track_keys: (N,) object identity of each row (ints or strings).

    Returns:
        ``(earlier_row, later_row)`` in input order, or ``None``.
    """
    if len(frame_indices) < 2:
        return None
    _, key_index = np.unique(np.asarray(track_keys), return_inverse=True)
    key_index = key_index.reshape(-1)
    order = np.lexsort((np.arange(len(key_index)), frame_indices, key_index))
    sorted_keys, sorted_frames = key_index[order], np.asarray(frame_indices)[order]
    repeated = (sorted_keys[1:] == sorted_keys[:-1]) & (sorted_frames[1:] == sorted_frames[:-1])
    if not repeated.any():
        return None
    position = int(np.flatnonzero(repeated)[0])
    return int(order[position]), int(order[position + 1])


def group_rows_into_tracks(
    frame_indices: np.ndarray,
    track_keys: np.ndarray,
    boxes_xywh: np.ndarray,
    categories: Sequence[str],
    describe_row: Callable[[int], str],
    iscrowd: Optional[np.ndarray] = None,
) -> List[BoxTrack]:
    """Group one video's box rows (one object on one frame each) into tracks.

    Args:
        frame_indices: (N,) int frame position of each row.
        track_keys: (N,) object identity of each row within the video (ints or strings).
        boxes_xywh: (N, 4) float boxes.
        categories: (N,) category name of each row.
        describe_row: Row index -> where it comes from (``file:line``, json path), for errors.
        iscrowd: (N,) bool crowd flag of each row; a track is a crowd if any of its rows is.

    Returns:
        One :class:`BoxTrack` per distinct key, in sorted key order, frames ascending.

    Raises:
        AnnotationError: an object has two boxes on one frame, or different categories on
            different frames (naming both rows).
    """
    num_rows = len(frame_indices)
    if num_rows == 0:
        return []
    frame_indices = np.asarray(frame_indices, dtype=np.int64)
    keys = np.asarray(track_keys)
    repeated = first_repeated_row(frame_indices, keys)
    if repeated is not None:
        first, second = repeated
        raise AnnotationError(
            f'{describe_row(second)}: object {keys[second]} already has a box '
            f'on this frame ({describe_row(first)})'
        )
    _, key_index = np.unique(keys, return_inverse=True)
    key_index = key_index.reshape(-1)
    order = np.lexsort((frame_indices, key_index))
    sorted_keys = key_index[order]
    names = np.asarray(categories, dtype=object)
    starts = np.flatnonzero(np.r_[True, sorted_keys[1:] != sorted_keys[:-1]])
    tracks = []
    for begin, end in zip(starts.tolist(), np.r_[starts[1:], num_rows].tolist()):
        rows = order[begin:end]
        other = np.flatnonzero(names[rows] != names[rows[0]])
        if len(other):
            row = rows[other[0]]
            raise AnnotationError(
                f'{describe_row(row)}: object {keys[row]} is {names[row]!r} here '
                f'but {names[rows[0]]!r} at {describe_row(rows[0])}'
            )
        crowd = bool(np.asarray(iscrowd)[rows].any()) if iscrowd is not None else False
        tracks.append(
            BoxTrack(
                names[rows[0]],
                frame_indices[rows],
                np.asarray(boxes_xywh, dtype=np.float64)[rows],
                iscrowd=crowd,
                source=describe_row(rows[0]),
            )
        )
    return tracks


def build_box_only_json(videos: Sequence[VideoBoxTracks], categories: Sequence[str]) -> dict:
    """Lay out box tracks as an ORIGINAL YouTube-VIS json without masks.

    Args:
        videos: The videos, in the order they get ids 1..V.
        categories: Category names; they get ids 1..K in this order.

    Returns:
        ``{'videos', 'annotations', 'categories'}`` (see the module docstring): one annotation
        per track (ids 1..M in video, then track order), ``null`` on frames without a box.

    Raises:
        AnnotationError: a track's category is not in ``categories``, or its frames are not
            unique positions of its video.
    """
    if len(set(categories)) != len(categories):
        raise AnnotationError(f'duplicate category names in {list(categories)}')
    category_ids = {name: index + 1 for index, name in enumerate(categories)}
    json_videos: List[Dict[str, Any]] = []
    annotations: List[Dict[str, Any]] = []
    for video_id, video in enumerate(videos, 1):
        num_frames = len(video.file_names)
        json_videos.append(
            dict(
                id=video_id,
                file_names=list(video.file_names),
                width=int(video.width),
                height=int(video.height),
                length=num_frames,
            )
        )
        for track in video.tracks:
            if len(track.frame_indices) == 0:
                continue
            if track.category not in category_ids:
                raise AnnotationError(
                    f'{track.source}: category {track.category!r} is not among '
                    f'the output categories {list(categories)}'
                )
            frames = np.asarray(track.frame_indices, dtype=np.int64)
            if (
                frames.min() < 0
                or frames.max() >= num_frames
                or len(np.unique(frames)) != len(frames)
            ):
                raise AnnotationError(
                    f'{track.source}: frame positions {frames.tolist()} are not '
                    f'unique positions of a {num_frames}-frame video'
                )
            boxes = np.asarray(track.boxes_xywh, dtype=np.float64).reshape(len(frames), 4)
            bboxes: List[Any] = [None] * num_frames
            areas: List[Any] = [None] * num_frames
            for frame, box, area in zip(
                frames.tolist(), boxes.tolist(), (boxes[:, 2] * boxes[:, 3]).tolist()
            ):
                bboxes[frame] = box
                areas[frame] = area
            annotations.append(
                dict(
                    id=len(annotations) + 1,
                    video_id=video_id,
                    category_id=category_ids[track.category],
                    bboxes=bboxes,
                    segmentations=None,
                    areas=areas,
                    iscrowd=int(track.iscrowd),
                )
            )
    return dict(
        videos=json_videos,
        annotations=annotations,
        categories=[dict(id=category_id, name=name) for name, category_id in category_ids.items()],
    )


def count_boxes(data: dict) -> int:
    """The boxes (non-null ``bboxes`` entries) of a YouTube-VIS json."""
    annotations = data.get('annotations') or []
    return sum(sum(box is not None for box in ann.get('bboxes') or []) for ann in annotations)


def summarise(data: dict) -> str:
    """One line describing a YouTube-VIS json: videos, frames, tracks, boxes, categories."""
    videos = data.get('videos') or []
    annotations = data.get('annotations') or []
    num_frames = sum(len(video.get('file_names') or []) for video in videos)
    num_boxes = count_boxes(data)
    return (
        f'{len(videos)} videos, {num_frames} frames, {len(annotations)} tracks, '
        f'{num_boxes} boxes, {len(data.get("categories") or [])} categories'
    )


def check_output_path(output_path: str, input_paths: Sequence[str]) -> None:
    """Refuse to write ``output_path`` when it resolves to one of ``input_paths``.

    Symbolic links, ``..`` and hard links to an input all count as the input.

    Raises:
        ValueError: naming the output and the input it would overwrite, or an output that is
            an existing folder.
    """
    if osp.isdir(output_path):
        raise ValueError(f'output {output_path} is a folder; give a json file path')
    resolved = osp.realpath(output_path)
    for input_path in input_paths:
        same = osp.realpath(input_path) == resolved or (
            osp.exists(output_path)
            and osp.exists(input_path)
            and osp.samefile(output_path, input_path)
        )
        if same:
            raise ValueError(f'refusing to write {output_path}: it is the input {input_path}')


def write_json(data: dict, output_path: str, input_paths: Sequence[str] = ()) -> None:
    """Write ``data`` to ``output_path`` (folders created) after :func:`check_output_path`.

    The json is written to a temporary file next to the output and renamed into place, so an
    interrupted run never leaves a truncated file behind.
    """
    check_output_path(output_path, input_paths)
    os.makedirs(osp.dirname(osp.abspath(output_path)), exist_ok=True)
    # A plain open() (not mkstemp, whose files are private) keeps the user's umask permissions.
    temporary_path = f'{output_path}.{os.getpid()}.tmp'
    try:
        with open(temporary_path, 'w') as stream:
            json.dump(data, stream)
        os.replace(temporary_path, output_path)
    except BaseException:
        if osp.exists(temporary_path):
            os.remove(temporary_path)
        raise
