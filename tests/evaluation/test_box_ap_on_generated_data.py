"""Box-track AP through the real dataset class: the boxes the json gives and the boxes the head
derives from masks (mmdet's ``mask2bbox``) follow one convention, so GT masks as predictions
score 1.0 (a half-pixel or off-by-one mismatch would not)."""

import json

import pycocotools.mask as mask_utils
import pytest
import torch
from mmdet.structures import DetDataSample, TrackDataSample
from mmdet.structures.mask import mask2bbox
from mmengine.structures import InstanceData

from maskfreevis.datasets import BoxVISDataset
from maskfreevis.evaluation import YouTubeVISLocalMetric
from maskfreevis_demo.datasets.synthetic import SyntheticVISSettings, generate_synthetic_vis


@pytest.fixture(scope='module')
def generated(tmp_path_factory) -> str:
    root = tmp_path_factory.mktemp('generated_vis')
    settings = SyntheticVISSettings(
        num_train_videos=1, num_val_videos=3, num_frames=5, height=64, width=96
    )
    generate_synthetic_vis(str(root), seed=1, settings=settings, show_progress=False)
    with open(root / 'annotations' / 'val.json') as handle:
        data = json.load(handle)
    for ann in data['annotations']:
        ann['segmentations'] = None
    with open(root / 'annotations' / 'val_box_only.json', 'w') as handle:
        json.dump(data, handle)
    return str(root)


def dataset(root: str, ann_name: str) -> BoxVISDataset:
    return BoxVISDataset(
        data_root=root,
        ann_file=f'annotations/{ann_name}.json',
        data_prefix=dict(img_path='val/JPEGImages'),
        test_mode=True,
        pipeline=[],
    )


def ground_truth_as_prediction(video_with_masks: dict, box_only_video: dict) -> TrackDataSample:
    """Box-only ground truth in the metainfo; predictions: the GT masks, boxes by mask2bbox."""
    ids = sorted({i['instance_id'] for f in video_with_masks['images'] for i in f['instances']})
    label_of = {
        i['instance_id']: i['bbox_label']
        for f in video_with_masks['images']
        for i in f['instances']
    }
    frames = []
    for frame, box_only_frame in zip(video_with_masks['images'], box_only_video['images']):
        assert all('mask' not in instance for instance in box_only_frame['instances'])
        shape = (frame['height'], frame['width'])
        masks = torch.zeros(len(ids), *shape, dtype=torch.bool)
        for instance in frame['instances']:
            masks[ids.index(instance['instance_id'])] = torch.from_numpy(
                mask_utils.decode(instance['mask'])
            ).bool()
        sample = DetDataSample(
            metainfo=dict(
                img_id=frame['img_id'],
                video_id=frame['video_id'],
                frame_id=frame['frame_id'],
                ori_shape=shape,
                ori_video_length=len(video_with_masks['images']),
                instances=box_only_frame['instances'],
            )
        )
        sample.pred_track_instances = InstanceData(
            masks=masks,
            bboxes=mask2bbox(masks),
            labels=torch.tensor([label_of[i] for i in ids]),
            scores=torch.ones(len(ids)),
            instances_id=torch.arange(len(ids)),
        )
        frames.append(sample)
    return TrackDataSample(video_data_samples=frames)


def test_ground_truth_masks_as_predictions_give_box_ap_one(generated):
    with_masks, box_only = dataset(generated, 'val'), dataset(generated, 'val_box_only')
    metric = YouTubeVISLocalMetric()
    metric.dataset_meta = box_only.metainfo
    for index in range(len(box_only)):
        video = ground_truth_as_prediction(
            with_masks.get_data_info(index), box_only.get_data_info(index)
        )
        metric.process({}, [video.to_dict()])
    results = metric.evaluate(size=len(box_only))
    assert results['youtube_vis/bbox_mAP'] == pytest.approx(1.0)
    assert results['youtube_vis/bbox_mAP_75'] == pytest.approx(1.0)
