"""The synthetic YouTube-VIS generator: determinism, json format, mask/box consistency, loading
through ``BoxVISDataset`` and AP 1.0 of perfect predictions on its val split."""

import json
import os
import os.path as osp
from collections import defaultdict

import cv2
import numpy as np
import pycocotools.mask as mask_utils
import pytest
import torch
from mmdet.structures import DetDataSample, TrackDataSample
from mmengine.structures import InstanceData

from maskfreevis.datasets import BoxVISDataset
from maskfreevis.evaluation import YouTubeVISLocalMetric
from maskfreevis_demo.datasets.synthetic import (
    CATEGORIES,
    SyntheticVISSettings,
    generate_synthetic_vis,
    main,
    render_video,
    synthetic_dataset_exists,
)

TINY = SyntheticVISSettings(
    num_train_videos=3,
    num_val_videos=2,
    num_frames=4,
    height=40,
    width=56,
    min_radius=7.0,
    max_radius=11.0,
)


def all_files(root: str) -> dict:
    """Relative path -> bytes of every file below ``root``."""
    files = {}
    for directory, _, names in os.walk(root):
        for name in names:
            path = osp.join(directory, name)
            with open(path, 'rb') as handle:
                files[osp.relpath(path, root)] = handle.read()
    return files


@pytest.fixture(scope='module')
def tiny_dataset(tmp_path_factory) -> str:
    root = str(tmp_path_factory.mktemp('synthetic'))
    generate_synthetic_vis(root, seed=0, settings=TINY, show_progress=False)
    return root


def load_json(path: str) -> dict:
    with open(path) as handle:
        return json.load(handle)


def test_same_seed_gives_identical_bytes(tiny_dataset, tmp_path):
    generate_synthetic_vis(str(tmp_path), seed=0, settings=TINY, show_progress=False)
    first, second = all_files(tiny_dataset), all_files(str(tmp_path))
    assert sorted(first) == sorted(second)
    assert any(name.endswith('.jpg') for name in first)
    for name in first:
        assert first[name] == second[name], name


def test_different_seed_gives_different_data(tiny_dataset, tmp_path):
    generate_synthetic_vis(str(tmp_path), seed=1, settings=TINY, show_progress=False)
    first, second = all_files(tiny_dataset), all_files(str(tmp_path))
    assert sorted(first) == sorted(second)  # same layout ...
    frame = osp.join('val', 'JPEGImages', 'video_0000', '00000.jpg')
    assert first[frame] != second[frame]  # ... different content
    assert first[osp.join('annotations', 'val.json')] != second[osp.join('annotations', 'val.json')]


def test_more_videos_leave_earlier_videos_unchanged(tiny_dataset, tmp_path):
    more = SyntheticVISSettings(**{**TINY.__dict__, 'num_train_videos': 4})
    generate_synthetic_vis(str(tmp_path), seed=0, settings=more, show_progress=False)
    first, second = all_files(tiny_dataset), all_files(str(tmp_path))
    frames = [n for n in first if n.startswith('train') and n.endswith('.jpg')]
    assert frames and all(first[n] == second[n] for n in frames)


def test_json_has_the_original_youtube_vis_layout(tiny_dataset):
    for split, num_videos in (('train', 3), ('val', 2)):
        data = load_json(osp.join(tiny_dataset, 'annotations', f'{split}.json'))
        assert data['categories'] == CATEGORIES
        assert [v['id'] for v in data['videos']] == list(range(1, num_videos + 1))
        for video in data['videos']:
            assert set(video) >= {'id', 'file_names', 'width', 'height', 'length'}
            assert (video['width'], video['height'], video['length']) == (56, 40, 4)
            for name in video['file_names']:
                image = cv2.imread(osp.join(tiny_dataset, split, 'JPEGImages', name))
                assert image.shape == (40, 56, 3), name
        ids = [a['id'] for a in data['annotations']]
        assert len(ids) == len(set(ids))
        for ann in data['annotations']:
            assert ann['iscrowd'] == 0 and ann['category_id'] in {1, 2, 3, 4}
            assert len(ann['bboxes']) == len(ann['areas']) == 4
            assert any(box is not None for box in ann['bboxes'])
            if split == 'train':
                assert ann['segmentations'] is None  # boxes only
            else:
                assert len(ann['segmentations']) == 4


def test_boxes_and_areas_describe_the_visible_masks(tiny_dataset):
    data = load_json(osp.join(tiny_dataset, 'annotations', 'train_with_masks.json'))
    box_only = load_json(osp.join(tiny_dataset, 'annotations', 'train.json'))
    for ann, twin in zip(data['annotations'], box_only['annotations']):
        assert ann['bboxes'] == twin['bboxes'] and ann['areas'] == twin['areas']
        for box, rle, area in zip(ann['bboxes'], ann['segmentations'], ann['areas']):
            assert (box is None) == (rle is None) == (area is None)
            if rle is None:
                continue
            mask = mask_utils.decode(rle)
            ys, xs = np.nonzero(mask)
            assert box == [xs.min(), ys.min(), xs.max() - xs.min() + 1, ys.max() - ys.min() + 1]
            assert area == mask.sum() >= TINY.min_visible_pixels


def test_visible_masks_are_disjoint_and_objects_move():
    rng = np.random.default_rng(3)
    frames, visible, categories = render_video(
        rng, SyntheticVISSettings(max_objects=4, min_objects=4)
    )
    assert frames.shape == (10, 64, 96, 3) and frames.dtype == np.uint8
    assert visible.shape == (4, 10, 64, 96) and len(categories) == 4
    assert visible.sum(0).max() <= 1  # occlusion resolved: each pixel has at most one owner
    centroids = [np.argwhere(v).mean(0) for v in visible[:, [0, -1]].reshape(-1, 64, 96) if v.any()]
    assert len(centroids) >= 2
    moved = [
        np.abs(np.argwhere(visible[k, 0]).mean(0) - np.argwhere(visible[k, -1]).mean(0)).max()
        for k in range(4)
        if visible[k, 0].any() and visible[k, -1].any()
    ]
    assert max(moved) > 1.0


def test_default_dataset_has_enter_leave_and_occlusion(tmp_path):
    settings = SyntheticVISSettings(num_train_videos=0, num_val_videos=20)
    generate_synthetic_vis(str(tmp_path), seed=0, settings=settings, show_progress=False)
    data = load_json(osp.join(tmp_path, 'annotations', 'val.json'))
    absent = [None in ann['bboxes'] for ann in data['annotations']]
    assert any(absent) and not all(absent)  # some instances enter or leave, most stay
    # an occluded object loses area while a neighbour overlaps its box
    overlapping = 0
    by_video = defaultdict(list)
    for ann in data['annotations']:
        by_video[ann['video_id']].append(ann)
    for anns in by_video.values():
        for a in anns:
            for b in anns:
                if a is b:
                    continue
                for box_a, box_b in zip(a['bboxes'], b['bboxes']):
                    if (
                        box_a
                        and box_b
                        and (
                            box_a[0] < box_b[0] + box_b[2]
                            and box_b[0] < box_a[0] + box_a[2]
                            and box_a[1] < box_b[1] + box_b[3]
                            and box_b[1] < box_a[1] + box_a[3]
                        )
                    ):
                        overlapping += 1
    assert overlapping > 0
    assert {ann['category_id'] for ann in data['annotations']} == {1, 2, 3, 4}


def test_exists_check_and_cli(tmp_path):
    assert not synthetic_dataset_exists(str(tmp_path), 0, TINY)
    main(
        [
            '--out',
            str(tmp_path),
            '--seed',
            '5',
            '--train-videos',
            '1',
            '--val-videos',
            '1',
            '--frames',
            '3',
            '--height',
            '32',
            '--width',
            '48',
            '--quiet',
        ]
    )
    written = SyntheticVISSettings(
        num_train_videos=1, num_val_videos=1, num_frames=3, height=32, width=48
    )
    assert synthetic_dataset_exists(str(tmp_path), 5, written)
    assert not synthetic_dataset_exists(str(tmp_path), 6, written)
    data = load_json(osp.join(tmp_path, 'annotations', 'val.json'))
    assert data['videos'][0]['length'] == 3 and data['info']['seed'] == 5


def test_bad_settings_are_rejected():
    with pytest.raises(ValueError, match='min_objects'):
        SyntheticVISSettings(min_objects=3, max_objects=2)
    with pytest.raises(ValueError, match='16x16'):
        SyntheticVISSettings(height=8)


def build_dataset(root: str, split: str, test_mode: bool, ann_name: str = None) -> BoxVISDataset:
    return BoxVISDataset(
        data_root=root,
        ann_file=f'annotations/{ann_name or split}.json',
        data_prefix=dict(img_path=f'{split}/JPEGImages'),
        test_mode=test_mode,
        pipeline=[],
    )


def test_train_json_loads_through_box_vis_dataset_without_masks(tiny_dataset):
    dataset = build_dataset(tiny_dataset, 'train', test_mode=False)
    assert dataset.metainfo['classes'] == tuple(c['name'] for c in CATEGORIES)
    assert len(dataset) == 3
    data = load_json(osp.join(tiny_dataset, 'annotations', 'train.json'))
    num_boxes = sum(box is not None for ann in data['annotations'] for box in ann['bboxes'])
    videos = [dataset.get_data_info(i) for i in range(len(dataset))]
    loaded = [inst for video in videos for frame in video['images'] for inst in frame['instances']]
    assert len(loaded) == num_boxes
    assert all('mask' not in inst for inst in loaded)
    first = videos[0]['images'][0]
    assert osp.isfile(first['img_path'])


def perfect_predictions(video: dict) -> TrackDataSample:
    """A TrackDataSample whose predictions are the ground-truth masks of ``video``."""
    label_of = {
        inst['instance_id']: inst['bbox_label']
        for frame in video['images']
        for inst in frame['instances']
    }
    ids = sorted(label_of)
    # the metric votes an instance's class over all frames, absent ones included
    labels = torch.tensor([label_of[i] for i in ids], dtype=torch.long)
    frames = []
    for frame in video['images']:
        shape = (frame['height'], frame['width'])
        masks = torch.zeros(len(ids), *shape, dtype=torch.bool)
        for inst in frame['instances']:
            masks[ids.index(inst['instance_id'])] = torch.from_numpy(
                mask_utils.decode(inst['mask']).astype(bool)
            )
        sample = DetDataSample(
            metainfo=dict(
                img_id=frame['img_id'],
                video_id=frame['video_id'],
                frame_id=frame['frame_id'],
                ori_shape=shape,
                ori_video_length=len(video['images']),
                instances=frame['instances'],
            )
        )
        sample.pred_track_instances = InstanceData(
            masks=masks,
            labels=labels,
            scores=torch.ones(len(ids)),
            instances_id=torch.arange(len(ids)),
            bboxes=torch.zeros(len(ids), 4),
        )
        frames.append(sample)
    return TrackDataSample(video_data_samples=frames)


def test_perfect_predictions_on_generated_val_have_ap_one(tiny_dataset):
    dataset = build_dataset(tiny_dataset, 'val', test_mode=True)
    metric = YouTubeVISLocalMetric()
    metric.dataset_meta = dataset.metainfo
    for video in (dataset.get_data_info(i) for i in range(len(dataset))):
        assert all('mask' in inst for frame in video['images'] for inst in frame['instances'])
        metric.process({}, [perfect_predictions(video).to_dict()])
    results = metric.evaluate(size=len(dataset))
    assert results['youtube_vis/segm_mAP'] == pytest.approx(1.0)
    assert results['youtube_vis/segm_mAP_75'] == pytest.approx(1.0)
