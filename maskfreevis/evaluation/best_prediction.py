"""Mask quality whatever the class: the best prediction of each ground-truth object of a video."""

from typing import Dict, List, Sequence, Tuple

import numpy as np
import pycocotools.mask as mask_utils
import torch
from mmdet.structures import TrackDataSample

from maskfreevis.datasets.vis_json_formats import segmentation_to_rle

__all__ = ['best_predictions', 'summarise_best_predictions']


def _gt_tracks(video: TrackDataSample) -> Tuple[torch.Tensor, List[int]]:
    """GT masks ``(M, T*H*W)`` float of the video's M objects (zeros where absent) and their
    labels; masks are json segmentations (RLE or polygons) in the frames' ``instances``."""
    num_frames = len(video)
    height, width = video[0].metainfo['ori_shape'][:2]
    masks: Dict[int, np.ndarray] = {}
    labels: Dict[int, int] = {}
    for t in range(num_frames):
        for inst in video[t].metainfo.get('instances', []):
            track = masks.setdefault(
                inst['instance_id'], np.zeros((num_frames, height, width), np.uint8)
            )
            if inst.get('mask'):
                track[t] = mask_utils.decode(segmentation_to_rle(inst['mask'], height, width))
            labels[inst['instance_id']] = int(inst['bbox_label'])
    if not masks:
        return torch.zeros(0, num_frames * height * width), []
    gt = torch.from_numpy(np.stack(list(masks.values()))).flatten(1).float()
    return gt, [labels[instance_id] for instance_id in masks]


def best_predictions(video: TrackDataSample) -> List[Tuple[float, bool]]:
    """Per GT object of a video: the highest video-level mask IoU of any prediction (class and
    score ignored), and whether that prediction has the object's category.

    The IoU measures mask quality apart from classification, which AP mixes; the category check
    tells how often the classifier is what fails.

    Args:
        video: T frames with ``pred_track_instances.masks`` ``(N, H, W)`` and ``labels (N,)``
            (the same N tracks in every frame) and GT ``instances`` in the metainfo, each with
            ``instance_id``, ``bbox_label`` and ``mask`` (RLE or polygons at ``ori_shape``).

    Returns:
        One ``(iou, same_category)`` per GT object, in order of first appearance; ``(0.0, False)``
        for every object when there is no prediction; ``[]`` without GT objects.
    """
    gt, gt_labels = _gt_tracks(video)
    if not gt_labels:
        return []
    pred = (
        torch.stack([video[t].pred_track_instances.masks for t in range(len(video))], 1)
        .flatten(1)
        .float()
    )  # (N, T*H*W)
    if pred.shape[0] == 0:
        return [(0.0, False)] * len(gt_labels)
    pred_labels = video[0].pred_track_instances.labels  # one label per video-level track
    inter = pred @ gt.T  # (N, M)
    union = pred.sum(1, keepdim=True) + gt.sum(1) - inter
    best_iou, best = (inter / union.clamp(min=1)).max(0)
    return [
        (float(iou), int(pred_labels[index]) == label)
        for iou, index, label in zip(best_iou, best, gt_labels)
    ]


def summarise_best_predictions(matches: Sequence[Tuple[float, bool]]) -> Dict[str, float]:
    """Mean IoU, share of objects above IoU 0.5 and share with the right category.

    Args:
        matches: ``(iou, same_category)`` per GT object, as :func:`best_predictions` gives.

    Returns:
        ``best_prediction_iou/mean``, ``best_prediction_iou/above_0.5`` and
        ``best_prediction_iou/class_accuracy``; NaN each without objects.
    """
    if not matches:
        return {
            f'best_prediction_iou/{key}': float('nan')
            for key in ('mean', 'above_0.5', 'class_accuracy')
        }
    ious = np.array([iou for iou, _ in matches])
    same_category = np.array([same for _, same in matches])
    return {
        'best_prediction_iou/mean': float(ious.mean()),
        'best_prediction_iou/above_0.5': float((ious > 0.5).mean()),
        'best_prediction_iou/class_accuracy': float(same_category.mean()),
    }
