"""RandomPseudoVideoWarp: crop trajectory, sorted rotations, boxes and masks follow the image."""

import mmcv
import numpy as np
import pytest
from mmdet.structures.mask import BitmapMasks, PolygonMasks

from maskfreevis.datasets import RandomPseudoVideoWarp
from maskfreevis.datasets.transforms.pseudo_video_warp import rotate_boxes_to_axis_aligned

H, W = 40, 60


def coordinate_image():
    """img[y, x] = (y, x, 0): a pixel tells where it came from."""
    ys, xs = np.mgrid[0:H, 0:W]
    return np.stack([ys, xs, np.zeros_like(ys)], axis=-1).astype(np.uint8)


def clip_results(num_frames, boxes, masks=None):
    boxes = np.asarray(boxes, dtype=np.float32)
    num = len(boxes)
    results = dict(
        img=[coordinate_image() for _ in range(num_frames)],
        img_shape=[(H, W)] * num_frames,
        gt_bboxes=[boxes.copy() for _ in range(num_frames)],
        gt_bboxes_labels=[np.arange(num, dtype=np.int64) for _ in range(num_frames)],
        gt_ignore_flags=[np.zeros(num, dtype=bool) for _ in range(num_frames)],
        gt_instances_ids=[np.arange(num, dtype=np.int32) + 1 for _ in range(num_frames)],
        frame_id=list(range(num_frames)),
    )
    if masks is not None:
        results['gt_masks'] = [masks for _ in range(num_frames)]
    return results


def rectangle_masks(boxes):
    masks = np.zeros((len(boxes), H, W), dtype=np.uint8)
    for index, (x1, y1, x2, y2) in enumerate(boxes):
        masks[index, y1:y2, x1:x2] = 1
    return BitmapMasks(masks, H, W)


def tight_box(mask):
    ys, xs = np.nonzero(mask)
    return np.array([xs.min(), ys.min(), xs.max() + 1, ys.max() + 1])


def test_box_rotation_matches_image_rotation_by_hand():
    # 90 degrees about pixel (9.5, 9.5) of a 20x20 image maps pixel (x, y) -> (19 - y, x), so
    # pixels x in [2, 6), y in [4, 10) land on x in [10, 16), y in [2, 6).
    hull = rotate_boxes_to_axis_aligned(np.array([[2, 4, 6, 10]]), 90, (9.5, 9.5), (20, 20))
    np.testing.assert_allclose(hull, [[10, 2, 16, 6]], atol=1e-5)
    img = np.zeros((20, 20), dtype=np.uint8)
    img[4:10, 2:6] = 1
    rotated = mmcv.imrotate(img, 90, center=(9.5, 9.5), interpolation='nearest')
    np.testing.assert_array_equal(tight_box(rotated), [10, 2, 16, 6])


def test_crop_offset_moves_linearly_and_boxes_follow():
    warp = RandomPseudoVideoWarp(crop_prob=1.0, crop_size=(20, 30), max_rotate_degree=0)
    box = np.array([10, 12, 30, 25], dtype=np.float32)
    for seed in range(5):
        np.random.seed(seed)
        out = warp(clip_results(5, [box]))
        shapes = {img.shape[:2] for img in out['img']}
        assert len(shapes) == 1
        crop_h, crop_w = shapes.pop()
        assert 20 <= crop_h <= 30 and 20 <= crop_w <= 30
        offsets = np.array([img[0, 0, :2] for img in out['img']], dtype=np.float64)  # (y, x)
        expected = np.round(offsets[0] + (offsets[-1] - offsets[0]) * np.linspace(0, 1, 5)[:, None])
        np.testing.assert_array_equal(offsets, expected)
        for frame, (top, left) in enumerate(offsets):
            assert out['img_shape'][frame] == (crop_h, crop_w)
            shifted = box - [left, top, left, top]
            clipped = np.clip(shifted, 0, [crop_w, crop_h, crop_w, crop_h])
            if (clipped[2:] > clipped[:2]).all():
                np.testing.assert_allclose(out['gt_bboxes'][frame], [clipped])
            else:
                assert len(out['gt_bboxes'][frame]) == 0


def test_rotation_angles_sorted_bounded_and_masks_inside_boxes():
    warp = RandomPseudoVideoWarp(crop_prob=0.0, max_rotate_degree=15)
    boxes = [[8, 6, 26, 20], [30, 15, 50, 33]]
    descending = 0
    for seed in range(6):
        np.random.seed(seed)
        params = warp._sample_clip_params((H, W), 5)
        angles = np.asarray(params['angles'])
        assert (np.abs(angles) <= 15).all()
        steps = np.diff(angles)
        assert (steps >= 0).all() or (steps <= 0).all()
        descending += (steps < 0).all()
        center_rel = np.asarray(params['center_rel_xy'])
        assert ((center_rel >= 0.4) & (center_rel <= 0.6)).all()

        np.random.seed(seed)
        out = warp(clip_results(5, boxes, rectangle_masks(boxes)))
        for frame in range(5):
            assert out['img'][frame].shape[:2] == (H, W)
            assert out['gt_instances_ids'][frame].tolist() == [1, 2]
            for box, mask in zip(out['gt_bboxes'][frame], out['gt_masks'][frame].masks):
                # A rotated rectangle's corner hull is its tight box: the rotated mask must
                # fill it up to resampling (a wrong angle sign or centre would be off by pixels).
                np.testing.assert_allclose(tight_box(mask), box, atol=1.5)
    assert 0 < descending < 6  # both directions occur


class FixedWarp(RandomPseudoVideoWarp):
    """Deterministic parameters, to check what happens to boxes that leave the frame."""

    def _sample_clip_params(self, image_hw, num_frames):
        return dict(
            crop_hw=(12, 16),
            crop_start_yx=(0, 0),
            crop_end_yx=(0, 0),
            angles=np.zeros(num_frames),
            center_rel_xy=np.array([0.5, 0.5]),
        )


def test_boxes_leaving_the_crop_are_dropped_with_aligned_keys():
    boxes = [[2, 2, 6, 6], [40, 30, 50, 38], [10, 8, 30, 20]]
    out = FixedWarp()(clip_results(3, boxes, rectangle_masks(boxes)))
    for frame in range(3):
        np.testing.assert_allclose(out['gt_bboxes'][frame], [[2, 2, 6, 6], [10, 8, 16, 12]])
        assert out['gt_instances_ids'][frame].tolist() == [1, 3]
        assert out['gt_bboxes_labels'][frame].tolist() == [0, 2]
        assert out['gt_masks'][frame].masks.shape == (2, 12, 16)
        np.testing.assert_array_equal(tight_box(out['gt_masks'][frame].masks[1]), [10, 8, 16, 12])


def test_polygon_masks_are_warped_too():
    boxes = [[8, 6, 26, 20]]
    polygons = PolygonMasks([[np.array([8, 6, 26, 6, 26, 20, 8, 20], dtype=np.float64)]], H, W)
    np.random.seed(3)
    out = RandomPseudoVideoWarp(crop_prob=1.0, crop_size=(30, 40))(clip_results(3, boxes, polygons))
    for frame in range(3):
        assert isinstance(out['gt_masks'][frame], PolygonMasks)
        assert len(out['gt_masks'][frame]) == len(out['gt_bboxes'][frame])
        assert out['gt_masks'][frame].height == out['img_shape'][frame][0]


def test_rejects_a_single_frame_dict():
    with pytest.raises(TypeError, match='whole clip'):
        RandomPseudoVideoWarp()(dict(img=coordinate_image(), img_shape=(H, W)))
