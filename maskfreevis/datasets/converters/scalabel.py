"""BDD100K / Scalabel box-tracking json as box-only YouTube-VIS videos.

Input: json files holding either a list of frames (BDD100K ``box_track_20``: one file per video)
or a Scalabel dataset ``{"frames": [...], "config": {...}}``. A frame is::

    {"name": "b1c66a42-6f7d68ca-0000001.jpg", "videoName": "b1c66a42-6f7d68ca", "frameIndex": 0,
     "size": {"width": 1280, "height": 720},            # optional
     "labels": [{"id": "1", "category": "car", "attributes": {"crowd": false, ...},
                 "box2d": {"x1": .., "y1": .., "x2": .., "y2": ..}}]}

Choices:

* Frames are grouped into videos by ``videoName`` (the file's name without ``.json`` when absent)
  and ordered by ``frameIndex`` (list order when a frame lacks it); a video's frames are the
  listed frames only, so a video annotated at 5 fps stays a 5 fps clip. Two frames of a video
  with the same ``frameIndex`` or ``name`` are an error.
* Frame files: ``videoName/name`` (BDD100K keeps each video's frames in a folder named after it);
  a ``name`` that already contains ``/`` is used as it is.
* ``box2d`` corners are inclusive pixel coordinates in Scalabel, so ``w = x2 - x1 + 1`` (as
  Scalabel's and BDD100K's COCO converters do); ``inclusive_corners=False`` gives ``x2 - x1``.
  ``x2 < x1`` or ``y2 < y1`` is an error; a label without ``box2d`` (a polygon or mask label) is
  skipped and counted.
* Label ``id`` is the object identity within its video; two labels with one id on a frame, or one
  id with two categories, are errors. ``attributes.crowd`` marks the track as a crowd region.
* Categories: ``classes`` when given (a label of a category in neither ``classes`` nor
  ``ignore_classes`` is an error; ``ignore_classes`` labels are dropped and counted, e.g.
  BDD100K's ``other person``, ``other vehicle``, ``trailer``); else the leaf categories of the
  files' ``config``; else every category met, sorted by name (minus ``ignore_classes``).
* Frame size: the frames' ``size``, else ``config.imageSize``, else ``image_size``, else the first
  frame image under ``image_root``; frames of one video must agree.
"""

import json
import logging
import os
import os.path as osp
from collections import OrderedDict
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

import numpy as np

from ..annotation_checks import AnnotationError, SkipCounter
from .box_only_json import VideoBoxTracks, build_box_only_json, group_rows_into_tracks
from .frame_images import resolve_frame_size

LocatedFrame = Tuple[Mapping[str, Any], str]  # a frame and its json path, for messages
# BDD100K box tracking: the eight evaluated classes, and the classes its evaluation ignores.
BDD100K_BOX_TRACK_CLASSES = (
    'pedestrian',
    'rider',
    'car',
    'truck',
    'bus',
    'train',
    'motorcycle',
    'bicycle',
)
BDD100K_IGNORED_CLASSES = ('other person', 'other vehicle', 'trailer')


def find_scalabel_files(paths: Sequence[str]) -> List[str]:
    """The json files among ``paths``, each folder replaced by its ``*.json`` files (sorted).

    Raises:
        AnnotationError: a path that does not exist, or no json file at all.
    """
    files = []
    for path in paths:
        if osp.isdir(path):
            files.extend(
                sorted(osp.join(path, name) for name in os.listdir(path) if name.endswith('.json'))
            )
        elif osp.isfile(path):
            files.append(path)
        else:
            raise AnnotationError(f'{path}: no such file or folder')
    if not files:
        raise AnnotationError(f'no json file in {list(paths)}')
    return files


def _leaf_categories(categories: Any, where: str) -> List[str]:
    """Names of the leaf categories of a Scalabel ``config.categories`` tree."""
    if not isinstance(categories, list):
        raise AnnotationError(f'{where}: must be a list of {{"name", "subcategories"}}')
    names = []
    for index, category in enumerate(categories):
        if not isinstance(category, Mapping) or 'name' not in category:
            raise AnnotationError(f'{where}[{index}]: a category needs a "name"')
        children = category.get('subcategories')
        names.extend(
            _leaf_categories(children, f'{where}[{index}].subcategories')
            if children
            else [category['name']]
        )
    return names


def load_scalabel_file(path: str) -> Tuple[List[LocatedFrame], Optional[Mapping[str, Any]]]:
    """The frames (with their json paths) and the ``config`` (or ``None``) of one file.

    Raises:
        AnnotationError: not json, or neither a list of frames nor ``{"frames": [...]}``.
    """
    try:
        with open(path) as stream:
            data = json.load(stream)
    except json.JSONDecodeError as error:
        raise AnnotationError(f'{path}: not valid json ({error})') from error
    if isinstance(data, list):
        frames, prefix, config = data, '', None
    elif isinstance(data, Mapping) and isinstance(data.get('frames'), list):
        frames, prefix, config = data['frames'], 'frames', data.get('config')
    else:
        raise AnnotationError(
            f'{path}: expected a list of frames or {{"frames": [...]}} '
            '(Scalabel / BDD100K box tracking json)'
        )
    located = []
    for index, frame in enumerate(frames):
        where = f'{path}: {prefix}[{index}]'
        if not isinstance(frame, Mapping):
            raise AnnotationError(f'{where}: a frame must be a json object')
        if not isinstance(frame.get('name'), str):
            raise AnnotationError(f'{where}: a frame needs a "name" (its image file)')
        located.append((frame, where))
    return located, config


def _group_videos(
    files: Sequence[str],
) -> Tuple['OrderedDict[str, List[LocatedFrame]]', List[Mapping[str, Any]]]:
    """Frames of all files by video name (first-seen order) and the files' configs."""
    videos: 'OrderedDict[str, List[LocatedFrame]]' = OrderedDict()
    configs = []
    for path in files:
        frames, config = load_scalabel_file(path)
        if config is not None:
            configs.append(config)
        default_name = osp.splitext(osp.basename(path))[0]
        for frame, where in frames:
            video_name = frame.get('videoName') or default_name
            videos.setdefault(str(video_name), []).append((frame, where))
    return videos, configs


def _order_frames(frames: List[LocatedFrame], video_name: str) -> List[LocatedFrame]:
    """A video's frames by ``frameIndex`` (list order without it); repeats are errors."""
    indices = [frame.get('frameIndex') for frame, _ in frames]
    if all(isinstance(index, int) and not isinstance(index, bool) for index in indices):
        order = np.argsort(indices, kind='stable')
        frames = [frames[i] for i in order]
        for (previous, previous_where), (frame, where) in zip(frames, frames[1:]):
            if frame['frameIndex'] == previous['frameIndex']:
                raise AnnotationError(
                    f'{where}: video {video_name!r} already has frameIndex '
                    f'{frame["frameIndex"]} at {previous_where}'
                )
    seen: Dict[str, str] = {}
    for frame, where in frames:
        if frame['name'] in seen:
            raise AnnotationError(
                f'{where}: video {video_name!r} already has a frame named '
                f'{frame["name"]!r} at {seen[frame["name"]]}'
            )
        seen[frame['name']] = where
    return frames


def _video_size(
    frames: List[LocatedFrame], config_size: Optional[Tuple[int, int]], video_name: str
) -> Optional[Tuple[int, int]]:
    """The frame size written in the frames or the config; frames of a video must agree."""
    sizes = {}
    for frame, where in frames:
        size = frame.get('size')
        if size is None:
            continue
        if not isinstance(size, Mapping) or not all(
            isinstance(size.get(key), (int, float)) for key in ('width', 'height')
        ):
            raise AnnotationError(
                f'{where}.size: expected {{"width": W, "height": H}}, got {size!r}'
            )
        sizes.setdefault((int(size['width']), int(size['height'])), where)
    if len(sizes) > 1:
        (first, first_where), (second, second_where) = list(sizes.items())[:2]
        raise AnnotationError(
            f'{second_where}.size: video {video_name!r} has frames of size '
            f'{second} and {first} ({first_where})'
        )
    return next(iter(sizes), None) or config_size


def _config_size(configs: Sequence[Mapping[str, Any]]) -> Optional[Tuple[int, int]]:
    """``config.imageSize`` of the first config that has one."""
    for config in configs:
        size = config.get('imageSize') if isinstance(config, Mapping) else None
        if isinstance(size, Mapping) and 'width' in size and 'height' in size:
            return int(size['width']), int(size['height'])
    return None


def _box_number(box2d: Mapping[str, Any], key: str, where: str) -> float:
    value = box2d.get(key)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not np.isfinite(value):
        raise AnnotationError(f'{where}.box2d.{key}: expected a finite number, got {value!r}')
    return float(value)


def _read_labels(
    frames: List[LocatedFrame], skips: SkipCounter
) -> Tuple[Dict[str, List[Any]], List[str]]:
    """One row per box label of a video: frame position, id, corners, category, crowd, path."""
    rows: Dict[str, List[Any]] = {
        key: [] for key in ('frame', 'id', 'corners', 'category', 'crowd')
    }
    paths: List[str] = []
    for position, (frame, frame_where) in enumerate(frames):
        labels = frame.get('labels') or []
        if not isinstance(labels, list):
            raise AnnotationError(f'{frame_where}.labels: must be a list')
        for index, label in enumerate(labels):
            where = f'{frame_where}.labels[{index}]'
            if not isinstance(label, Mapping):
                raise AnnotationError(f'{where}: a label must be a json object')
            for key in ('id', 'category'):
                if label.get(key) is None:
                    raise AnnotationError(f'{where}: a label needs "{key}"')
            box2d = label.get('box2d')
            if box2d is None:
                skips.add('labels without box2d (skipped)', 1, [where])
                continue
            if not isinstance(box2d, Mapping):
                raise AnnotationError(f'{where}.box2d: expected {{"x1", "y1", "x2", "y2"}}')
            corners = [_box_number(box2d, key, where) for key in ('x1', 'y1', 'x2', 'y2')]
            if corners[2] < corners[0] or corners[3] < corners[1]:
                raise AnnotationError(
                    f'{where}.box2d: negative size (x2 < x1 or y2 < y1): {dict(box2d)}'
                )
            attributes = label.get('attributes') or {}
            rows['frame'].append(position)
            rows['id'].append(str(label['id']))
            rows['corners'].append(corners)
            rows['category'].append(str(label['category']))
            rows['crowd'].append(
                bool(attributes.get('crowd', False)) if isinstance(attributes, Mapping) else False
            )
            paths.append(where)
    return rows, paths


def _choose_categories(
    seen: Sequence[str],
    configs: Sequence[Mapping[str, Any]],
    classes: Optional[Sequence[str]],
    ignore_classes: Sequence[str],
) -> Tuple[List[str], bool]:
    """Output categories, and whether a category outside them and ``ignore_classes`` is an
    error (it is when they come from ``classes`` or a config, not from the data)."""
    if classes is not None:
        return list(classes), True
    config_names: List[str] = []
    for config in configs:
        if isinstance(config, Mapping) and config.get('categories'):
            names = _leaf_categories(config['categories'], 'config.categories')
            config_names.extend(name for name in names if name not in config_names)
    if config_names:
        return [name for name in config_names if name not in ignore_classes], True
    return sorted(set(seen) - set(ignore_classes)), False


def convert_scalabel(
    paths: Sequence[str],
    classes: Optional[Sequence[str]] = None,
    ignore_classes: Sequence[str] = (),
    inclusive_corners: bool = True,
    image_size: Optional[Sequence[int]] = None,
    image_root: Optional[str] = None,
    skips: Optional[SkipCounter] = None,
) -> Tuple[dict, List[str]]:
    """Scalabel / BDD100K box-tracking json files as one box-only YouTube-VIS json.

    Args:
        paths: json files or folders of them.
        classes: Output categories in this order (see the module docstring); ``None``: the
            config's leaf categories, else every category met.
        ignore_classes: Categories whose labels are dropped (counted).
        inclusive_corners: ``box2d`` corners are inclusive pixels (Scalabel's convention).
        image_size: ``(width, height)`` for videos whose json gives none.
        image_root: Folder of the frame images, to read a frame size the json lacks.
        skips: Collects the skip counts; a new one when ``None``.

    Returns:
        ``(json, input_files)``.

    Raises:
        AnnotationError: bad input, naming the file and the json path of the record.
    """
    skips = skips or SkipCounter('scalabel')
    files = find_scalabel_files(paths)
    grouped, configs = _group_videos(files)
    config_size = _config_size(configs)
    per_video = []
    seen: List[str] = []
    for video_name, frames in grouped.items():
        frames = _order_frames(frames, video_name)
        rows, row_paths = _read_labels(frames, skips)
        per_video.append((video_name, frames, rows, row_paths))
        seen.extend(rows['category'])
    categories, strict = _choose_categories(seen, configs, classes, ignore_classes)
    offset = 1.0 if inclusive_corners else 0.0
    videos = []
    for video_name, frames, rows, row_paths in per_video:
        names = np.asarray(rows['category'], dtype=object)
        ignored = np.isin(names, list(ignore_classes)) & ~np.isin(names, categories)
        unknown = ~ignored & ~np.isin(names, categories)
        if unknown.any() and strict:
            row = np.flatnonzero(unknown)[0]
            raise AnnotationError(
                f'{row_paths[row]}: unknown category {names[row]!r}; expected '
                f'one of {categories} (or pass it to ignore_classes)'
            )
        skips.add(
            'labels of ignored categories (dropped)',
            int(ignored.sum()),
            [row_paths[row] for row in np.flatnonzero(ignored)[: skips.max_examples]],
            logging.INFO,
        )
        keep = np.flatnonzero(~ignored & ~unknown)
        corners = np.asarray(rows['corners'], dtype=np.float64).reshape(-1, 4)[keep]
        boxes = np.concatenate([corners[:, :2], corners[:, 2:] - corners[:, :2] + offset], axis=1)
        tracks = group_rows_into_tracks(
            np.asarray(rows['frame'], dtype=np.int64)[keep],
            np.asarray(rows['id'])[keep],
            boxes,
            names[keep],
            lambda row, keep=keep, row_paths=row_paths: row_paths[keep[row]],
            iscrowd=np.asarray(rows['crowd'], dtype=bool)[keep],
        )
        file_names = [
            frame['name'] if '/' in frame['name'] else f'{video_name}/{frame["name"]}'
            for frame, _ in frames
        ]
        size = _video_size(frames, config_size, video_name)
        if size is None:
            frame_paths = [osp.join(image_root, name) for name in file_names] if image_root else []
            size = resolve_frame_size(image_size, frame_paths, f'{frames[0][1]} ({video_name})')
        videos.append(VideoBoxTracks(file_names, size[0], size[1], tracks, source=video_name))
    return build_box_only_json(videos, categories), files
