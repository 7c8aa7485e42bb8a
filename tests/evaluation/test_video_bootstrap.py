"""The AP of a video multiset from stored matches equals YTVISeval run on those videos."""

import contextlib
import copy
import io

import numpy as np
import pycocotools.mask as mask_utils
import pytest
from mmdet.evaluation.functional import YTVIS, YTVISeval

from maskfreevis.evaluation.video_bootstrap import (
    bootstrap_average_precision,
    multiset_average_precision,
    percentile_interval,
    video_match_records,
)
from maskfreevis.utils import numpy_float_alias

SIZE, FRAMES = 24, 3


def _rle(box):
    mask = np.zeros((SIZE, SIZE), np.uint8)
    x0, y0, x1, y1 = box
    mask[y0:y1, x0:x1] = 1
    rle = mask_utils.encode(np.asfortranarray(mask))
    return dict(rle, counts=rle['counts'].decode())


def _random_box(rng):
    x0, y0 = rng.integers(0, SIZE - 8, 2)
    w, h = rng.integers(4, 9, 2)
    return int(x0), int(y0), int(x0 + w), int(y0 + h)


def _jitter(box, rng, amount):
    shift = rng.integers(-amount, amount + 1, 4)
    x0, y0, x1, y1 = np.clip(np.array(box) + shift, 0, SIZE)
    return int(x0), int(y0), int(max(x1, x0 + 1)), int(max(y1, y0 + 1))


def random_problem(seed: int, num_videos: int = 12):
    """Ground truth (YTVIS json dict) and predictions (results list) of rectangles: 2
    categories, 1-3 objects per video, predictions near some of them plus false positives."""
    rng = np.random.default_rng(seed)
    gt = dict(
        videos=[],
        annotations=[],
        categories=[dict(id=1, name='a'), dict(id=2, name='b')],
    )
    predictions = []
    for video in range(1, num_videos + 1):
        gt['videos'].append(dict(id=video, width=SIZE, height=SIZE, length=FRAMES))
        for _ in range(int(rng.integers(1, 4))):
            category = int(rng.integers(1, 3))
            boxes = [_random_box(rng)] * FRAMES
            gt['annotations'].append(
                dict(
                    id=len(gt['annotations']) + 1,
                    video_id=video,
                    category_id=category,
                    segmentations=[_rle(b) for b in boxes],
                    areas=[float((b[2] - b[0]) * (b[3] - b[1])) for b in boxes],
                    bboxes=[[b[0], b[1], b[2] - b[0], b[3] - b[1]] for b in boxes],
                    iscrowd=0,
                )
            )
            if rng.random() < 0.8:
                predictions.append(
                    dict(
                        video_id=video,
                        category_id=category if rng.random() < 0.85 else 3 - category,
                        score=float(rng.random()),
                        segmentations=[_rle(_jitter(b, rng, 2)) for b in boxes],
                    )
                )
        for _ in range(int(rng.integers(0, 3))):
            predictions.append(
                dict(
                    video_id=video,
                    category_id=int(rng.integers(1, 3)),
                    score=float(rng.random()),
                    segmentations=[_rle(_random_box(rng))] * FRAMES,
                )
            )
    return gt, predictions


def evaluated(gt, predictions):
    with contextlib.redirect_stdout(io.StringIO()), numpy_float_alias():
        ground_truth = YTVIS()
        ground_truth.dataset = copy.deepcopy(gt)
        ground_truth.createIndex()
        evaluator = YTVISeval(
            ground_truth, ground_truth.loadRes(copy.deepcopy(predictions)), 'segm'
        )
        evaluator.evaluate()
        evaluator.accumulate()
        evaluator.summarize()
    return evaluator


@pytest.mark.parametrize('seed', [0, 1, 2])
def test_all_videos_once_reproduce_ytviseval(seed):
    gt, predictions = random_problem(seed)
    evaluator = evaluated(gt, predictions)
    records = video_match_records(evaluator)
    assert multiset_average_precision(records) == pytest.approx(evaluator.stats[0], abs=1e-12)
    assert multiset_average_precision(records, iou_threshold=0.5) == pytest.approx(
        evaluator.stats[1], abs=1e-12
    )
    assert multiset_average_precision(records, iou_threshold=0.75) == pytest.approx(
        evaluator.stats[2], abs=1e-12
    )


def test_a_multiset_equals_ytviseval_on_the_copied_videos():
    """Videos 2 and 5 twice, video 7 three times, videos 1 and 3 left out: the same AP as
    YTVISeval on a dataset that holds those copies as videos of their own."""
    gt, predictions = random_problem(3)
    counts = {v: 1 for v in range(1, 13)}
    counts.update({2: 2, 5: 2, 7: 3, 1: 0, 3: 0})
    copied = dict(videos=[], annotations=[], categories=gt['categories'])
    copied_predictions = []
    next_video = 1
    for video, times in counts.items():
        for _ in range(times):
            copied['videos'].append(dict(gt['videos'][video - 1], id=next_video))
            for ann in gt['annotations']:
                if ann['video_id'] == video:
                    copied['annotations'].append(
                        dict(ann, id=len(copied['annotations']) + 1, video_id=next_video)
                    )
            copied_predictions += [
                dict(p, video_id=next_video) for p in predictions if p['video_id'] == video
            ]
            next_video += 1
    expected = evaluated(copied, copied_predictions).stats[0]
    records = video_match_records(evaluated(gt, predictions))
    assert multiset_average_precision(records, counts) == pytest.approx(expected, abs=1e-12)


def test_records_survive_json_and_bootstrap_is_paired():
    import json

    gt, predictions = random_problem(4, num_videos=20)
    records = json.loads(json.dumps(video_match_records(evaluated(gt, predictions))))
    worse = [dict(p, score=p['score'] * 0.5) if p['video_id'] % 2 else p for p in predictions]
    worse_records = video_match_records(evaluated(gt, worse))
    draws = bootstrap_average_precision([records, records, worse_records], num_draws=50, seed=1)
    assert draws.shape == (50, 3)
    np.testing.assert_array_equal(draws[:, 0], draws[:, 1])  # same model, same draws
    assert draws.std(axis=0)[0] > 0  # the draws do differ
    again = bootstrap_average_precision([records], num_draws=50, seed=1)
    np.testing.assert_array_equal(again[:, 0], draws[:, 0])  # seeded
    low, high = percentile_interval(draws[:, 0])
    assert low < high
    # 100 * (1 - 0.95) / 2 is 2.5 to within rounding, which can move the last digit
    assert [low, high] == pytest.approx(np.percentile(draws[:, 0], [2.5, 97.5]), rel=1e-9)


def test_unknown_threshold_and_mismatched_videos_are_refused():
    gt, predictions = random_problem(5)
    records = video_match_records(evaluated(gt, predictions))
    with pytest.raises(ValueError, match='no IoU threshold 0.42'):
        multiset_average_precision(records, iou_threshold=0.42)
    other = dict(records, video_ids=records['video_ids'][:-1])
    with pytest.raises(ValueError, match='different videos'):
        bootstrap_average_precision([records, other], num_draws=2)
