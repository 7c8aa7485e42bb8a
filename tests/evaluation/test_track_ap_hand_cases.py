"""Mask and box-track AP of ``YouTubeVISLocalMetric`` on hand-made videos, hand-computed values.

One video of 4 frames, 40 x 40; ground truth A (car, [2, 2, 12, 12]) and B (person,
[20, 20, 36, 30]) in every frame. Objects are rectangles, so mask and box IoU are equal and both
metrics must give the same numbers. AP is COCO's: 101 recall points, mean over the IoU thresholds
0.5, 0.55, ..., 0.95, mean over the classes that have ground truth; values are rounded to 3 places.
"""

from typing import List, Optional

import numpy as np
import pycocotools.mask as mask_utils
import pytest
import torch
from mmdet.structures import DetDataSample, TrackDataSample
from mmengine.structures import InstanceData

from maskfreevis.evaluation import YouTubeVISLocalMetric
from maskfreevis.evaluation.metrics.youtube_vis_local_metric import TRACK_AP_ITEMS

SIZE = 40
NUM_FRAMES = 4
CAR, PERSON = 0, 1
BOX_A = (2, 2, 12, 12)
BOX_B = (20, 20, 36, 30)
BOX_C = (2, 24, 10, 36)
ELSEWHERE = (25, 2, 35, 12)


def track(label: int, box, frames=range(NUM_FRAMES), score: float = 0.9) -> dict:
    return dict(
        label=label, score=score, boxes=[box if t in frames else None for t in range(NUM_FRAMES)]
    )


def rectangle(box: Optional[tuple]) -> np.ndarray:
    mask = np.zeros((SIZE, SIZE), np.uint8)
    if box is not None:
        x0, y0, x1, y1 = box
        mask[y0:y1, x0:x1] = 1
    return mask


def make_video(ground_truth: List[dict], predictions: List[dict], with_gt_masks: bool):
    """Predictions are present in every frame as the model outputs them: an empty mask and a zero
    box where the track is absent."""
    frames = []
    for t in range(NUM_FRAMES):
        instances = []
        for index, gt in enumerate(ground_truth):
            if gt['boxes'][t] is None:
                continue
            instance = dict(
                bbox=list(map(float, gt['boxes'][t])), bbox_label=gt['label'], instance_id=index + 1
            )
            if with_gt_masks:
                rle = mask_utils.encode(np.asfortranarray(rectangle(gt['boxes'][t])))
                instance['mask'] = dict(rle, counts=rle['counts'].decode())
            instances.append(instance)
        sample = DetDataSample(
            metainfo=dict(
                img_id=t,
                video_id=1,
                frame_id=t,
                ori_shape=(SIZE, SIZE),
                ori_video_length=NUM_FRAMES,
                instances=instances,
            )
        )
        sample.pred_track_instances = InstanceData(
            masks=torch.from_numpy(
                np.stack([rectangle(p['boxes'][t]) for p in predictions])
            ).bool(),
            bboxes=torch.tensor(
                [p['boxes'][t] or (0, 0, 0, 0) for p in predictions], dtype=torch.float32
            ),
            scores=torch.tensor([p['score'] for p in predictions]),
            labels=torch.tensor([p['label'] for p in predictions]),
            instances_id=torch.arange(len(predictions)),
        )
        frames.append(sample)
    return TrackDataSample(video_data_samples=frames)


def track_ap(ground_truth, predictions, with_gt_masks: bool) -> dict:
    metric = YouTubeVISLocalMetric()
    metric.dataset_meta = dict(classes=('car', 'person'))
    metric.process({}, [make_video(ground_truth, predictions, with_gt_masks).to_dict()])
    results = metric.evaluate(size=1)
    iou_type = 'segm' if with_gt_masks else 'bbox'
    return {key.split(f'{iou_type}_')[1]: value for key, value in results.items()}


GT = [track(CAR, BOX_A), track(PERSON, BOX_B)]

CASES = {
    # every track found exactly
    'perfect': (GT, [track(CAR, BOX_A), track(PERSON, BOX_B, score=0.8)], 1.0, 1.0, 1.0),
    # a second car C is never predicted: car AP = precision 1 up to recall 0.5 = 51 of 101
    # recall points; person 1 -> mAP (51/101 + 1) / 2
    'one missed instance': (
        [*GT, track(CAR, BOX_C)],
        [track(CAR, BOX_A), track(PERSON, BOX_B, score=0.8)],
        (51 / 101 + 1) / 2,
        (51 / 101 + 1) / 2,
        (51 / 101 + 1) / 2,
    ),
    # a car where there is none, scored above the true car: car precision 1/2 at recall 1 ->
    # car AP 0.5, person 1
    'one false positive': (
        GT,
        [track(CAR, BOX_A), track(PERSON, BOX_B, score=0.8), track(CAR, ELSEWHERE, score=0.95)],
        0.75,
        0.75,
        0.75,
    ),
    # A predicted as a person: car AP 0 (nothing predicted), person AP 0.5 (a false person
    # ranked above the true one); mAP 0.25
    'wrong class': (GT, [track(PERSON, BOX_A), track(PERSON, BOX_B, score=0.8)], 0.25, 0.25, 0.25),
    # A found in frames 0-1 only: video IoU 200 / 400 = 0.5, a match at threshold 0.5 only:
    # car AP 1 at 0.5, 0 from 0.55 up (mean 0.1); person 1 -> mAP 0.55, AP50 1, AP75 0.5
    'right in half of the frames': (
        GT,
        [track(CAR, BOX_A, frames=(0, 1)), track(PERSON, BOX_B, score=0.8)],
        0.55,
        1.0,
        0.5,
    ),
}


@pytest.mark.parametrize('with_gt_masks', [True, False], ids=['mask AP', 'box AP'])
@pytest.mark.parametrize('case', list(CASES))
def test_hand_computed_track_ap(case, with_gt_masks):
    ground_truth, predictions, expected_map, expected_50, expected_75 = CASES[case]
    results = track_ap(ground_truth, predictions, with_gt_masks)
    assert results['mAP'] == pytest.approx(expected_map, abs=1e-3)
    assert results['mAP_50'] == pytest.approx(expected_50, abs=1e-3)
    assert results['mAP_75'] == pytest.approx(expected_75, abs=1e-3)


def test_box_ap_can_be_chosen_with_gt_masks():
    metric = YouTubeVISLocalMetric(iou_type='bbox')
    metric.dataset_meta = dict(classes=('car', 'person'))
    predictions = [track(CAR, BOX_A, frames=(0, 1)), track(PERSON, BOX_B, score=0.8)]
    metric.process({}, [make_video(GT, predictions, with_gt_masks=True).to_dict()])
    results = metric.evaluate(size=1)
    assert results['youtube_vis/bbox_mAP'] == pytest.approx(0.55)


def test_no_prediction_at_all_gives_box_ap_zero():
    metric = YouTubeVISLocalMetric()
    metric.dataset_meta = dict(classes=('car', 'person'))
    video = make_video(GT, [track(CAR, None)], with_gt_masks=False)
    for frame in video.video_data_samples:
        frame.pred_track_instances = frame.pred_track_instances[torch.zeros(1, dtype=torch.bool)]
    metric.process({}, [video.to_dict()])
    assert metric.evaluate(size=1)['youtube_vis/bbox_mAP'] == 0.0


def random_rectangle_scene(rng: np.random.Generator):
    """Random rectangle tracks (some frames absent) and noisy, sometimes misclassified
    predictions of them plus a few spurious ones."""

    def random_box():
        x0, y0 = rng.integers(0, SIZE - 4, size=2)
        x1, y1 = x0 + rng.integers(2, SIZE - x0 + 1), y0 + rng.integers(2, SIZE - y0 + 1)
        return (int(x0), int(y0), int(x1), int(y1))

    def random_frames():
        return [t for t in range(NUM_FRAMES) if rng.random() < 0.8] or [0]

    ground_truth = [
        track(int(rng.integers(2)), random_box(), random_frames())
        for _ in range(rng.integers(1, 4))
    ]

    def jittered(box):
        x0, y0, x1, y1 = np.array(box) + rng.integers(-3, 4, size=4)
        x0, y0 = max(int(x0), 0), max(int(y0), 0)
        return (x0, y0, int(min(max(x1, x0 + 1), SIZE)), int(min(max(y1, y0 + 1), SIZE)))

    predictions = []
    for gt in ground_truth:
        draws = rng.random(NUM_FRAMES)
        boxes = [
            None if box is None or draw < 0.1 else box if draw < 0.75 else jittered(box)
            for box, draw in zip(gt['boxes'], draws)
        ]
        label = gt['label'] if rng.random() < 0.85 else 1 - gt['label']
        predictions.append(dict(label=label, score=float(rng.random()), boxes=boxes))
    for _ in range(rng.integers(0, 3)):
        predictions.append(
            track(int(rng.integers(2)), random_box(), random_frames(), float(rng.random()))
        )
    return ground_truth, predictions


@pytest.mark.parametrize('seed', range(8))
def test_box_ap_equals_mask_ap_on_rectangles(seed):
    """Mask IoU of rectangles is their box IoU, so both metrics (mmdet's mask AP, this box AP)
    must agree on every summary number, area ranges and recalls included."""
    ground_truth, predictions = random_rectangle_scene(np.random.default_rng(seed))
    results = {}
    for with_gt_masks in (True, False):
        metric = YouTubeVISLocalMetric(metric_items=list(TRACK_AP_ITEMS))
        metric.dataset_meta = dict(classes=('car', 'person'))
        metric.process({}, [make_video(ground_truth, predictions, with_gt_masks).to_dict()])
        results[with_gt_masks] = metric.evaluate(size=1)
    mask_ap = {key.replace('segm_', ''): value for key, value in results[True].items()}
    box_ap = {key.replace('bbox_', ''): value for key, value in results[False].items()}
    assert box_ap == pytest.approx(mask_ap, abs=1e-3)
    assert len(box_ap) == len(TRACK_AP_ITEMS)


def test_some_videos_without_masks_give_box_ap_for_all():
    metric = YouTubeVISLocalMetric()
    metric.dataset_meta = dict(classes=('car', 'person'))
    predictions = [track(CAR, BOX_A, frames=(0, 1)), track(PERSON, BOX_B, score=0.8)]
    first = make_video(GT, predictions, with_gt_masks=True)
    second = make_video(GT, predictions, with_gt_masks=False)
    for t, frame in enumerate(second.video_data_samples):
        frame.set_metainfo(dict(video_id=2, img_id=100 + t))
        for instance in frame.instances:
            instance['instance_id'] += 10
    metric.process({}, [first.to_dict()])
    metric.process({}, [second.to_dict()])
    assert metric.evaluate(size=1)['youtube_vis/bbox_mAP'] == pytest.approx(0.55)
