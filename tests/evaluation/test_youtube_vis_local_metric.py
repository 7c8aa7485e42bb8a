"""``YouTubeVISLocalMetric``: local mask AP under numpy 2, box-only ground truth handling."""

import json
import os.path as osp

import numpy as np
import pycocotools.mask as mask_utils
import pytest
import torch
from mmdet.structures import DetDataSample, TrackDataSample
from mmengine.structures import InstanceData

from maskfreevis.evaluation import YouTubeVISLocalMetric

HEIGHT, WIDTH = 24, 32


def rectangle_mask(y0: int, y1: int, x0: int, x1: int) -> np.ndarray:
    mask = np.zeros((HEIGHT, WIDTH), dtype=np.uint8)
    mask[y0:y1, x0:x1] = 1
    return mask


def mask_boxes(masks: torch.Tensor) -> torch.Tensor:
    """``(N, 4)`` xyxy pixel-edge boxes of ``(N, H, W)`` masks, zeros for an empty mask (as the
    head's ``mask2bbox``)."""
    boxes = torch.zeros(len(masks), 4)
    for index, mask in enumerate(masks):
        ys, xs = torch.nonzero(mask, as_tuple=True)
        if len(xs):
            boxes[index] = torch.stack([xs.min(), ys.min(), xs.max() + 1, ys.max() + 1]).float()
    return boxes


def make_video(video_id: int, gt_masks: list, pred_masks: list, with_gt_masks: bool = True):
    """One video; ``gt_masks[t][i]`` is instance i (id i+1, label i) at frame t."""
    frames = []
    for frame_id, (frame_gt, frame_pred) in enumerate(zip(gt_masks, pred_masks)):
        instances = []
        for index, mask in enumerate(frame_gt):
            ys, xs = np.nonzero(mask)
            instance = dict(
                bbox=[float(xs.min()), float(ys.min()), float(xs.max() + 1), float(ys.max() + 1)],
                bbox_label=index,
                instance_id=index + 1,
                ignore_flag=0,
            )
            if with_gt_masks:
                rle = mask_utils.encode(np.asfortranarray(mask))
                rle['counts'] = rle['counts'].decode()
                instance['mask'] = rle
            instances.append(instance)
        sample = DetDataSample(
            metainfo=dict(
                img_id=video_id * 100 + frame_id,
                video_id=video_id,
                frame_id=frame_id,
                ori_shape=(HEIGHT, WIDTH),
                ori_video_length=len(gt_masks),
                instances=instances,
            )
        )
        pred = torch.from_numpy(np.stack(frame_pred)).bool()
        sample.pred_track_instances = InstanceData(
            masks=pred,
            scores=torch.full((len(frame_pred),), 0.9),
            labels=torch.arange(len(frame_pred)),
            instances_id=torch.arange(len(frame_pred)),
            bboxes=mask_boxes(pred),
        )
        frames.append(sample)
    return TrackDataSample(video_data_samples=frames)


def two_object_video():
    first = [rectangle_mask(2, 10, 3, 12), rectangle_mask(12, 22, 15, 30)]
    second = [rectangle_mask(3, 11, 5, 14), rectangle_mask(11, 21, 14, 28)]
    return [first, second]


def build_metric(**kwargs) -> YouTubeVISLocalMetric:
    metric = YouTubeVISLocalMetric(**kwargs)
    metric.dataset_meta = dict(classes=('ellipse', 'star'))
    return metric


def test_perfect_predictions_give_ap_one():
    gt = two_object_video()
    metric = build_metric()
    metric.process({}, [make_video(1, gt, gt).to_dict()])
    results = metric.evaluate(size=1)
    assert results['youtube_vis/segm_mAP'] == pytest.approx(1.0)
    assert results['youtube_vis/segm_mAP_50'] == pytest.approx(1.0)


def test_wrong_masks_lower_the_ap():
    gt = two_object_video()
    # Instance 0 predicted where instance 1 is: IoU 0 for both classes' ground truth.
    wrong = [[frame[1], frame[1]] for frame in gt]
    metric = build_metric()
    metric.process({}, [make_video(1, gt, wrong).to_dict()])
    results = metric.evaluate(size=1)
    assert results['youtube_vis/segm_mAP'] == pytest.approx(0.5)


def test_box_only_ground_truth_is_a_clear_error_for_mask_ap():
    gt = two_object_video()
    metric = build_metric(iou_type='segm')
    with pytest.raises(ValueError, match=r'video 7 frame 0 .*without a mask') as error:
        metric.process({}, [make_video(7, gt, gt, with_gt_masks=False).to_dict()])
    # The fix it offers works: format_only needs outfile_prefix to keep anything.
    assert 'test_evaluator.outfile_prefix=' in str(error.value)
    assert "iou_type='auto' or 'bbox'" in str(error.value)


def test_box_only_ground_truth_gives_box_track_ap_by_default():
    gt = two_object_video()
    metric = build_metric()
    metric.process({}, [make_video(7, gt, gt, with_gt_masks=False).to_dict()])
    results = metric.evaluate(size=1)
    assert results['youtube_vis/bbox_mAP'] == pytest.approx(1.0)
    assert not any('segm' in key for key in results)


def test_unknown_iou_type_is_a_clear_error():
    with pytest.raises(ValueError, match="iou_type must be one of .* got 'box'"):
        build_metric(iou_type='box')


def test_format_only_without_outfile_prefix_says_nothing_is_kept(monkeypatch):
    from maskfreevis.evaluation.metrics import youtube_vis_local_metric as module

    logged = []
    monkeypatch.setattr(module, 'print_log', lambda message, **kwargs: logged.append(message))
    gt = two_object_video()
    metric = build_metric(format_only=True)
    metric.process({}, [make_video(7, gt, gt, with_gt_masks=False).to_dict()])
    assert metric.evaluate(size=1) == {}
    assert len(logged) == 1 and 'predictions are not kept' in logged[0]


def test_box_only_ground_truth_is_fine_for_format_only(tmp_path):
    gt = two_object_video()
    prefix = str(tmp_path / 'results')
    metric = build_metric(format_only=True, outfile_prefix=prefix)
    metric.process({}, [make_video(7, gt, gt, with_gt_masks=False).to_dict()])
    assert metric.evaluate(size=1) == {}
    with open(f'{prefix}.json') as handle:
        predictions = json.load(handle)
    assert len(predictions) == 2 and {p['video_id'] for p in predictions} == {7}
    assert osp.exists(f'{prefix}.submission_file.zip')


def test_numpy_float_alias_and_result_dir_are_not_left_behind(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    gt = two_object_video()
    metric = build_metric()
    metric.process({}, [make_video(1, gt, gt).to_dict()])
    metric.evaluate(size=1)
    assert 'float' not in np.__dict__
    assert list(tmp_path.iterdir()) == [], 'mmdet leaves an empty .dist_test folder in the cwd'
