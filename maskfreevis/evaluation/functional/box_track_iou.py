"""Box IoU of whole tracks (the YouTube-VIS video IoU, with boxes in place of masks).

Definition (the one YouTube-VIS uses for masks, ``ytviseval.computeIoU``, applied to boxes): for a
predicted track ``d`` and a ground-truth track ``g`` over the ``T`` frames of one video,

    IoU(d, g) = sum_t |d_t ∩ g_t| / sum_t |d_t ∪ g_t|,   |d_t ∪ g_t| = |d_t| + |g_t| - |d_t ∩ g_t|

where ``|.|`` is a box area in pixels (xyxy, pixel-edge coordinates, so ``[0, 0, 10, 10]`` covers
100 pixels). A track absent from a frame has an empty box there (area 0): a frame where only one
is present adds that box's area to the union, a frame where both are absent adds nothing.
IoU is 0 when the union over the whole video is empty.
"""

from typing import Optional, Sequence

import numpy as np


def track_boxes_to_array(tracks: Sequence[Sequence[Optional[Sequence[float]]]]) -> np.ndarray:
    """Stack YouTube-VIS per-frame boxes (xywh or ``None`` when absent) into one xyxy array.

    Args:
        tracks: N tracks, each a list of T entries ``[x, y, w, h]`` or ``None``.

    Returns:
        float64 array ``(N, T, 4)``, xyxy; absent frames are all-zero boxes (area 0).
    """
    if len(tracks) == 0:
        return np.zeros((0, 0, 4))
    num_frames = {len(track) for track in tracks}
    if len(num_frames) != 1:
        raise ValueError(
            f'tracks of one video must have the same number of frames, got {num_frames}'
        )
    boxes = np.zeros((len(tracks), num_frames.pop(), 4))
    for track_index, track in enumerate(tracks):
        present = [t for t, box in enumerate(track) if box is not None]
        if present:
            boxes[track_index, present] = [track[t] for t in present]
    boxes[..., 2:] += boxes[..., :2]
    return boxes


def box_track_iou(pred_boxes: np.ndarray, gt_boxes: np.ndarray) -> np.ndarray:
    """Video-level box IoU between every predicted and every ground-truth track.

    Args:
        pred_boxes: ``(D, T, 4)`` xyxy boxes of D predicted tracks; absent = zero-area box.
        gt_boxes: ``(G, T, 4)`` xyxy boxes of G ground-truth tracks; absent = zero-area box.

    Returns:
        ``(D, G)`` IoU of the tracks over the video (see the module docstring).
    """
    if pred_boxes.shape[1:] != gt_boxes.shape[1:]:
        raise ValueError(
            f'predicted and ground-truth tracks cover different frames: {pred_boxes.shape} vs '
            f'{gt_boxes.shape}'
        )
    pred = pred_boxes[:, None]  # (D, 1, T, 4)
    gt = gt_boxes[None]  # (1, G, T, 4)
    overlap_wh = np.clip(
        np.minimum(pred[..., 2:], gt[..., 2:]) - np.maximum(pred[..., :2], gt[..., :2]), 0, None
    )
    intersection = overlap_wh.prod(-1)  # (D, G, T)
    pred_area = np.clip(pred[..., 2:] - pred[..., :2], 0, None).prod(-1)
    gt_area = np.clip(gt[..., 2:] - gt[..., :2], 0, None).prod(-1)
    union = (pred_area + gt_area - intersection).sum(-1)
    intersection = intersection.sum(-1)
    return np.divide(intersection, union, out=np.zeros_like(union), where=union > 0)
