"""Tiny on-the-fly video datasets (JPEG frames in ``tmp_path``) for dataset and transform tests."""

import json
import logging
import os
import os.path as osp
import types
from typing import Dict, List, Optional, Sequence

import cv2
import numpy as np
import pytest
from mmengine.logging import MMLogger
from mmengine.registry import init_default_scope

import maskfreevis  # noqa: F401  (registers the plugin classes)

FRAME_H, FRAME_W = 32, 48


@pytest.fixture(autouse=True, scope='session')
def mmdet_default_scope():
    """Pipelines name mmdet transforms, as configs do with ``default_scope='mmdet'``."""
    init_default_scope('mmdet')


def write_frames(
    root: str, video_name: str, num_frames: int, seed: int = 0, identical: bool = False
) -> List[str]:
    """Write ``num_frames`` random 32x48 JPEGs under ``root/video_name``; return relative names."""
    rng = np.random.default_rng(seed)
    base = rng.integers(0, 256, size=(FRAME_H, FRAME_W, 3), dtype=np.uint8)
    names = []
    for index in range(num_frames):
        img = (
            base if identical else rng.integers(0, 256, size=(FRAME_H, FRAME_W, 3), dtype=np.uint8)
        )
        name = f'{video_name}/{index:05d}.jpg'
        path = osp.join(root, name)
        os.makedirs(osp.dirname(path), exist_ok=True)
        cv2.imwrite(path, img)
        names.append(name)
    return names


def dump_json(path: str, data: Dict) -> str:
    with open(path, 'w') as f:
        json.dump(data, f)
    return path


def ytvis_video(video_id: int, file_names: Sequence[str]) -> Dict:
    return dict(
        id=video_id,
        file_names=list(file_names),
        width=FRAME_W,
        height=FRAME_H,
        length=len(file_names),
    )


def ytvis_track(
    ann_id: int,
    video_id: int,
    category_id: int,
    boxes: Sequence[Optional[list]],
    segmentations: Optional[Sequence] = None,
    with_seg_key: bool = True,
) -> Dict:
    """One ORIGINAL-format annotation (object track)."""
    ann = dict(
        id=ann_id,
        video_id=video_id,
        category_id=category_id,
        bboxes=list(boxes),
        areas=[None if b is None else b[2] * b[3] for b in boxes],
        iscrowd=0,
    )
    if with_seg_key:
        ann['segmentations'] = None if segmentations is None else list(segmentations)
    return ann


def box_polygon(box: Sequence[float]) -> List[List[float]]:
    """A rectangle polygon covering an ``[x, y, w, h]`` box."""
    x, y, w, h = box
    return [[x, y, x + w, y, x + w, y + h, x, y + h]]


@pytest.fixture
def vis_root(tmp_path) -> str:
    """Frames of three videos: ``vid_a`` (6 frames), ``vid_b`` (2 frames), ``vid_c`` (3)."""
    root = str(tmp_path / 'JPEGImages')
    write_frames(root, 'vid_a', 6, seed=1)
    write_frames(root, 'vid_b', 2, seed=2)
    write_frames(root, 'vid_c', 3, seed=3)
    return root


def box_only_ytvis(vis_root: str) -> Dict:
    """ORIGINAL-format json: boxes only; categories listed out of id order.

    vid_a: track 11 (cat 1) on all 6 frames, track 12 (cat 2) on frames 2-4 only;
    vid_b: track 21 (cat 1) on both frames; vid_c: no annotation.
    """
    names = {
        v: [f'{v}/{i:05d}.jpg' for i in range(n)]
        for v, n in (('vid_a', 6), ('vid_b', 2), ('vid_c', 3))
    }
    track_a = [[2 + i, 3, 10, 8] for i in range(6)]
    track_b = [None, None, [20, 10, 6, 12], [21, 10, 6, 12], [22, 10, 6, 12], None]
    return dict(
        videos=[
            ytvis_video(1, names['vid_a']),
            ytvis_video(2, names['vid_b']),
            ytvis_video(3, names['vid_c']),
        ],
        annotations=[
            ytvis_track(11, 1, 1, track_a, with_seg_key=False),
            ytvis_track(12, 1, 2, track_b, segmentations=[None] * 6),
            ytvis_track(21, 2, 1, [[0, 0, 5, 5], [1, 1, 5, 5]]),
        ],
        categories=[dict(id=2, name='dog'), dict(id=1, name='cat')],
    )


def to_cocovid(data: Dict) -> Dict:
    """The same dataset in mmdet's CocoVID layout (images + per-frame annotations)."""
    videos, images, annotations = [], [], []
    img_id = 100
    ann_id = 1000
    for video in data['videos']:
        videos.append(dict(id=video['id'], name=video['file_names'][0].split('/')[0]))
        first_img_id = img_id
        # Images listed in reverse order: the loader must sort by frame_id.
        for frame_id, name in reversed(list(enumerate(video['file_names']))):
            images.append(
                dict(
                    id=first_img_id + frame_id,
                    file_name=name,
                    height=video['height'],
                    width=video['width'],
                    frame_id=frame_id,
                    video_id=video['id'],
                )
            )
        img_id += len(video['file_names'])
        for track in data.get('annotations') or []:
            if track['video_id'] != video['id']:
                continue
            segs = track.get('segmentations') or [None] * len(track['bboxes'])
            for frame_id, (box, seg) in enumerate(zip(track['bboxes'], segs)):
                if box is None:
                    continue
                ann = dict(
                    id=ann_id,
                    image_id=first_img_id + frame_id,
                    video_id=video['id'],
                    category_id=track['category_id'],
                    instance_id=track['id'],
                    bbox=box,
                    area=box[2] * box[3],
                    iscrowd=0,
                )
                if seg is not None:
                    ann['segmentation'] = seg
                annotations.append(ann)
                ann_id += 1
    return dict(
        videos=videos, images=images, annotations=annotations, categories=data['categories']
    )


@pytest.fixture
def vis():
    """The data-building helpers of this module, for tests in any sub-directory."""
    return types.SimpleNamespace(
        write_frames=write_frames,
        dump_json=dump_json,
        ytvis_video=ytvis_video,
        ytvis_track=ytvis_track,
        box_polygon=box_polygon,
        box_only_ytvis=box_only_ytvis,
        to_cocovid=to_cocovid,
        messages=messages,
        FRAME_H=FRAME_H,
        FRAME_W=FRAME_W,
    )


@pytest.fixture
def log_records():
    """Records logged through mmengine's current logger during the test."""

    class Collector(logging.Handler):
        def __init__(self):
            super().__init__(level=logging.DEBUG)
            self.records: List[logging.LogRecord] = []

        def emit(self, record):
            self.records.append(record)

    logger = MMLogger.get_current_instance()
    collector = Collector()
    old_level = logger.level
    logger.setLevel(logging.DEBUG)
    logger.addHandler(collector)
    yield collector.records
    logger.removeHandler(collector)
    logger.setLevel(old_level)


def messages(records: List[logging.LogRecord]) -> str:
    return '\n'.join(record.getMessage() for record in records)
