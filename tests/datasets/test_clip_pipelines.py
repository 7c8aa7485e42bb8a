"""Whole train/test pipelines as the configs use them: packing, shared augmentation, joint data."""

import copy

import numpy as np
import pycocotools.mask as mask_utils
import pytest
import torch
from mmdet.evaluation import YouTubeVISMetric
from mmdet.registry import DATASETS
from mmengine.evaluator import Evaluator
from mmengine.structures import InstanceData

from maskfreevis.utils import numpy_float_alias

SCALES = [(96, 64), (144, 96)]  # (w, h): the 48 x 32 frames are scaled x2 or x3


def polygon_to_bitmap(polygons, height=32, width=48):
    """(H, W) bool mask of COCO polygons."""
    return mask_utils.decode(
        mask_utils.merge(mask_utils.frPyObjects(polygons, height, width))
    ).astype(bool)


def box_only_train_pipeline(num_frames, extra=()):
    """The configs' train pipeline: clip sampling, shared augmentation, clipping, packing."""
    return [
        dict(type='SampleClipFrames', num_frames=num_frames, frame_range=5, shuffle=True),
        dict(
            type='TransformBroadcaster',
            share_random_params=True,
            transforms=[
                dict(type='LoadImageFromFile'),
                dict(type='LoadTrackAnnotations', with_mask=False),
                dict(type='RandomChoiceResize', scales=SCALES, keep_ratio=True),
                dict(type='RandomFlip', prob=0.5),
                *extra,
                dict(type='ClipBoxesToImage'),
            ],
        ),
        dict(type='PackTrackInputs'),
    ]


def pseudo_video_train_pipeline(num_frames):
    """COCO pseudo-videos: T copies, loaded with masks, warped per frame, then shared aug."""
    return [
        dict(type='SampleClipFrames', num_frames=num_frames),
        dict(
            type='TransformBroadcaster',
            share_random_params=True,
            transforms=[
                dict(type='LoadImageFromFile'),
                dict(type='LoadTrackAnnotations', with_mask=True),
            ],
        ),
        dict(type='RandomPseudoVideoWarp', crop_prob=0.5, crop_size=(24, 40)),
        dict(
            type='TransformBroadcaster',
            share_random_params=True,
            transforms=[
                dict(type='RandomChoiceResize', scales=SCALES, keep_ratio=True),
                dict(type='RandomFlip', prob=0.5),
                dict(type='ClipBoxesToImage'),
            ],
        ),
        dict(type='PackTrackInputs'),
    ]


def build_video_dataset(tmp_path, vis_root, vis, data, pipeline, **kwargs):
    ann_file = vis.dump_json(str(tmp_path / 'ann.json'), data)
    return DATASETS.build(
        dict(
            type='BoxVISDataset',
            ann_file=ann_file,
            data_prefix=dict(img_path=vis_root),
            pipeline=pipeline,
            **kwargs,
        )
    )


@pytest.mark.parametrize('num_frames', [3, 5])
def test_box_only_train_sample_is_packed_for_the_model(tmp_path, vis_root, vis, num_frames):
    dataset = build_video_dataset(
        tmp_path, vis_root, vis, vis.box_only_ytvis(vis_root), box_only_train_pipeline(num_frames)
    )
    flips = set()
    for seed in range(6):
        np.random.seed(seed)
        packed = dataset[0]  # vid_a: track 11 on every frame, track 12 on frames 2-4
        inputs, frames = packed['inputs'], packed['data_samples'].video_data_samples
        assert inputs.dtype == torch.uint8 and len(frames) == num_frames
        height, width = inputs.shape[2:]
        assert tuple(inputs.shape) == (num_frames, 3, height, width)
        assert (height, width) in {(64, 96), (96, 144)}
        scale = width / 48
        assert len(packed['data_samples'].key_frames_inds) == 1
        for frame in frames:
            gt = frame.gt_instances
            assert 'masks' not in gt  # box-only: nothing pretends to be a mask
            assert gt.bboxes.dtype == torch.float32 and gt.labels.dtype == torch.int64
            assert frame.img_shape == (height, width)
            flips.add(frame.flip)
            # Track 11 is [2 + f, 3, 12 + f, 11] on frame f (xyxy), scaled then maybe flipped.
            box = np.array([2 + frame.frame_id, 3, 12 + frame.frame_id, 11]) * scale
            if frame.flip:
                box = np.array([width - box[2], box[1], width - box[0], box[3]])
            track_11 = gt.bboxes[gt.instances_ids == 1]
            np.testing.assert_allclose(track_11.numpy(), [box], rtol=1e-5)
            expected_ids = [1, 2] if 2 <= frame.frame_id <= 4 else [1]
            assert sorted(gt.instances_ids.tolist()) == expected_ids
            assert sorted(gt.labels.tolist()) == sorted(i - 1 for i in expected_ids)
    assert flips == {True, False}


def test_augmentation_is_shared_by_all_frames_of_a_clip(tmp_path, vis, vis_root):
    # Identical frames and boxes: any per-frame difference in scale, flip or crop would show.
    root = str(tmp_path / 'same')
    names = vis.write_frames(root, 'still', 6, seed=5, identical=True)
    data = dict(
        videos=[vis.ytvis_video(1, names)],
        annotations=[
            vis.ytvis_track(1, 1, 1, [[5, 4, 30, 20]] * 6),
            vis.ytvis_track(2, 1, 2, [[30, 2, 16, 28]] * 6),
        ],
        categories=[dict(id=1, name='a'), dict(id=2, name='b')],
    )
    crop = dict(type='RandomCrop', crop_size=(60, 50), allow_negative_crop=True)
    dataset = build_video_dataset(
        tmp_path, root, vis, data, box_only_train_pipeline(5, extra=[crop])
    )
    seen = set()
    for seed in range(8):
        np.random.seed(seed)
        packed = dataset[0]
        frames = packed['data_samples'].video_data_samples
        for frame in frames[1:]:
            assert torch.equal(packed['inputs'][0], packed['inputs'][frames.index(frame)])
            for key in ('img_shape', 'scale_factor', 'flip', 'flip_direction'):
                assert frame.metainfo[key] == frames[0].metainfo[key]
            assert torch.equal(frame.gt_instances.bboxes, frames[0].gt_instances.bboxes)
            assert torch.equal(
                frame.gt_instances.instances_ids, frames[0].gt_instances.instances_ids
            )
        boxes = frames[0].gt_instances.bboxes
        height, width = frames[0].img_shape
        assert (boxes[:, 0] >= 0).all() and (boxes[:, 2] <= width).all()
        assert (boxes[:, 1] >= 0).all() and (boxes[:, 3] <= height).all()
        seen.add((frames[0].scale_factor, frames[0].flip))
    assert len(seen) >= 3  # several scale/flip combinations were drawn


def test_joint_training_concat_of_video_and_pseudo_video_data(tmp_path, vis_root, vis):
    coco_root = str(tmp_path / 'coco')
    vis.write_frames(coco_root, 'img1', 1, seed=9)
    coco = dict(
        images=[dict(id=1, file_name='img1/00000.jpg', width=48, height=32)],
        annotations=[
            dict(
                id=1,
                image_id=1,
                category_id=17,
                bbox=[4, 4, 12, 10],
                iscrowd=0,
                segmentation=vis.box_polygon([4, 4, 12, 10]),
            ),
            dict(
                id=2,
                image_id=1,
                category_id=18,
                bbox=[26, 8, 14, 16],
                iscrowd=0,
                segmentation=vis.box_polygon([26, 8, 14, 16]),
            ),
            dict(
                id=3,
                image_id=1,
                category_id=1,
                bbox=[1, 20, 6, 6],
                iscrowd=0,
                segmentation=vis.box_polygon([1, 20, 6, 6]),
            ),
        ],
        categories=[dict(id=1, name='person'), dict(id=17, name='cat'), dict(id=18, name='dog')],
    )
    video_cfg = dict(
        type='BoxVISDataset',
        ann_file=vis.dump_json(str(tmp_path / 'ytvis.json'), vis.box_only_ytvis(vis_root)),
        data_prefix=dict(img_path=vis_root),
        pipeline=box_only_train_pipeline(3),
    )
    coco_cfg = dict(
        type='CocoPseudoVideoDataset',
        ann_file=vis.dump_json(str(tmp_path / 'coco.json'), coco),
        data_prefix=dict(img_path=coco_root),
        metainfo=dict(classes=('cat', 'dog')),
        class_mapping={'cat': 'cat', 'dog': 'dog'},
        pipeline=pseudo_video_train_pipeline(3),
    )
    joint = DATASETS.build(dict(type='ConcatDataset', datasets=[video_cfg, coco_cfg]))
    assert joint.metainfo['classes'] == ('cat', 'dog') and len(joint) == 3
    video_sample = joint[0]
    assert all('masks' not in f.gt_instances for f in video_sample['data_samples'])
    for seed in range(4):
        np.random.seed(seed)
        pseudo = joint[2]
        frames = pseudo['data_samples'].video_data_samples
        assert pseudo['inputs'].shape[:2] == (3, 3)
        for frame in frames:
            gt = frame.gt_instances
            # Person is unmapped; cat and dog keep ids 1 and 2 in every frame they remain in.
            assert set(gt.instances_ids.tolist()) <= {1, 2}
            assert gt.labels.tolist() == [i - 1 for i in gt.instances_ids.tolist()]
            assert len(gt.masks) == len(gt.bboxes)
            assert gt.masks.height == frame.img_shape[0] and gt.masks.width == frame.img_shape[1]
        assert [f.frame_id for f in frames] == [0, 1, 2]


def test_test_mode_samples_feed_the_youtube_vis_metric(tmp_path, vis_root, vis):
    data = copy.deepcopy(vis.box_only_ytvis(vis_root))
    for track in data['annotations']:
        track['segmentations'] = [
            None if b is None else vis.box_polygon(b) for b in track['bboxes']
        ]
    test_pipeline = [
        dict(
            type='TransformBroadcaster',
            transforms=[
                dict(type='LoadImageFromFile'),
                dict(type='Resize', scale=(96, 64), keep_ratio=True),
                dict(type='LoadTrackAnnotations', with_mask=True),
            ],
        ),
        dict(type='PackTrackInputs'),
    ]
    dataset = build_video_dataset(tmp_path, vis_root, vis, data, test_pipeline, test_mode=True)
    samples = [dataset[index]['data_samples'] for index in range(len(dataset))]
    for video in samples:
        for frame in video.video_data_samples:
            # A perfect prediction: the GT masks at the original frame size.
            gt = frame.instances
            masks = np.stack(
                [polygon_to_bitmap(i['mask']) for i in gt] or [np.zeros((32, 48), dtype=bool)]
            )[: len(gt)]
            frame.pred_track_instances = InstanceData(
                bboxes=torch.tensor([i['bbox'] for i in gt]).reshape(-1, 4),
                scores=torch.ones(len(gt)),
                labels=torch.tensor([i['bbox_label'] for i in gt]),
                instances_id=torch.tensor([i['instance_id'] for i in gt]),
                masks=torch.from_numpy(masks).reshape(-1, 32, 48),
            )

    def video_ap(videos):
        evaluator = Evaluator(YouTubeVISMetric(format_only=False))
        evaluator.dataset_meta = dataset.metainfo
        for video in videos:
            evaluator.process(data_samples=[copy.deepcopy(video)], data_batch={})
        with numpy_float_alias():
            return evaluator.evaluate(size=len(videos))['youtube_vis/segm_mAP']

    assert video_ap(samples) == 1.0
    # The check has teeth: swapping the two classes in the predictions gives no match at all.
    for video in samples:
        for frame in video.video_data_samples:
            frame.pred_track_instances.labels = 1 - frame.pred_track_instances.labels
    assert video_ap(samples) == 0.0


def test_frames_without_any_instance_pack_as_empty(tmp_path, vis_root, vis):
    data = copy.deepcopy(vis.box_only_ytvis(vis_root))
    data['annotations'][0]['bboxes'][0:2] = [None, None]  # vid_a frames 0-1: nobody
    crop = dict(type='RandomCrop', crop_size=(20, 20), allow_negative_crop=True)
    dataset = build_video_dataset(
        tmp_path, vis_root, vis, data, box_only_train_pipeline(3, extra=[crop])
    )
    video = dataset.get_data_info(0)
    video['key_frame_id'] = 0
    for seed in range(3):
        np.random.seed(seed)
        packed = dataset.pipeline(copy.deepcopy(video))
        frames = packed['data_samples'].video_data_samples
        empty = [f for f in frames if f.frame_id in (0, 1)]
        assert empty and all(tuple(f.gt_instances.bboxes.shape) == (0, 4) for f in empty)
        assert all(
            len(f.gt_instances.labels)
            == len(f.gt_instances.instances_ids)
            == len(f.gt_instances.bboxes)
            for f in frames
        )
