"""The class-agnostic view of tracker outputs used by the project's evaluation tool."""

import torch
from mmdet.structures import DetDataSample, TrackDataSample
from mmengine.structures import InstanceData

from projects.masktrack_rcnn_maskfree.tools.evaluate_masks import tracked_class_agnostic_view


def frame(num_detections: int, labels) -> DetDataSample:
    sample = DetDataSample(metainfo=dict(instances=[dict(bbox_label=3, instance_id=7)]))
    sample.pred_track_instances = InstanceData(
        masks=torch.ones(num_detections, 4, 6, dtype=torch.bool),
        bboxes=torch.zeros(num_detections, 4),
        scores=torch.linspace(0.9, 0.5, num_detections),
        labels=torch.tensor(labels),
        instances_id=torch.arange(num_detections),
    )
    return sample


def test_frames_with_different_detection_counts_get_one_class():
    video = TrackDataSample(video_data_samples=[frame(3, [1, 2, 1]), frame(1, [3])])
    agnostic = tracked_class_agnostic_view(video)
    assert [len(agnostic[t].pred_track_instances) for t in range(2)] == [3, 1]
    for t in range(2):
        assert torch.all(agnostic[t].pred_track_instances.labels == 0)
        assert agnostic[t].metainfo['instances'] == [dict(bbox_label=0, instance_id=7)]
    # the input video is left unchanged
    assert video[0].pred_track_instances.labels.tolist() == [1, 2, 1]
    assert video[1].metainfo['instances'][0]['bbox_label'] == 3
