"""Box sanitising, label lookup and skip counting shared by the datasets."""

import logging

import numpy as np
import pytest

from maskfreevis.datasets.annotation_checks import (
    BOX_CLIPPED,
    BOX_EMPTY,
    BOX_OUTSIDE,
    BOX_VALID,
    AnnotationError,
    SkipCounter,
    as_int_array,
    lookup_labels,
    sanitize_xywh_boxes,
)


def test_sanitize_xywh_boxes_status_and_clipping():
    boxes = np.array(
        [
            [1, 2, 3, 4],  # inside
            [-2, 5, 6, 3],  # left part outside -> [0, 5, 4, 8]
            [8, 8, 5, 5],  # bottom-right part outside -> [8, 8, 10, 10]
            [10, 0, 3, 3],  # starts on the right border: no overlap
            [0, 0, 0, 3],  # zero width
            [0, 0, 3, -1],  # negative height
            [np.nan, 0, 3, 3],  # not finite
            [0, 0, np.inf, 3],  # not finite
        ]
    )
    xyxy, status = sanitize_xywh_boxes(boxes, np.tile([[10, 10]], (len(boxes), 1)))
    assert status.tolist() == [
        BOX_VALID,
        BOX_CLIPPED,
        BOX_CLIPPED,
        BOX_OUTSIDE,
        BOX_EMPTY,
        BOX_EMPTY,
        BOX_EMPTY,
        BOX_EMPTY,
    ]
    np.testing.assert_array_equal(xyxy[:3], [[1, 2, 4, 6], [0, 5, 4, 8], [8, 8, 10, 10]])
    empty_xyxy, empty_status = sanitize_xywh_boxes(np.zeros((0, 4)), np.zeros((0, 2)))
    assert empty_xyxy.shape == (0, 4) and empty_status.shape == (0,)


def test_lookup_labels_and_integer_ids():
    assert lookup_labels(np.array([7, 1, 3, 99]), {1: 0, 7: 1}).tolist() == [1, 0, -1, -1]
    assert lookup_labels(np.array([1]), {}).tolist() == [-1]
    assert as_int_array([3, 4], 'f.json', 'ids').dtype == np.int64
    with pytest.raises(AnnotationError, match="f.json: ids must be integers, got '4'"):
        as_int_array([3, '4'], 'f.json', 'ids')


def test_skip_counter_counts_keeps_few_examples_and_logs(log_records, vis):
    skips = SkipCounter('owner', max_examples=2)
    skips.add('bad', 3, ['a', 'b', 'c'])
    skips.add('bad', 1, ['d'])
    skips.add('fine', 0, [])
    skips.add('info', 1, ['x'], level=logging.INFO)
    assert skips.counts == {'bad': 4, 'info': 1}
    skips.log_summary()
    assert 'owner: bad: 4 (e.g. a; b)' in vis.messages(log_records)
    levels = {
        r.getMessage().split(':')[1].strip(): r.levelno
        for r in log_records
        if r.getMessage().startswith('owner')
    }
    assert levels == {'bad': logging.WARNING, 'info': logging.INFO}
