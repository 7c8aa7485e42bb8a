"""Parsers for the two video annotation json formats into one flat table of boxes.

* ORIGINAL YouTube-VIS / OVIS: ``videos[{id, file_names, width, height, length}]``, one
  ``annotations`` entry per object track with per-frame ``bboxes`` (``[x, y, w, h]`` or null) and
  optional per-frame ``segmentations``.
* CocoVID (mmdet's converters): ``images`` with ``video_id``/``frame_id``, one ``annotations`` entry
  per object per frame with ``instance_id``.

Both become a :class:`ParsedVideoJson`: per-video frame lists plus one row per (object, frame) box,
so validation downstream is vectorised and format independent.
"""

from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Mapping, Optional, Tuple

import numpy as np
import pycocotools.mask as mask_utils

from .annotation_checks import (
    AnnotationError,
    SkipCounter,
    as_int_array,
    crowd_flag,
    require_keys,
)

YOUTUBE_VIS_FORMAT = 'youtube_vis'
COCOVID_FORMAT = 'cocovid'


@dataclass
class VideoFrames:
    """Frames of one video in temporal order."""

    video_id: int
    name: str
    file_names: List[str]
    img_ids: List[int]
    sizes_wh: np.ndarray  # (L, 2) width, height per frame


@dataclass
class ParsedVideoJson:
    """Videos plus one row per annotated (object, frame) box.

    Row arrays all have length N; ``annotation_ids``/``annotation_category_ids`` have one entry
    per json annotation (also those without any box), for id and category checks.
    """

    videos: List[VideoFrames]
    video_index: np.ndarray  # (N,) index into ``videos``
    frame_index: np.ndarray  # (N,) index into the video's frames
    boxes_xywh: np.ndarray  # (N, 4) float64
    category_ids: np.ndarray  # (N,)
    track_keys: np.ndarray  # (N,) object identity within its video
    row_annotation_ids: np.ndarray  # (N,) json annotation id, for messages
    iscrowd: np.ndarray  # (N,) bool
    segmentations: List[Any]  # (N,) RLE dict, polygon list or None
    annotation_ids: np.ndarray
    annotation_category_ids: np.ndarray


def detect_format(data: Mapping, ann_file: str) -> str:
    """Tell the ORIGINAL YouTube-VIS format from CocoVID by the top-level keys."""
    if not isinstance(data, Mapping):
        raise AnnotationError(f'{ann_file}: the top level must be a json object')
    if 'images' in data:
        images = data['images'] or []
        if images and isinstance(images[0], Mapping) and 'video_id' not in images[0]:
            raise AnnotationError(
                f"{ann_file}: 'images' have no 'video_id' - this is an image (COCO) json; load it "
                'with CocoPseudoVideoDataset to train on pseudo-videos'
            )
        return COCOVID_FORMAT
    if 'videos' in data:
        return YOUTUBE_VIS_FORMAT
    raise AnnotationError(
        f"{ann_file}: neither 'videos' (YouTube-VIS/OVIS format) nor 'images' "
        f'(CocoVID format) found; top-level keys: {sorted(data)}'
    )


def segmentation_to_rle(segmentation: Any, height: int, width: int) -> dict:
    """One frame's json segmentation (polygon list, uncompressed or compressed RLE) as a
    compressed RLE of an ``height x width`` frame (``pycocotools.mask`` format)."""
    if isinstance(segmentation, list):  # polygons
        return mask_utils.merge(mask_utils.frPyObjects(segmentation, height, width))
    if isinstance(segmentation.get('counts'), list):  # uncompressed RLE
        return mask_utils.frPyObjects(segmentation, height, width)
    return segmentation


def _image_size(record: Mapping, ann_file: str, what: str) -> Tuple[int, int]:
    """``(width, height)`` of a video or image record: positive integers, else an error."""
    size = (record['width'], record['height'])
    # Integral floats (1280.0) are what some converters write; anything else is no size.
    if not all(
        isinstance(v, (int, float, np.number))
        and not isinstance(v, bool)
        and v > 0
        and float(v).is_integer()
        for v in size
    ):
        raise AnnotationError(
            f"{ann_file}: {what}: 'width' and 'height' must be positive "
            f'integers, got {size[0]!r} x {size[1]!r}'
        )
    return int(size[0]), int(size[1])


def _is_file_name(name: Any) -> bool:
    """A frame's file name: a non-empty string."""
    return isinstance(name, str) and bool(name)


def _non_empty(segmentation: Any) -> Optional[Any]:
    """An empty polygon list / RLE dict means "no mask" (as in mmdet)."""
    return segmentation if segmentation else None


def _boxes_array(boxes: List[Any], ann_file: str, describe: Callable[[int], str]) -> np.ndarray:
    """Convert json boxes to a (k, 4) float array; name the first malformed box on error."""
    try:
        array = np.asarray(boxes, dtype=np.float64).reshape(len(boxes), -1)
        if array.shape[1] == 4:
            return array
    except (TypeError, ValueError):
        pass
    for index, box in enumerate(boxes):
        try:
            if np.asarray(box, dtype=np.float64).shape == (4,):
                continue
        except (TypeError, ValueError):
            pass
        hint = '; write null for a frame without the object' if box in ([], None) else ''
        raise AnnotationError(
            f'{ann_file}: {describe(index)}: box must be [x, y, w, h], got {box!r}{hint}'
        )
    raise AnnotationError(f'{ann_file}: malformed boxes')


def _concat(
    chunks: List[np.ndarray], dtype: Any, empty_shape: Tuple[int, ...] = (0,)
) -> np.ndarray:
    """Concatenate per-annotation chunks (an empty split gives an empty array)."""
    if not chunks:
        return np.zeros(empty_shape, dtype=dtype)
    return np.concatenate(chunks).astype(dtype)


ANNOTATION_COLUMNS = (
    'video_index',
    'frame_index',
    'boxes',
    'category_ids',
    'track_keys',
    'ann_ids',
    'iscrowd',
)


def _empty_annotation_columns() -> Dict[str, List[Any]]:
    """One empty list per per-annotation column that both json layouts fill."""
    return {key: [] for key in ANNOTATION_COLUMNS}


def _annotation_list(data: Mapping, ann_file: str, require_annotations: bool) -> List[Any]:
    if 'annotations' not in data or data['annotations'] is None:
        if require_annotations:
            raise AnnotationError(
                f"{ann_file}: no key 'annotations' (needed for training; a "
                'split without annotations can only be used with test_mode=True)'
            )
        return []
    if not isinstance(data['annotations'], list):
        raise AnnotationError(f"{ann_file}: 'annotations' must be a list")
    return data['annotations']


def _annotation_name(ann: Any, index: int) -> str:
    if isinstance(ann, Mapping) and 'id' in ann:
        return f'annotation id {ann["id"]}'
    return f'annotations[{index}]'


def parse_youtube_vis_json(
    data: Mapping, ann_file: str, skips: SkipCounter, require_annotations: bool
) -> ParsedVideoJson:
    """Parse the ORIGINAL YouTube-VIS / OVIS json (see module docstring)."""
    require_keys(data, ('videos',), ann_file, 'the top-level object')
    videos: List[VideoFrames] = []
    index_by_video_id: Dict[int, int] = {}
    next_img_id = 0
    for index, video in enumerate(data['videos'] or []):
        require_keys(video, ('id', 'file_names', 'width', 'height'), ann_file, f'videos[{index}]')
        file_names = video['file_names']
        what = f'video id {video["id"]}'
        if not isinstance(file_names, list) or len(file_names) == 0:
            raise AnnotationError(f"{ann_file}: {what}: 'file_names' must be a non-empty list")
        bad = next((i for i, name in enumerate(file_names) if not _is_file_name(name)), None)
        if bad is not None:
            raise AnnotationError(
                f"{ann_file}: {what}: 'file_names' must list a file name (a non-empty string) "
                f'per frame; frame {bad} is {file_names[bad]!r}'
            )
        if video.get('length') is not None and video['length'] != len(file_names):
            raise AnnotationError(
                f"{ann_file}: {what}: 'length' {video['length']} != {len(file_names)} 'file_names'"
            )
        if video['id'] in index_by_video_id:
            raise AnnotationError(f'{ann_file}: duplicate video id {video["id"]}')
        index_by_video_id[video['id']] = index
        num_frames = len(file_names)
        sizes = np.tile(
            np.array([_image_size(video, ann_file, what)], dtype=np.float64), (num_frames, 1)
        )
        name = file_names[0].rsplit('/', 1)[0] if '/' in file_names[0] else str(video['id'])
        videos.append(
            VideoFrames(
                video['id'],
                name,
                list(file_names),
                list(range(next_img_id, next_img_id + num_frames)),
                sizes,
            )
        )
        next_img_id += num_frames

    columns = _empty_annotation_columns()
    segmentations: List[Any] = []
    annotation_ids, annotation_category_ids = [], []
    masks_without_box: List[str] = []
    num_masks_without_box = 0
    for index, ann in enumerate(_annotation_list(data, ann_file, require_annotations)):
        what = _annotation_name(ann, index)
        require_keys(ann, ('id', 'video_id', 'category_id', 'bboxes'), ann_file, what)
        annotation_ids.append(ann['id'])
        annotation_category_ids.append(ann['category_id'])
        video_index = index_by_video_id.get(ann['video_id'])
        if video_index is None:
            raise AnnotationError(
                f'{ann_file}: {what} refers to unknown video_id {ann["video_id"]}'
            )
        video = videos[video_index]
        num_frames = len(video.file_names)
        bboxes = ann['bboxes']
        if not isinstance(bboxes, list) or len(bboxes) != num_frames:
            got = len(bboxes) if isinstance(bboxes, list) else type(bboxes).__name__
            raise AnnotationError(
                f"{ann_file}: {what}: 'bboxes' must list one entry (box or null) "
                f'per frame of video {video.video_id} ({num_frames}), got {got}'
            )
        segs = ann.get('segmentations')
        if segs is None:
            segs = [None] * num_frames
        elif not isinstance(segs, list) or len(segs) != num_frames:
            raise AnnotationError(
                f"{ann_file}: {what}: 'segmentations' must be null or list one "
                f'entry per frame of video {video.video_id} ({num_frames})'
            )
        present = [frame for frame, box in enumerate(bboxes) if box is not None]
        lost = [
            frame
            for frame, (box, seg) in enumerate(zip(bboxes, segs))
            if box is None and _non_empty(seg) is not None
        ]
        if lost:
            num_masks_without_box += len(lost)
            masks_without_box.extend(
                f'video {video.video_id} frame {frame}, {what}'
                for frame in lost[: skips.max_examples]
            )
        if not present:
            continue
        columns['boxes'].append(
            _boxes_array(
                [bboxes[f] for f in present],
                ann_file,
                lambda i, what=what, present=present: f'{what} frame {present[i]}',
            )
        )
        columns['video_index'].append(np.full(len(present), video_index))
        columns['frame_index'].append(np.asarray(present))
        columns['category_ids'].append(np.full(len(present), ann['category_id'], dtype=object))
        columns['track_keys'].append(np.full(len(present), ann['id'], dtype=object))
        columns['ann_ids'].append(np.full(len(present), ann['id'], dtype=object))
        columns['iscrowd'].append(np.full(len(present), crowd_flag(ann, ann_file, what)))
        segmentations.extend(_non_empty(segs[f]) for f in present)
    skips.add(
        'masks on frames without a box (mask ignored)', num_masks_without_box, masks_without_box
    )
    return ParsedVideoJson(
        videos=videos,
        video_index=_concat(columns['video_index'], np.int64),
        frame_index=_concat(columns['frame_index'], np.int64),
        boxes_xywh=_concat(columns['boxes'], np.float64, (0, 4)),
        category_ids=as_int_array(
            _concat(columns['category_ids'], object), ann_file, 'category ids'
        ),
        track_keys=as_int_array(_concat(columns['track_keys'], object), ann_file, 'annotation ids'),
        row_annotation_ids=_concat(columns['ann_ids'], object),
        iscrowd=_concat(columns['iscrowd'], bool),
        segmentations=segmentations,
        annotation_ids=np.asarray(annotation_ids, dtype=object),
        annotation_category_ids=np.asarray(annotation_category_ids, dtype=object),
    )


def parse_cocovid_json(
    data: Mapping, ann_file: str, skips: SkipCounter, require_annotations: bool
) -> ParsedVideoJson:
    """Parse mmdet's CocoVID json (see module docstring)."""
    names: Dict[int, str] = {}
    video_order: List[int] = []
    for index, video in enumerate(data.get('videos') or []):
        require_keys(video, ('id',), ann_file, f'videos[{index}]')
        names[video['id']] = str(video.get('name', video['id']))
        video_order.append(video['id'])
    declared_videos = set(video_order)

    frames_by_video: Dict[int, List[Tuple[int, Mapping]]] = {}
    for index, image in enumerate(data['images'] or []):
        what = (
            f'image id {image["id"]}'
            if isinstance(image, Mapping) and 'id' in image
            else f'images[{index}]'
        )
        require_keys(
            image, ('id', 'file_name', 'video_id', 'frame_id', 'width', 'height'), ann_file, what
        )
        if not _is_file_name(image['file_name']):
            raise AnnotationError(
                f"{ann_file}: {what}: 'file_name' must be a non-empty string, got "
                f'{image["file_name"]!r}'
            )
        video_id = image['video_id']
        if declared_videos and video_id not in declared_videos:
            raise AnnotationError(
                f"{ann_file}: {what} refers to video_id {video_id} that is not in 'videos'"
            )
        if video_id not in frames_by_video:
            frames_by_video[video_id] = []
            if not declared_videos:
                video_order.append(video_id)
        frames_by_video[video_id].append((image['frame_id'], image))

    videos: List[VideoFrames] = []
    location_by_img_id: Dict[int, Tuple[int, int]] = {}
    frameless = [video_id for video_id in video_order if video_id not in frames_by_video]
    skips.add(
        'videos without any image (skipped)',
        len(frameless),
        [f'video {video_id}' for video_id in frameless[: skips.max_examples]],
    )
    for video_id in video_order:
        frames = sorted(frames_by_video.get(video_id, []), key=lambda item: item[0])
        if not frames:
            continue
        frame_ids = [frame_id for frame_id, _ in frames]
        if len(set(frame_ids)) != len(frame_ids):
            duplicate = next(f for f in frame_ids if frame_ids.count(f) > 1)
            raise AnnotationError(f'{ann_file}: video {video_id} has frame_id {duplicate} twice')
        video_index = len(videos)
        for frame_index, (_, image) in enumerate(frames):
            if image['id'] in location_by_img_id:
                raise AnnotationError(f'{ann_file}: duplicate image id {image["id"]}')
            location_by_img_id[image['id']] = (video_index, frame_index)
        videos.append(
            VideoFrames(
                video_id,
                names.get(video_id, str(video_id)),
                [image['file_name'] for _, image in frames],
                [image['id'] for _, image in frames],
                np.array(
                    [
                        _image_size(image, ann_file, f'image id {image["id"]}')
                        for _, image in frames
                    ],
                    dtype=np.float64,
                ),
            )
        )

    columns = _empty_annotation_columns()
    segmentations: List[Any] = []
    annotation_ids, annotation_category_ids = [], []
    ignored: List[str] = []
    num_ignored = 0
    for index, ann in enumerate(_annotation_list(data, ann_file, require_annotations)):
        what = _annotation_name(ann, index)
        require_keys(ann, ('id', 'image_id', 'category_id', 'bbox', 'instance_id'), ann_file, what)
        annotation_ids.append(ann['id'])
        annotation_category_ids.append(ann['category_id'])
        location = location_by_img_id.get(ann['image_id'])
        if location is None:
            raise AnnotationError(
                f'{ann_file}: {what} refers to unknown image_id {ann["image_id"]}'
            )
        if ann.get('ignore', False):
            num_ignored += 1
            if len(ignored) < skips.max_examples:
                ignored.append(f'video {videos[location[0]].video_id} frame {location[1]}, {what}')
            continue
        columns['video_index'].append(location[0])
        columns['frame_index'].append(location[1])
        columns['boxes'].append(ann['bbox'])
        columns['category_ids'].append(ann['category_id'])
        columns['track_keys'].append(ann['instance_id'])
        columns['ann_ids'].append(ann['id'])
        columns['iscrowd'].append(crowd_flag(ann, ann_file, what))
        segmentations.append(_non_empty(ann.get('segmentation')))
    skips.add("annotations flagged 'ignore' (skipped)", num_ignored, ignored)
    ann_ids = columns['ann_ids']
    boxes = (
        _boxes_array(columns['boxes'], ann_file, lambda i: f'annotation id {ann_ids[i]}')
        if ann_ids
        else np.zeros((0, 4))
    )
    return ParsedVideoJson(
        videos=videos,
        video_index=np.asarray(columns['video_index'], dtype=np.int64),
        frame_index=np.asarray(columns['frame_index'], dtype=np.int64),
        boxes_xywh=boxes,
        category_ids=as_int_array(columns['category_ids'], ann_file, 'category ids'),
        track_keys=as_int_array(columns['track_keys'], ann_file, 'instance ids'),
        row_annotation_ids=np.asarray(ann_ids, dtype=object),
        iscrowd=np.asarray(columns['iscrowd'], dtype=bool),
        segmentations=segmentations,
        annotation_ids=np.asarray(annotation_ids, dtype=object),
        annotation_category_ids=np.asarray(annotation_category_ids, dtype=object),
    )


def parse_video_json(
    data: Mapping, ann_file: str, skips: SkipCounter, require_annotations: bool
) -> Tuple[str, ParsedVideoJson]:
    """Detect the format of ``data`` and parse it; returns ``(format_name, parsed)``."""
    data_format = detect_format(data, ann_file)
    parser = parse_cocovid_json if data_format == COCOVID_FORMAT else parse_youtube_vis_json
    return data_format, parser(data, ann_file, skips, require_annotations)
