"""The video box IoU against hand computations."""

import numpy as np
import pytest

from maskfreevis.evaluation.functional import box_track_iou, track_boxes_to_array


def test_identical_tracks_have_iou_one():
    track = track_boxes_to_array([[[0, 0, 10, 10], [5, 5, 4, 2]]])
    assert box_track_iou(track, track) == pytest.approx(np.ones((1, 1)))


def test_sum_of_intersections_over_sum_of_unions_with_absent_frames():
    # frame 0: only the GT (area 100) -> union 100
    # frame 1: GT [0,0,10,10], pred [5,0,15,10] -> intersection 50, union 150
    # frame 2: both absent -> skipped
    # frame 3: only the prediction, 2 x 3 -> union 6
    gt = track_boxes_to_array([[[0, 0, 10, 10], [0, 0, 10, 10], None, None]])
    pred = track_boxes_to_array([[None, [5, 0, 10, 10], None, [20, 20, 2, 3]]])
    assert box_track_iou(pred, gt)[0, 0] == pytest.approx(50 / (100 + 150 + 6))


def test_not_the_mean_of_frame_ious():
    # frame IoUs 1 and 1/4: the mean would be 0.625, the video IoU weighs frames by their union
    gt = track_boxes_to_array([[[0, 0, 2, 2], [0, 0, 20, 20]]])
    pred = track_boxes_to_array([[[0, 0, 2, 2], [0, 0, 10, 10]]])
    assert box_track_iou(pred, gt)[0, 0] == pytest.approx((4 + 100) / (4 + 400))


def test_all_pairs_and_disjoint_tracks():
    gt = track_boxes_to_array([[[0, 0, 10, 10]], [[50, 50, 10, 10]]])
    pred = track_boxes_to_array([[[50, 50, 10, 10]], [[0, 0, 10, 5]], [None]])
    expected = np.array([[0.0, 1.0], [0.5, 0.0], [0.0, 0.0]])
    assert box_track_iou(pred, gt) == pytest.approx(expected)


def test_tracks_of_different_lengths_are_a_clear_error():
    with pytest.raises(ValueError, match='same number of frames'):
        track_boxes_to_array([[[0, 0, 1, 1]], [[0, 0, 1, 1], None]])
    with pytest.raises(ValueError, match='different frames'):
        box_track_iou(np.zeros((1, 2, 4)), np.zeros((1, 3, 4)))
