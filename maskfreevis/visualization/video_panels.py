"""Side-by-side panels of one video: input | ground truth | prediction, per frame."""

from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
import pycocotools.mask as mask_utils

from maskfreevis.datasets.vis_json_formats import segmentation_to_rle

from .drawing import draw_instances, draw_video

__all__ = ['gt_instances_of_video', 'draw_comparison_panels']


def gt_instances_of_video(annotations: Sequence[dict], video: dict) -> List[Dict[str, object]]:
    """The ground-truth masks of one video of a YouTube-VIS json, frame by frame.

    Args:
        annotations: the json's ``annotations`` (tracks with per-frame ``segmentations``: RLE,
            uncompressed RLE, polygons or null); only those of ``video`` are used.
        video: the json's video entry (``id``, ``length``, ``height``, ``width``).

    Returns:
        One dict per frame: ``masks`` (K, H, W) bool of the K objects present in that frame and
        ``ids`` (K,) their 1-based rank among the video's annotations (stable colours).
    """
    height, width = video['height'], video['width']
    tracks = [ann for ann in annotations if ann['video_id'] == video['id']]
    frames = []
    for frame in range(video['length']):
        masks, ids = [], []
        for rank, ann in enumerate(tracks, start=1):
            segmentation = (ann.get('segmentations') or [None] * video['length'])[frame]
            if segmentation:
                rle = segmentation_to_rle(segmentation, height, width)
                masks.append(mask_utils.decode(rle).astype(bool))
                ids.append(rank)
        frames.append(dict(masks=np.array(masks, dtype=bool).reshape(-1, height, width), ids=ids))
    return frames


def draw_comparison_panels(
    frames: Sequence[np.ndarray],
    gt_frames: Sequence[dict],
    predictions: Sequence,
    class_names: Optional[Sequence[str]] = None,
    score_thr: float = 0.3,
    upscale: int = 3,
) -> Tuple[List[np.ndarray], List[np.ndarray], List[np.ndarray]]:
    """Draw a video's ground truth and predictions and put them next to the input.

    Args:
        frames: T RGB frames (H, W, 3) uint8.
        gt_frames: T dicts as :func:`gt_instances_of_video` returns.
        predictions: T per-frame predictions as :func:`maskfreevis.apis.inference_vis` returns.
        class_names: names for the predicted labels.
        score_thr: predictions scoring below this are not drawn.
        upscale: integer magnification of every panel.

    Returns:
        ``panels`` T (H*u, 3*W*u, 3) uint8 (input | ground truth | prediction), and the drawn
        ground truth and predictions alone, T (H*u, W*u, 3) uint8 each.
    """
    if not len(frames) == len(gt_frames) == len(predictions):
        raise ValueError(
            f'{len(frames)} frames, {len(gt_frames)} ground-truth frames and '
            f'{len(predictions)} predicted frames; they must be equal'
        )
    drawn_pred = draw_video(frames, predictions, class_names, score_thr, upscale)
    drawn_gt = [
        draw_instances(frame, gt['masks'], gt['ids'], upscale=upscale)
        for frame, gt in zip(frames, gt_frames)
    ]
    raw = [np.repeat(np.repeat(frame, upscale, 0), upscale, 1) for frame in frames]
    panels = [np.concatenate(row, 1) for row in zip(raw, drawn_gt, drawn_pred)]
    return panels, drawn_gt, drawn_pred
