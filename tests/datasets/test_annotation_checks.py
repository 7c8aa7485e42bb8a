"""Box sanitising, label lookup and skip counting shared by the datasets."""

import logging

import numpy as np
import pycocotools.mask as mask_utils
import pytest
from PIL import Image

from maskfreevis.datasets.annotation_checks import (
    BOX_CLIPPED,
    BOX_EMPTY,
    BOX_OUTSIDE,
    BOX_VALID,
    AnnotationError,
    SkipCounter,
    as_int_array,
    box_format_mistake,
    decode_compressed_rle_counts,
    diagnose_frames,
    exif_orientation,
    lookup_labels,
    sanitize_xywh_boxes,
    segmentation_problems,
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


def runs_of(mask: np.ndarray) -> list:
    """Uncompressed COCO RLE counts of a (H, W) mask (column-major, starting with 0s)."""
    flat = mask.T.reshape(-1).astype(np.int64)
    bounds = np.concatenate([[0], np.flatnonzero(np.diff(flat)) + 1, [len(flat)]])
    runs = np.diff(bounds).tolist()
    return [0] + runs if flat[0] == 1 else runs


def test_compressed_rle_counts_decode_as_pycocotools_encodes():
    rng = np.random.default_rng(0)
    masks = [rng.random((h, w)) < p for h, w, p in ((7, 9, 0.5), (40, 31, 0.1), (1, 1, 1.0))]
    masks.append(np.zeros((300, 200), bool))  # one count of 60000: a multi-character count
    strings = [
        mask_utils.encode(np.asfortranarray(m.astype(np.uint8)))['counts'].decode() for m in masks
    ]
    counts, owner, well_formed = decode_compressed_rle_counts(strings)
    assert well_formed.all()
    for index, mask in enumerate(masks):
        assert counts[owner == index].tolist() == runs_of(mask)
    # large and repeated counts survive the difference coding
    runs = rng.integers(0, 70000, 41).tolist()
    rle = mask_utils.frPyObjects(dict(size=[1, sum(runs)], counts=runs), 1, sum(runs))
    counts, _, well_formed = decode_compressed_rle_counts([rle['counts'].decode()])
    assert well_formed.all() and counts.tolist() == runs


def test_corrupt_compressed_rle_counts_are_not_well_formed():
    good = mask_utils.encode(np.asfortranarray(np.eye(6, dtype=np.uint8)))['counts'].decode()
    strings = [good, good + 'o', good + '~', 'é' + good, good[:-1] + 'P', '']
    _, _, well_formed = decode_compressed_rle_counts(strings)
    # cut in the middle of a count, outside the alphabet, non-ASCII, a negative count
    assert well_formed.tolist() == [True, False, False, False, False, True]


def test_segmentation_problems_name_each_bad_mask():
    mask = np.zeros((4, 6), np.uint8)
    mask[1:3, 2:5] = 1
    rle = mask_utils.encode(np.asfortranarray(mask))
    rle['counts'] = rle['counts'].decode()
    segmentations = [
        None,
        rle,
        [[0, 0, 4, 0, 4, 3]],
        dict(rle, counts=rle['counts'][:-1]),  # cut short
        dict(size=[4, 6], counts=runs_of(mask)),
        dict(size=[4, 6], counts=runs_of(mask)[:-1]),
        [[0, 0, 4, 3]],  # 2 points
        [0, 0, 4, 0, 4, 3],  # not nested
        dict(size=[6, 4], counts=rle['counts']),  # width and height swapped
        dict(counts=rle['counts']),
        'polygon',
        [[0, 0, 4, 0, float('nan'), 3]],
    ]
    problems = dict(
        segmentation_problems(segmentations, np.tile([[4, 6]], (len(segmentations), 1)))
    )
    assert sorted(problems) == [3, 5, 6, 7, 8, 9, 10, 11]
    assert problems[3].startswith('RLE counts sum to')
    assert 'not height x width = 4 x 6 = 24' in problems[3]
    assert problems[5] == (
        f'RLE counts sum to {24 - runs_of(mask)[-1]}, not height x width = 4 x 6 = 24: the mask '
        'is cut short or corrupt'
    )
    assert 'polygon 0 must list at least 3 points' in problems[6] and 'got 4 values' in problems[6]
    assert 'must be a list of polygons' in problems[7]
    assert problems[8] == 'RLE size [6, 4] is not the frame size [height, width] = [4, 6]'
    assert 'needs "size" and "counts"' in problems[9]
    assert 'got str' in problems[10]
    assert 'finite numbers' in problems[11]


def test_box_format_mistakes_are_told_from_the_boxes_statistics():
    rng = np.random.default_rng(0)
    frame_wh = np.tile([[640, 360]], (40, 1))
    x, y = rng.uniform(0, 560, 40), rng.uniform(0, 300, 40)
    w, h = rng.uniform(2, 640 - x), rng.uniform(2, 360 - y)
    xywh = np.stack([x, y, w, h], 1)
    assert box_format_mistake(xywh, frame_wh) is None
    kind, rows = box_format_mistake(np.stack([x, y, x + w, y + h], 1), frame_wh)
    past = (2 * x + w > 641) | (2 * y + h > 361)
    assert kind == 'corners' and rows.tolist() == np.flatnonzero(past).tolist()
    kind, rows = box_format_mistake(xywh / [640, 360, 640, 360], frame_wh)
    assert kind == 'normalised' and len(rows) == 40
    # amodal boxes running past the border, tiny objects, a single box: not a mistake
    amodal = np.concatenate([xywh, [[600, 200, 80, 200], [-20, 100, 60, 300]]])
    assert box_format_mistake(amodal, np.tile([[640, 360]], (42, 1))) is None
    tiny = np.array([[100, 50, 1.2, 1.0], [0.5, 0.5, 1, 1], [300, 200, 1, 1.4]])
    assert box_format_mistake(tiny, frame_wh[:3]) is None
    assert box_format_mistake(np.array([[100, 50, 600, 300]]), frame_wh[:1]) is None
    # boxes not usable for the statistics are left out
    assert box_format_mistake(np.array([[np.nan, 0, 1, 1], [0, 0, 0, 5]]), frame_wh[:2]) is None


def test_exif_orientation_is_read_and_reported(tmp_path):
    plain, tagged = str(tmp_path / 'plain.jpg'), str(tmp_path / 'tagged.jpg')
    Image.new('RGB', (12, 8)).save(plain)
    exif = Image.Exif()
    exif[0x0112] = 8
    Image.new('RGB', (12, 8)).save(tagged, exif=exif.tobytes())
    (tmp_path / 'broken.jpg').write_bytes(b'not an image')
    assert exif_orientation(plain) == 1 and exif_orientation(tagged) == 8
    assert exif_orientation(str(tmp_path / 'broken.jpg')) == 1
    assert diagnose_frames([plain]) == []
    assert diagnose_frames([tagged]) == [
        f'{tagged} has an EXIF orientation tag (8: rotated 270 degrees); decoders that apply it '
        'turn the frame'
    ]
