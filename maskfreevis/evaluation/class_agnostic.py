"""A class-agnostic view of a predicted video: every category merged into one."""

import torch
from mmdet.structures import TrackDataSample
from mmengine.structures import InstanceData

__all__ = ['class_agnostic_view']


def class_agnostic_view(video: TrackDataSample) -> TrackDataSample:
    """The same video with every GT and predicted instance in one class (label 0).

    Mask2Former-VIS outputs its top (query, class) pairs, so one query can appear with several
    classes; those copies have identical masks and are merged (the highest score kept) so that a
    duplicate is not counted as a false positive by a class-agnostic AP.

    Args:
        video: T frames, each with ``pred_track_instances`` (``masks (N, H, W)``, ``bboxes
            (N, 4)``, ``scores (N,)``, ``labels (N,)``; the same N tracks in every frame) and
            the GT ``instances`` in its metainfo.

    Returns:
        A new sample of T frames with ``M <= N`` predicted tracks (``labels`` all 0,
        ``instances_id`` 0..M-1) and every GT ``bbox_label`` set to 0; ``video`` is unchanged.
    """
    frames = [video[t] for t in range(len(video))]
    preds = [frame.pred_track_instances for frame in frames]
    stacked = torch.stack([p.masks for p in preds], 1).flatten(1)  # (N, T*H*W)
    unique, group = torch.unique(stacked, dim=0, return_inverse=True)
    scores = (
        preds[0]
        .scores.new_full((len(unique),), -1.0)
        .scatter_reduce(0, group, preds[0].scores, 'amax')
    )
    order = torch.arange(len(group))
    keep = order.new_full((len(unique),), len(group)).scatter_reduce(0, group, order, 'amin')
    agnostic = []
    for frame, pred in zip(frames, preds):
        frame = frame.clone()
        frame.set_metainfo(
            dict(
                instances=[dict(inst, bbox_label=0) for inst in frame.metainfo.get('instances', [])]
            )
        )
        frame.pred_track_instances = InstanceData(
            masks=pred.masks[keep],
            bboxes=pred.bboxes[keep],
            scores=scores,
            labels=torch.zeros_like(pred.labels[keep]),
            instances_id=torch.arange(len(keep)),
        )
        agnostic.append(frame)
    return TrackDataSample(video_data_samples=agnostic)
