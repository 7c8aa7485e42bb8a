"""ClipBoxesToImage: clip to the image, drop empty boxes, keep every per-instance key aligned."""

import numpy as np
import pytest
from mmdet.structures.bbox import HorizontalBoxes
from mmdet.structures.mask import BitmapMasks

from maskfreevis.datasets import ClipBoxesToImage


def frame_results(boxes):
    num = len(boxes)
    masks = np.zeros((num, 20, 30), dtype=np.uint8)
    for index in range(num):
        masks[index, 0, index] = 1  # a distinct pixel identifies each instance's mask
    return dict(
        img_shape=(20, 30),
        gt_bboxes=boxes,
        gt_bboxes_labels=np.arange(num, dtype=np.int64) + 10,
        gt_ignore_flags=np.array([False, True, False, False][:num]),
        gt_instances_ids=np.arange(num, dtype=np.int32) + 1,
        gt_masks=BitmapMasks(masks, 20, 30),
    )


@pytest.mark.parametrize('box_type', ['numpy', 'hbox'])
def test_clips_and_drops_with_aligned_keys(box_type):
    boxes = np.array(
        [
            [-5, 2, 10, 8],  # partly outside left: -> [0, 2, 10, 8]
            [25, 15, 40, 30],  # partly outside bottom-right: -> [25, 15, 30, 20]
            [31, 0, 40, 5],  # right of the image: empty after clipping
            [3, 4, 3, 9],  # zero width
        ],
        dtype=np.float32,
    )
    results = frame_results(HorizontalBoxes(boxes) if box_type == 'hbox' else boxes)
    out = ClipBoxesToImage()(results)
    got = out['gt_bboxes'].numpy() if box_type == 'hbox' else out['gt_bboxes']
    np.testing.assert_array_equal(got, [[0, 2, 10, 8], [25, 15, 30, 20]])
    assert out['gt_bboxes_labels'].tolist() == [10, 11]
    assert out['gt_ignore_flags'].tolist() == [False, True]
    assert out['gt_instances_ids'].tolist() == [1, 2]
    assert np.flatnonzero(out['gt_masks'].masks[:, 0, :].sum(0)).tolist() == [0, 1]
    assert isinstance(out['gt_bboxes'], np.ndarray) == (box_type == 'numpy')


def test_min_size_and_no_boxes():
    results = frame_results(np.array([[0, 0, 2, 9], [0, 0, 5, 5]], dtype=np.float32))
    out = ClipBoxesToImage(min_size=2)(results)
    assert out['gt_instances_ids'].tolist() == [2]
    assert ClipBoxesToImage()(dict(img_shape=(4, 4))) == dict(img_shape=(4, 4))


def test_misaligned_keys_are_an_error():
    results = frame_results(np.array([[-1, 0, 2, 9], [0, 0, 0, 5]], dtype=np.float32))
    results['gt_instances_ids'] = np.array([1], dtype=np.int32)
    with pytest.raises(ValueError, match='gt_instances_ids has 1 entries but gt_bboxes has 2'):
        ClipBoxesToImage()(results)
