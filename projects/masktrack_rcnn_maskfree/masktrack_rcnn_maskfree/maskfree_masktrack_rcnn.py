"""MaskTrack R-CNN trained from boxes: mmdet's model, the mask-free losses and the Temporal
KNN-patch loss between its key and reference frames.

Shape letters: B clips of T = 2 frames (one key, one reference), N instances present in both
frames of their clip, S the RoI mask side, h, w the mask grid (stride ``mask_stride``).
"""

from typing import Dict, List, Optional, Tuple

import torch
from mmdet.models.vis import MaskTrackRCNN
from mmdet.registry import MODELS
from mmdet.structures import SampleList, TrackSampleList
from mmdet.utils import ConfigType
from torch import Tensor

from maskfreevis.models.criteria.warmup import linear_warmup_factor, runner_iteration
from maskfreevis.models.task_modules import rasterize_boxes

from .roi_geometry import paste_roi_logits

__all__ = ['MaskFreeMaskTrackRCNN']


@MODELS.register_module()
class MaskFreeMaskTrackRCNN(MaskTrackRCNN):
    """:class:`MaskTrackRCNN` whose masks are learned from boxes only.

    Training losses: mmdet's RPN, box and tracking-embedding losses; the RoI head
    (:class:`MaskFreeRoIHead`) gives ``loss_proj`` and ``loss_pair`` on the positive RoIs of
    the key frame; this model adds ``loss_tk``: every GT instance present in both frames of a
    clip gets its mask predicted on its GT box in each frame (the mask branch on the key and on
    the reference frame's features), both pasted onto their frame's mask grid (background
    outside the box), and the Temporal KNN-patch loss ties them across the two frames. Testing
    (detection, masks and the tracker) is mmdet's.

    Args:
        loss_tk: config of a :class:`maskfreevis.models.losses.TemporalKNNPatchLoss`
            (``loss_weight=0`` turns the term off, the key stays in the loss dict).
        tk_warmup_iters: linear ramp of ``loss_tk`` over the first training iterations (the
            Runner's clock); 0 = none.
        **kwargs: :class:`MaskTrackRCNN` arguments; ``data_preprocessor`` must be a
            ``MaskFreeDataPreprocessor`` whose ``mask_stride`` is the RoI head's.
    """

    def __init__(
        self,
        loss_tk: ConfigType = dict(type='TemporalKNNPatchLoss', pairing='all', loss_weight=0.5),
        tk_warmup_iters: int = 200,
        **kwargs,
    ) -> None:
        super().__init__(**kwargs)
        roi_head = self.detector.roi_head
        if not hasattr(roi_head, 'mask_stride'):
            raise TypeError(
                'MaskFreeMaskTrackRCNN needs detector.roi_head of type MaskFreeRoIHead, got '
                f'{type(roi_head).__name__}'
            )
        preprocessor_stride = getattr(self.data_preprocessor, 'mask_stride', None)
        if preprocessor_stride != roi_head.mask_stride:
            raise ValueError(
                f'data_preprocessor (a {type(self.data_preprocessor).__name__}) must be a '
                "MaskFreeDataPreprocessor with mask_stride equal to the RoI head's "
                f'({roi_head.mask_stride}), got mask_stride={preprocessor_stride}'
            )
        self.loss_tk = MODELS.build(loss_tk)
        self.tk_warmup_iters = int(tk_warmup_iters)

    def loss(self, inputs: Tensor, data_samples: TrackSampleList, **kwargs) -> Dict[str, Tensor]:
        """Box-supervised losses of a batch of key / reference frame pairs.

        Args:
            inputs: ``(B, 2, 3, H, W)`` normalised, padded frames.
            data_samples: B ``TrackDataSample`` with one key and one reference frame each.

        Returns:
            mmdet's RPN, box and tracking losses plus ``loss_proj``, ``loss_pair``, ``loss_tk``.
        """
        if inputs.dim() != 5 or inputs.shape[1] != 2:
            raise ValueError(
                'MaskFreeMaskTrackRCNN trains on clips of one key and one reference frame, '
                f'(B, 2, 3, H, W); got inputs of shape {tuple(inputs.shape)}'
            )
        key_samples = [clip.get_key_frames()[0] for clip in data_samples]
        ref_samples = [clip.get_ref_frames()[0] for clip in data_samples]
        clips = torch.arange(len(inputs), device=inputs.device)
        key_index = inputs.new_tensor(
            [clip.key_frames_inds[0] for clip in data_samples], dtype=torch.long
        )
        x = self.detector.extract_feat(inputs[clips, key_index].contiguous())
        ref_x = self.detector.extract_feat(inputs[clips, 1 - key_index].contiguous())

        proposal_cfg = self.detector.train_cfg.get('rpn_proposal', self.detector.test_cfg.rpn)
        rpn_losses, rpn_results_list = self.detector.rpn_head.loss_and_predict(
            x, key_samples, proposal_cfg=proposal_cfg
        )
        # mmdet's RPN names its losses loss_cls / loss_bbox like the RoI head's
        losses = {
            (f'rpn_{key}' if 'loss' in key and 'rpn' not in key else key): value
            for key, value in rpn_losses.items()
        }
        losses.update(self.detector.roi_head.loss(x, rpn_results_list, key_samples))
        losses.update(self.track_head.loss(x, ref_x, rpn_results_list, data_samples))
        losses['loss_tk'] = self.temporal_loss(x, ref_x, key_samples, ref_samples)
        return losses

    def temporal_loss(
        self,
        x: Tuple[Tensor],
        ref_x: Tuple[Tensor],
        key_samples: SampleList,
        ref_samples: SampleList,
    ) -> Tensor:
        """Temporal KNN-patch loss of the instances present in both frames of their clip.

        Args:
            x: FPN levels of the B key frames.
            ref_x: FPN levels of the B reference frames.
            key_samples: the B key frames' data samples (GT boxes, labels, ``instances_ids``,
                ``mask_grid_lab`` ``(3, h, w)``, ``mask_grid_valid`` ``(h, w)``).
            ref_samples: the B reference frames' data samples, the same fields.

        Returns:
            Scalar ``loss_tk`` (warm-up included); 0 with a gradient without such instances.
        """
        key_boxes, ref_boxes, labels, clip_of = _instances_in_both_frames(key_samples, ref_samples)
        roi_head = self.detector.roi_head
        clip_column = clip_of[:, None].to(key_boxes.dtype)
        key_logits = roi_head.instance_mask_logits(
            x, torch.cat([clip_column, key_boxes], dim=1), labels
        )
        ref_logits = roi_head.instance_mask_logits(
            ref_x, torch.cat([clip_column, ref_boxes], dim=1), labels
        )
        lab = torch.stack(
            [
                torch.stack([k.mask_grid_lab, r.mask_grid_lab])
                for k, r in zip(key_samples, ref_samples)
            ]
        )  # (B, 2, 3, h, w)
        valid = torch.stack(
            [
                torch.stack([k.mask_grid_valid, r.mask_grid_valid])
                for k, r in zip(key_samples, ref_samples)
            ]
        )  # (B, 2, h, w)
        grid_size, stride = lab.shape[-2:], roi_head.mask_stride
        pasted = torch.stack(
            [
                paste_roi_logits(key_logits, key_boxes, grid_size, stride),
                paste_roi_logits(ref_logits, ref_boxes, grid_size, stride),
            ],
            dim=1,
        )  # (N, 2, h, w)
        boxes = torch.stack([key_boxes, ref_boxes], dim=1)  # (N, 2, 4)
        present = torch.ones(boxes.shape[:2], dtype=torch.bool, device=boxes.device)
        box_masks = rasterize_boxes(boxes, present, grid_size, stride).float()
        return self.loss_tk(
            pasted,
            lab,
            box_masks,
            clip_of=clip_of,
            valid_masks=valid.float(),
            weight_scale=self._tk_warmup_factor(),
        )

    def _tk_warmup_factor(self) -> float:
        iteration: Optional[int] = runner_iteration()
        if iteration is None:  # outside a Runner (a bare train step): no ramp
            return 1.0
        return linear_warmup_factor(iteration, self.tk_warmup_iters)


def _instances_in_both_frames(
    key_samples: SampleList, ref_samples: SampleList
) -> Tuple[Tensor, Tensor, Tensor, Tensor]:
    """GT instances of each clip present in its key and its reference frame (same track id).

    Returns:
        ``key_boxes`` ``(N, 4)``, ``ref_boxes`` ``(N, 4)``, ``labels`` ``(N,)`` long (the key
        frame's) and ``clip_of`` ``(N,)`` long.
    """
    key_boxes: List[Tensor] = []
    ref_boxes: List[Tensor] = []
    labels: List[Tensor] = []
    clip_of: List[Tensor] = []
    for clip, (key, ref) in enumerate(zip(key_samples, ref_samples)):
        key_gt, ref_gt = key.gt_instances, ref.gt_instances
        same = key_gt.instances_ids[:, None] == ref_gt.instances_ids[None, :]
        key_rows, ref_rows = same.nonzero(as_tuple=True)
        key_boxes.append(key_gt.bboxes[key_rows].float())
        ref_boxes.append(ref_gt.bboxes[ref_rows].float())
        labels.append(key_gt.labels[key_rows].long())
        clip_of.append(torch.full_like(key_rows, clip))
    return torch.cat(key_boxes), torch.cat(ref_boxes), torch.cat(labels), torch.cat(clip_of)
