"""Cut a video annotation json into a local train and val split by whole videos.

YouTube-VIS and OVIS hide their validation ground truth, so measuring locally needs a val split
cut from the training json. Videos are drawn with a seeded generator from the video ids in
sorted order, so the split depends only on the seed, the ratio or count, and the set of videos
(not on their order in the file). Every annotation follows its video, masks included, so the
val split can be scored with mask AP by ``YouTubeVISLocalMetric``; other top-level keys
(``categories``, ``info``, ``licenses``) are copied to both.

Both formats :class:`~maskfreevis.datasets.BoxVISDataset` reads are handled: the ORIGINAL
YouTube-VIS json (annotations carry ``video_id``) and mmdet's CocoVID json (``images`` carry
``video_id``, annotations ``image_id``).
"""

from typing import Any, Dict, List, Mapping, Optional, Set, Tuple

import numpy as np

from ..annotation_checks import AnnotationError, require_keys
from ..vis_json_formats import COCOVID_FORMAT, detect_format


def _video_ids(data: Mapping[str, Any], data_format: str, source: str) -> List[Any]:
    """Video ids in file order (CocoVID without ``videos``: in order of first image)."""
    if data.get('videos'):
        for index, video in enumerate(data['videos']):
            require_keys(video, ('id',), source, f'videos[{index}]')
        ids = [video['id'] for video in data['videos']]
    elif data_format == COCOVID_FORMAT:
        ids = list(dict.fromkeys(image.get('video_id') for image in data.get('images') or []))
    else:
        ids = []
    seen: Set[Any] = set()
    for video_id in ids:
        if video_id in seen:
            raise AnnotationError(f'{source}: video id {video_id} is listed more than once')
        seen.add(video_id)
    return ids


def choose_val_videos(
    video_ids: List[Any],
    val_ratio: Optional[float],
    val_count: Optional[int],
    seed: int,
    source: str = '<json>',
) -> Set[Any]:
    """The video ids that go to val.

    Args:
        video_ids: All video ids (any order).
        val_ratio: Fraction of videos for val (rounded, at least 1 and at most all but one).
        val_count: Number of videos for val; exactly one of ``val_ratio`` and ``val_count``.
        seed: Seed of the draw.

    Raises:
        ValueError: both or neither of ratio and count, a ratio outside (0, 1), or a count that
            leaves a split empty.
    """
    if (val_ratio is None) == (val_count is None):
        raise ValueError('give exactly one of val_ratio and val_count')
    num_videos = len(video_ids)
    if num_videos < 2:
        raise AnnotationError(f'{source}: {num_videos} video(s); a split needs at least 2')
    if val_ratio is not None:
        if not 0 < val_ratio < 1:
            raise ValueError(f'val_ratio must be in (0, 1), got {val_ratio}')
        val_count = min(max(int(round(val_ratio * num_videos)), 1), num_videos - 1)
    if not 1 <= val_count <= num_videos - 1:
        raise ValueError(
            f'val_count must be in 1..{num_videos - 1} for {num_videos} videos, got {val_count}'
        )
    ordered = sorted(video_ids, key=lambda video_id: (str(type(video_id)), video_id))
    drawn = np.random.default_rng(seed).permutation(num_videos)[:val_count]
    return {ordered[index] for index in drawn.tolist()}


def split_by_video(
    data: Mapping[str, Any],
    val_ratio: Optional[float] = None,
    val_count: Optional[int] = None,
    seed: int = 0,
    source: str = '<json>',
) -> Tuple[dict, dict]:
    """Split ``data`` into ``(train, val)`` by whole videos (see the module docstring).

    Args:
        data: An ORIGINAL YouTube-VIS or CocoVID json.
        val_ratio, val_count, seed: See :func:`choose_val_videos`.
        source: The file name, for messages.

    Returns:
        Two jsons of the input's format; the input is not modified.

    Raises:
        AnnotationError: an annotation or image whose video (or image) is unknown, or fewer than
            two videos.
    """
    data_format = detect_format(data, source)
    video_ids = _video_ids(data, data_format, source)
    val_ids = choose_val_videos(video_ids, val_ratio, val_count, seed, source)
    known = set(video_ids)
    splits: Tuple[dict, dict] = ({}, {})
    for key, value in data.items():
        if key not in ('videos', 'images', 'annotations'):
            splits[0][key] = splits[1][key] = value
    if 'videos' in data:
        for split, wanted in zip(splits, (False, True)):
            split['videos'] = [
                video for video in data['videos'] or [] if (video['id'] in val_ids) == wanted
            ]
    if data_format == COCOVID_FORMAT:
        image_video: Dict[Any, Any] = {}
        for index, image in enumerate(data.get('images') or []):
            require_keys(image, ('id', 'video_id'), source, f'images[{index}]')
            if image['video_id'] not in known:
                raise AnnotationError(
                    f'{source}: image id {image["id"]} refers to unknown '
                    f'video_id {image["video_id"]}'
                )
            image_video[image['id']] = image['video_id']
        for split, wanted in zip(splits, (False, True)):
            split['images'] = [
                image
                for image in data.get('images') or []
                if (image['video_id'] in val_ids) == wanted
            ]
        owner_key, owner_of = 'image_id', image_video
    else:
        owner_key, owner_of = 'video_id', {video_id: video_id for video_id in video_ids}
    if 'annotations' in data:
        annotations = data['annotations'] or []
        in_val: List[bool] = []
        for index, ann in enumerate(annotations):
            what = (
                f'annotation id {ann["id"]}'
                if isinstance(ann, Mapping) and 'id' in ann
                else f'annotations[{index}]'
            )
            require_keys(ann, (owner_key,), source, what)
            if ann[owner_key] not in owner_of:
                raise AnnotationError(
                    f'{source}: {what} refers to unknown {owner_key} {ann[owner_key]}'
                )
            in_val.append(owner_of[ann[owner_key]] in val_ids)
        for split, wanted in zip(splits, (False, True)):
            split['annotations'] = [
                ann for index, ann in enumerate(annotations) if in_val[index] == wanted
            ]
    return splits


def categories_missing_from(split: Mapping[str, Any]) -> List[str]:
    """Names of the split's ``categories`` that none of its annotations has."""
    used = {ann.get('category_id') for ann in split.get('annotations') or []}
    return [
        category.get('name')
        for category in split.get('categories') or []
        if category.get('id') not in used
    ]
