"""Per-video ground truth and predictions in the YouTube-VIS json layout, box fields included.

mmdet 3.3.0's ``YouTubeVISMetric`` formats ground truth only when every instance has a mask (a
box-only instance fails with ``KeyError: 'segmentation'``) and drops the predicted boxes. These
helpers fill the two gaps for box-track AP; mask AP keeps mmdet's formatting.
"""

from collections import defaultdict
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np


def xyxy_to_xywh(box: Sequence[float]) -> Optional[List[float]]:
    """One xyxy box as YouTube-VIS ``[x, y, w, h]``; ``None`` when it is empty (zero area)."""
    x0, y0, x1, y1 = (float(v) for v in box)
    if x1 <= x0 or y1 <= y0:
        return None
    return [x0, y0, x1 - x0, y1 - y0]


def box_only_video_ground_truth(
    frames: Sequence[dict],
) -> Tuple[List[dict], List[dict], List[dict]]:
    """Ground truth of one video as YouTube-VIS tracks, with ``None`` for every missing mask.

    Args:
        frames: the video's frames in order, each as mmdet's ``YouTubeVISMetric`` collects them:
            ``video_id, img_id, frame_id, width, height, video_length`` and ``anns`` (instances
            with ``bbox`` xyxy, ``bbox_label``, ``instance_id``, optional ``ignore_flag`` and
            ``mask``).

    Returns:
        ``(videos, images, tracks)``: the video entry (one), the image entries (one per frame)
        for mmdet's meta-information, and one track per instance with per-frame ``bboxes``
        (xywh or ``None``), ``segmentations`` (the mask or ``None``) and ``areas`` (box areas).
    """
    videos, images = [], []
    per_instance: Dict[int, dict] = {}
    for frame in frames:
        images.append(
            dict(
                id=frame['img_id'],
                width=frame['width'],
                height=frame['height'],
                frame_id=frame['frame_id'],
                file_name='',
            )
        )
        if frame['frame_id'] == 0:
            videos.append(
                dict(
                    id=frame['video_id'], width=frame['width'], height=frame['height'], file_name=''
                )
            )
        length = frame['video_length']
        for ann in frame['anns']:
            track = per_instance.setdefault(
                ann['instance_id'],
                dict(
                    id=ann['instance_id'],
                    video_id=frame['video_id'],
                    category_id=int(ann['bbox_label']) + 1,
                    iscrowd=int(ann.get('ignore_flag', 0)),
                    bboxes=[None] * length,
                    segmentations=[None] * length,
                    areas=[None] * length,
                ),
            )
            box = xyxy_to_xywh(ann['bbox'])
            track['bboxes'][frame['frame_id']] = box
            track['areas'][frame['frame_id']] = box[2] * box[3] if box else None
            mask = ann.get('mask') or None
            if isinstance(mask, dict) and isinstance(mask.get('counts'), bytes):
                mask = dict(mask, counts=mask['counts'].decode())
            track['segmentations'][frame['frame_id']] = mask
    return videos, images, list(per_instance.values())


def predicted_track_boxes(frames: Sequence[dict]) -> List[List[Optional[List[float]]]]:
    """Per-frame boxes of each predicted track of one video, in order of first appearance.

    That is the order of the tracks mmdet's ``YouTubeVISMetric._format_one_video_preds`` returns.

    Args:
        frames: the video's frames in order, each with ``bboxes (N, 4)`` xyxy and
            ``instances_id (N,)`` numpy arrays.

    Returns:
        one list per track of T entries, ``[x, y, w, h]`` or ``None`` (absent or empty box).
    """
    boxes_by_id: Dict[int, List] = defaultdict(lambda: [None] * len(frames))
    for frame_index, frame in enumerate(frames):
        for instance_id, box in zip(frame['instances_id'], np.asarray(frame['bboxes'])):
            boxes_by_id[instance_id][frame_index] = xyxy_to_xywh(box)
    return list(boxes_by_id.values())


def first_track_without_mask(tracks: Sequence[dict]) -> Optional[dict]:
    """The first ground-truth track with a box but no mask in some frame, or ``None``."""
    for track in tracks:
        for box, mask in zip(track['bboxes'], track['segmentations']):
            if box is not None and mask is None:
                return track
    return None
