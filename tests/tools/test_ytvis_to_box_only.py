"""``tools/dataset_converters/ytvis_to_box_only.py``."""

import numpy as np
import pycocotools.mask as mask_utils
import pytest


@pytest.fixture(scope='module')
def converter(load_tool):
    return load_tool('dataset_converters/ytvis_to_box_only.py')


def rle_of_rectangle(y0, y1, x0, x1, height=20, width=30):
    mask = np.zeros((height, width), dtype=np.uint8)
    mask[y0:y1, x0:x1] = 1
    rle = mask_utils.encode(np.asfortranarray(mask))
    rle['counts'] = rle['counts'].decode()
    return rle


def test_masks_removed_and_missing_boxes_derived(converter):
    polygon = [[2.0, 3.0, 12.0, 3.0, 12.0, 9.0, 2.0, 9.0]]
    dataset = dict(
        videos=[dict(id=1, height=20, width=30, file_names=['a.jpg', 'b.jpg', 'c.jpg'])],
        annotations=[dict(id=5, video_id=1, category_id=1,
                          bboxes=[[1.0, 1.0, 4.0, 4.0], None, None],
                          segmentations=[rle_of_rectangle(1, 5, 1, 5), rle_of_rectangle(4, 10, 6, 16),
                                         None]),
                     dict(id=6, video_id=1, category_id=1, bboxes=None,
                          segmentations=[None, polygon, None])],
        categories=[dict(id=1, name='thing')])
    box_only = converter.to_box_only(dataset)
    first, second = box_only['annotations']
    assert first['segmentations'] is None and second['segmentations'] is None
    assert first['bboxes'] == [[1.0, 1.0, 4.0, 4.0], [6.0, 4.0, 10.0, 6.0], None]
    assert second['bboxes'][0] is None and second['bboxes'][2] is None
    x, y, w, h = second['bboxes'][1]
    assert (x, y) == (2.0, 3.0) and 10.0 <= w <= 11.0 and 6.0 <= h <= 7.0
    assert dataset['annotations'][0]['segmentations'] is not None, 'input must not be modified'


def test_bad_input_names_the_problem(converter):
    with pytest.raises(KeyError, match="in.json: missing top-level key 'videos'"):
        converter.to_box_only(dict(annotations=[]), source='in.json')
    dataset = dict(videos=[dict(id=1, height=4, width=4, file_names=['a.jpg'])],
                   annotations=[dict(id=9, video_id=2, bboxes=[[0, 0, 1, 1]])])
    with pytest.raises(KeyError, match='annotation 9 refers to unknown video 2'):
        converter.to_box_only(dataset, source='in.json')
