"""Best prediction per GT object: IoU whatever the class, and whether the class is right."""

import math

import pytest
import torch

from maskfreevis.evaluation import best_predictions, summarise_best_predictions


def test_best_iou_ignores_the_class_and_reports_it(right_mask_wrong_classes):
    video = right_mask_wrong_classes
    assert best_predictions(video) == [(pytest.approx(1.0), False)]
    for frame in video:  # the best prediction has the object's class now
        frame.pred_track_instances.labels = torch.tensor([2, 1, 0])
    assert best_predictions(video) == [(pytest.approx(1.0), True)]


def test_polygon_ground_truth_is_decoded(polygon_ground_truth):
    assert best_predictions(polygon_ground_truth) == [(pytest.approx(1.0), False)]


def test_no_prediction_and_no_object(right_mask_wrong_classes):
    video = right_mask_wrong_classes
    for frame in video:
        frame.pred_track_instances = frame.pred_track_instances[torch.zeros(3, dtype=torch.bool)]
    assert best_predictions(video) == [(0.0, False)]
    for frame in video:
        frame.set_metainfo(dict(instances=[]))
    assert best_predictions(video) == []


def test_summary_shares():
    summary = summarise_best_predictions([(0.9, True), (0.4, False), (0.6, False), (0.7, True)])
    assert summary['best_prediction_iou/mean'] == pytest.approx(0.65)
    assert summary['best_prediction_iou/above_0.5'] == pytest.approx(0.75)
    assert summary['best_prediction_iou/class_accuracy'] == pytest.approx(0.5)
    assert all(math.isnan(v) for v in summarise_best_predictions([]).values())
