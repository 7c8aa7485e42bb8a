"""Per-frame crop and rotation that turn T copies of one image into a moving pseudo-video."""

from typing import Dict, List, Sequence, Tuple, Union

import cv2
import mmcv
import numpy as np
from mmcv.transforms import BaseTransform
from mmcv.transforms.utils import cache_randomness
from mmdet.registry import TRANSFORMS
from mmdet.structures.bbox import BaseBoxes

from .box_clipping import select_instances


def rotate_boxes_to_axis_aligned(
    boxes: np.ndarray, angle: float, center: Tuple[float, float], image_hw: Tuple[int, int]
) -> np.ndarray:
    """Rotate boxes like ``mmcv.imrotate(img, angle, center)`` and take axis-aligned hulls.

    Args:
        boxes: (N, 4) ``x1, y1, x2, y2`` in pixel-edge coordinates.
        angle: Degrees, same sign convention as ``mmcv.imrotate``.
        center: Rotation centre ``(x, y)`` in pixel-index coordinates, as given to
            ``mmcv.imrotate``.
        image_hw: Output image size; hulls are clipped to it.

    Returns:
        (N, 4) float32 clipped hulls of the rotated corners (empty boxes possible).
    """
    # Pixel index i covers [i, i + 1]: the same rotation in edge coordinates is centred 0.5 later.
    matrix = cv2.getRotationMatrix2D((center[0] + 0.5, center[1] + 0.5), -angle, 1.0)
    x1, y1, x2, y2 = np.asarray(boxes, dtype=np.float64).reshape(-1, 4).T
    corners = np.stack(
        [
            np.stack([x1, y1], -1),
            np.stack([x2, y1], -1),
            np.stack([x1, y2], -1),
            np.stack([x2, y2], -1),
        ],
        axis=1,
    )  # (N, 4, 2)
    rotated = corners @ matrix[:, :2].T + matrix[:, 2]
    hulls = np.concatenate([rotated.min(axis=1), rotated.max(axis=1)], axis=1)
    height, width = image_hw
    return np.clip(hulls, 0, [width, height, width, height]).astype(np.float32)


@TRANSFORMS.register_module()
class RandomPseudoVideoWarp(BaseTransform):
    """Warp each frame of a pseudo-video clip differently, along a smooth random trajectory.

    Applied to the whole clip (a dict of per-frame lists, after ``LoadImageFromFile`` and
    ``LoadTrackAnnotations``), so put it between two ``TransformBroadcaster`` blocks. Per clip it
    draws, as in the released COCO joint-training recipe:

    * with probability ``crop_prob``, one crop size (h and w each uniform in ``crop_size``
      ``[lo, hi]``, capped by the image) and two random crop positions; frame i's crop offset is
      interpolated linearly from the first position (frame 0) to the second (frame T-1);
    * T rotation angles uniform in ``[-max_rotate_degree, max_rotate_degree]``, sorted
      (reversed with probability 0.5) so the rotation drifts one way, around one centre drawn in
      ``rotate_center_range`` (fraction of the frame size); the frame size is kept (no expansion).

    Boxes follow the same geometry (rotated corners -> axis-aligned hull, clipped to the frame);
    masks (bitmap or polygon) are cropped and rotated with the image. Boxes that become empty are
    dropped with their labels, ids, flags and masks; instance ids stay as they are, so an object
    keeps one id across the clip.

    Args:
        crop_prob: Probability of cropping the clip.
        crop_size: ``(lo, hi)`` absolute range of crop height and width, pixels.
        max_rotate_degree: Largest absolute rotation angle, degrees.
        rotate_center_range: ``(lo, hi)`` range of the rotation centre as a fraction of width
            and height.
        img_border_value: Fill value for image pixels rotated in from outside.
    """

    def __init__(
        self,
        crop_prob: float = 0.5,
        crop_size: Sequence[int] = (384, 600),
        max_rotate_degree: float = 15.0,
        rotate_center_range: Sequence[float] = (0.4, 0.6),
        img_border_value: Union[float, Sequence[float]] = 0,
    ) -> None:
        if not 0 <= crop_prob <= 1:
            raise ValueError(f'crop_prob must be in [0, 1], got {crop_prob}')
        if len(crop_size) != 2 or not 0 < crop_size[0] <= crop_size[1]:
            raise ValueError(f'crop_size must be (lo, hi) with 0 < lo <= hi, got {crop_size}')
        if max_rotate_degree < 0:
            raise ValueError(f'max_rotate_degree must be >= 0, got {max_rotate_degree}')
        self.crop_prob = crop_prob
        self.crop_size = tuple(int(s) for s in crop_size)
        self.max_rotate_degree = float(max_rotate_degree)
        self.rotate_center_range = tuple(rotate_center_range)
        self.img_border_value = img_border_value

    @cache_randomness
    def _sample_clip_params(self, image_hw: Tuple[int, int], num_frames: int) -> Dict:
        """Draw crop trajectory, angles and rotation centre for one clip (see class docstring)."""
        height, width = image_hw
        params: Dict = dict(crop_hw=None)
        if np.random.rand() < self.crop_prob:
            low, high = self.crop_size
            crop_h = np.random.randint(min(low, height), min(high, height) + 1)
            crop_w = np.random.randint(min(low, width), min(high, width) + 1)
            params['crop_hw'] = (crop_h, crop_w)
            params['crop_start_yx'] = (
                np.random.randint(height - crop_h + 1),
                np.random.randint(width - crop_w + 1),
            )
            params['crop_end_yx'] = (
                np.random.randint(height - crop_h + 1),
                np.random.randint(width - crop_w + 1),
            )
        angles = np.sort(
            np.random.uniform(-self.max_rotate_degree, self.max_rotate_degree, size=num_frames)
        )
        params['angles'] = angles[::-1] if np.random.rand() < 0.5 else angles
        params['center_rel_xy'] = np.random.uniform(*self.rotate_center_range, size=2)
        return params

    def transform(self, results: Dict[str, List]) -> Dict[str, List]:
        """Warp every frame of the clip; see the class docstring.

        Args:
            results: Dict of per-frame lists: ``img`` (H, W, C) arrays of one size, ``img_shape``
                and optionally ``gt_bboxes`` (N_t, 4), ``gt_bboxes_labels``, ``gt_ignore_flags``,
                ``gt_instances_ids``, ``gt_masks``.

        Returns:
            The same dict with warped images (all of one, possibly cropped, size) and boxes.
        """
        images = results.get('img')
        if not isinstance(images, list):
            raise TypeError(
                'RandomPseudoVideoWarp works on a whole clip (per-frame lists): use '
                'it after a TransformBroadcaster that loads the frames, not inside one'
            )
        sizes = {img.shape[:2] for img in images}
        if len(sizes) != 1:
            raise ValueError(f'RandomPseudoVideoWarp needs frames of one size, got {sorted(sizes)}')
        num_frames = len(images)
        params = self._sample_clip_params(images[0].shape[:2], num_frames)
        for index in range(num_frames):
            frame = {
                key: value[index]
                for key, value in results.items()
                if isinstance(value, list) and len(value) == num_frames
            }
            progress = index / (num_frames - 1) if num_frames > 1 else 0.0
            self._warp_frame(frame, params, progress, float(params['angles'][index]))
            for key, value in frame.items():
                results[key][index] = value
        return results

    def _warp_frame(self, frame: dict, params: Dict, progress: float, angle: float) -> None:
        """Crop (at the interpolated offset) and rotate one frame in place."""
        img = frame['img']
        boxes = frame.get('gt_bboxes')
        box_type = type(boxes) if isinstance(boxes, BaseBoxes) else None
        if boxes is not None:
            boxes = boxes.numpy() if box_type else np.asarray(boxes, dtype=np.float32)
            boxes = boxes.reshape(-1, 4).copy()
        masks = frame.get('gt_masks')
        if params['crop_hw'] is not None:
            crop_h, crop_w = params['crop_hw']
            (y0, x0), (y1, x1) = params['crop_start_yx'], params['crop_end_yx']
            top = int(round(y0 + (y1 - y0) * progress))
            left = int(round(x0 + (x1 - x0) * progress))
            img = img[top : top + crop_h, left : left + crop_w]
            if boxes is not None:
                boxes -= np.array([left, top, left, top], dtype=np.float32)
            if masks is not None:
                masks = masks.crop(np.array([left, top, left + crop_w, top + crop_h]))
        height, width = img.shape[:2]
        center = (
            float(params['center_rel_xy'][0] * (width - 1)),
            float(params['center_rel_xy'][1] * (height - 1)),
        )
        frame['img'] = mmcv.imrotate(img, angle, center=center, border_value=self.img_border_value)
        frame['img_shape'] = (height, width)
        if masks is not None:
            frame['gt_masks'] = masks.rotate((height, width), angle, center=center)
        if boxes is not None:
            boxes = rotate_boxes_to_axis_aligned(boxes, angle, center, (height, width))
            frame['gt_bboxes'] = box_type(boxes) if box_type else boxes
            keep = (boxes[:, 2] > boxes[:, 0]) & (boxes[:, 3] > boxes[:, 1])
            if not keep.all():
                select_instances(frame, keep)

    def __repr__(self) -> str:
        return (
            f'{type(self).__name__}(crop_prob={self.crop_prob}, crop_size={self.crop_size}, '
            f'max_rotate_degree={self.max_rotate_degree}, '
            f'rotate_center_range={self.rotate_center_range}, '
            f'img_border_value={self.img_border_value})'
        )
