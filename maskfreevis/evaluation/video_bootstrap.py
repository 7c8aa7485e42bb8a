"""How much of a YouTube-VIS AP is evaluation noise: the AP of any multiset of videos.

The YouTube-VIS AP (``YTVISeval``) matches each video's predicted tracks to its ground-truth
tracks on its own, then pools the matches of all videos per category. So once every video is
matched, the AP of any *multiset* of videos follows without matching again: pool the chosen
videos' matches, each as many times as it was chosen. That gives the bootstrap over videos (how
much the AP moves when the validation videos are drawn again from the same population), and,
with the same draws for two models scored on the same videos, the bootstrap of their difference.

:func:`video_match_records` keeps what the pooling needs from an evaluated ``YTVISeval`` (area
``all``, at most 100 tracks per video), in plain lists that fit in a json file;
:func:`multiset_average_precision` pools them for given video counts exactly as
``YTVISeval.accumulate`` + ``summarize`` do (101 recall points, precision made monotone, the
mean over IoU thresholds, recall points and categories that have ground truth);
:func:`bootstrap_average_precision` draws the video multisets.

Shape letters: V videos, D predicted tracks of one video and category, U IoU thresholds, R draws.
"""

from typing import Dict, List, Optional, Sequence

import numpy as np

__all__ = [
    'video_match_records',
    'multiset_average_precision',
    'bootstrap_average_precision',
    'percentile_interval',
]

RECALL_POINTS = np.linspace(0.0, 1.0, 101)


def video_match_records(evaluator) -> dict:
    """The matches of an evaluated ``YTVISeval`` per category and video, for pooling.

    Args:
        evaluator: a ``YTVISeval`` (mmdet's or pycocotools-style) after ``evaluate()``.

    Returns:
        ``video_ids`` (V,), ``iou_thresholds`` (U,) and ``categories``: per category id (as a
        str, json keys) a list of entries ``{video, scores (D,), true_positive (U, D) 0/1,
        ignored (U, D) 0/1, num_gt}`` for the videos where the category has ground truth or
        predictions (area range ``all``, the largest ``maxDets``).
    """
    params = evaluator.params
    max_det = params.maxDets[-1]
    video_ids = [int(v) for v in params.vidIds]
    categories: Dict[str, List[dict]] = {}
    for entry in evaluator.evalImgs:
        if entry is None or list(entry['aRng']) != list(params.areaRng[0]):
            continue
        if entry['maxDet'] != max_det:
            continue
        matches = np.asarray(entry['dtMatches'])[:, :max_det]
        ignored = np.asarray(entry['dtIgnore'])[:, :max_det].astype(bool)
        categories.setdefault(str(int(entry['category_id'])), []).append(
            dict(
                video=int(entry['video_id']),
                scores=[float(s) for s in entry['dtScores'][:max_det]],
                true_positive=((matches > 0) & ~ignored).astype(int).tolist(),
                ignored=ignored.astype(int).tolist(),
                num_gt=int(np.count_nonzero(np.asarray(entry['gtIgnore']) == 0)),
            )
        )
    return dict(
        video_ids=video_ids,
        iou_thresholds=[float(t) for t in params.iouThrs],
        categories=categories,
    )


def _category_precisions(entries: Sequence[dict], counts: Dict[int, int], num_thresholds: int):
    """``(U, 101)`` interpolated precisions of one category pooled over the video multiset, or
    None when it has no ground truth there."""
    scores, true_positive, ignored, num_gt = [], [], [], 0
    for entry in entries:
        repeat = counts.get(entry['video'], 0)
        if repeat == 0:
            continue
        num_gt += repeat * entry['num_gt']
        if not entry['scores']:
            continue
        scores += entry['scores'] * repeat
        true_positive += [np.asarray(entry['true_positive'], dtype=bool)] * repeat
        ignored += [np.asarray(entry['ignored'], dtype=bool)] * repeat
    if num_gt == 0:
        return None
    precisions = np.zeros((num_thresholds, len(RECALL_POINTS)))
    if not scores:
        return precisions
    order = np.argsort(-np.asarray(scores), kind='mergesort')
    true_positive = np.concatenate(true_positive, axis=1)[:, order]
    ignored = np.concatenate(ignored, axis=1)[:, order]
    tp_sum = np.cumsum(true_positive & ~ignored, axis=1, dtype=np.float64)
    fp_sum = np.cumsum(~true_positive & ~ignored, axis=1, dtype=np.float64)
    for threshold in range(num_thresholds):
        recall = tp_sum[threshold] / num_gt
        precision = tp_sum[threshold] / (tp_sum[threshold] + fp_sum[threshold] + np.spacing(1))
        # the best precision at any recall at least as high (COCO's monotone envelope)
        precision = np.maximum.accumulate(precision[::-1])[::-1]
        points = np.searchsorted(recall, RECALL_POINTS, side='left')
        reached = points < len(precision)
        precisions[threshold, reached] = precision[points[reached]]
    return precisions


def multiset_average_precision(
    records: dict, counts: Optional[Dict[int, int]] = None, iou_threshold: Optional[float] = None
) -> float:
    """YouTube-VIS AP of a multiset of videos, from :func:`video_match_records`.

    Args:
        records: the output of :func:`video_match_records` (or the same read from json).
        counts: video id -> how many times the video is in the set (None: every video once,
            which reproduces ``YTVISeval``'s AP).
        iou_threshold: one of the record's thresholds (e.g. 0.5 for AP50); None averages all.

    Returns:
        The AP, or -1 when no chosen video has ground truth (as ``YTVISeval``).
    """
    if counts is None:
        counts = {video: 1 for video in records['video_ids']}
    thresholds = records['iou_thresholds']
    rows = slice(None)
    if iou_threshold is not None:
        matching = [i for i, t in enumerate(thresholds) if abs(t - iou_threshold) < 1e-9]
        if not matching:
            raise ValueError(f'no IoU threshold {iou_threshold} in the records ({thresholds})')
        rows = slice(matching[0], matching[0] + 1)
    per_category = [
        _category_precisions(entries, counts, len(thresholds))
        for entries in records['categories'].values()
    ]
    valid = [p[rows] for p in per_category if p is not None]
    if not valid:
        return -1.0
    return float(np.mean(np.stack(valid)))


def bootstrap_average_precision(
    records: Sequence[dict],
    num_draws: int = 1000,
    seed: int = 0,
    iou_threshold: Optional[float] = None,
) -> np.ndarray:
    """APs of the same bootstrap draws of videos, for several models scored on the same videos.

    Each draw picks V videos with replacement from the first record's ``video_ids``; every
    model is scored on that same multiset, so differences between models are paired.

    Args:
        records: one :func:`video_match_records` per model, all over the same videos.
        num_draws: R.
        seed: seed of the draws.
        iou_threshold: see :func:`multiset_average_precision`.

    Returns:
        ``(R, len(records))`` APs.
    """
    video_ids = list(records[0]['video_ids'])
    for other in records[1:]:
        if sorted(other['video_ids']) != sorted(video_ids):
            raise ValueError('bootstrap_average_precision: the records cover different videos')
    rng = np.random.default_rng(seed)
    draws = np.empty((num_draws, len(records)))
    for draw in range(num_draws):
        picked, times = np.unique(
            rng.integers(0, len(video_ids), len(video_ids)), return_counts=True
        )
        counts = {video_ids[i]: int(n) for i, n in zip(picked, times)}
        for model, record in enumerate(records):
            draws[draw, model] = multiset_average_precision(record, counts, iou_threshold)
    return draws


def percentile_interval(samples: np.ndarray, level: float = 0.95) -> List[float]:
    """The central ``level`` percentile interval ``[low, high]`` of bootstrap samples."""
    tail = (1.0 - level) / 2 * 100
    low, high = np.percentile(np.asarray(samples), [tail, 100 - tail])
    return [float(low), float(high)]
