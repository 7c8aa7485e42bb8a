"""Mask R-CNN RoI head whose mask branch learns from boxes: projection on the RoI, colour pairwise
on the frame's mask grid.

Shape letters: G frames in the batch, P positive RoIs, C classes, S the RoI mask side, h, w the
mask grid (stride ``mask_stride``).
"""

from typing import List, Tuple

import torch
from mmdet.models.roi_heads import StandardRoIHead
from mmdet.models.task_modules.samplers import SamplingResult
from mmdet.registry import MODELS
from mmdet.structures import SampleList
from mmdet.structures.bbox import bbox2roi
from mmdet.utils import ConfigType, InstanceList
from torch import Tensor

from maskfreevis.models.task_modules import rasterize_boxes

from .roi_geometry import paste_roi_logits, roi_box_masks

__all__ = ['MaskFreeRoIHead']


@MODELS.register_module()
class MaskFreeRoIHead(StandardRoIHead):
    """:class:`StandardRoIHead` trained without masks.

    The box branch is mmdet's. The mask branch of every positive RoI gets, instead of the mask
    BCE:

    * ``loss_proj``: box projection loss between the RoI's mask (its GT class channel, S x S) and
      the GT box drawn on the RoI's cells (:func:`roi_box_masks`);
    * ``loss_pair``: colour pairwise loss on the frame: the RoI logits pasted onto the frame's
      mask grid (:func:`paste_roi_logits`, background outside the RoI) against the frame's Lab
      colours, weighted inside the GT box.

    The frame colours come from :class:`maskfreevis.models.data_preprocessors.
    MaskFreeDataPreprocessor` (``mask_grid_lab``, ``mask_grid_valid`` of each frame's data
    sample), whose ``mask_stride`` must equal this head's. Testing is mmdet's.

    Args:
        loss_proj: config of a :class:`maskfreevis.models.losses.BoxProjectionLoss`.
        loss_pair: config of a :class:`maskfreevis.models.losses.PairwiseColourLoss`.
        mask_stride: input pixels per cell of the frame's mask grid.
        **kwargs: :class:`StandardRoIHead` arguments (``mask_head`` etc.).
    """

    def __init__(
        self,
        loss_proj: ConfigType = dict(type='BoxProjectionLoss', loss_weight=1.0),
        loss_pair: ConfigType = dict(type='PairwiseColourLoss', loss_weight=1.0),
        mask_stride: int = 4,
        **kwargs,
    ) -> None:
        super().__init__(**kwargs)
        if not self.with_mask:
            raise ValueError('MaskFreeRoIHead trains a mask branch: give it a mask_head')
        self.loss_proj = MODELS.build(loss_proj)
        self.loss_pair = MODELS.build(loss_pair)
        self.mask_stride = int(mask_stride)

    def loss(
        self, x: Tuple[Tensor], rpn_results_list: InstanceList, batch_data_samples: SampleList
    ):
        """mmdet's RoI losses with the box-supervised mask terms (see the class doc).

        Args:
            x: FPN levels, each ``(G, C_l, H_l, W_l)``.
            rpn_results_list: G proposal sets.
            batch_data_samples: G frames' data samples with ``gt_instances`` (boxes, labels) and
                the mask-grid colours of the data preprocessor.

        Returns:
            The loss dict: ``loss_cls``, ``acc``, ``loss_bbox``, ``loss_proj``, ``loss_pair``.
        """
        for index, sample in enumerate(batch_data_samples):
            if 'mask_grid_lab' not in sample or 'mask_grid_valid' not in sample:
                raise KeyError(
                    f'frame {index} of the batch (video {sample.metainfo.get("video_id", "?")}) '
                    "has no mask_grid_lab / mask_grid_valid: MaskFreeRoIHead needs the model's "
                    'data_preprocessor to be a MaskFreeDataPreprocessor'
                )
            # mmdet hands mask_loss the frames' GT instances only; the colours ride along as
            # their metainfo (no per-instance length to satisfy)
            sample.gt_instances.set_metainfo(
                dict(mask_grid_lab=sample.mask_grid_lab, mask_grid_valid=sample.mask_grid_valid)
            )
        return super().loss(x, rpn_results_list, batch_data_samples)

    def instance_mask_logits(self, x: Tuple[Tensor], rois: Tensor, labels: Tensor) -> Tensor:
        """The mask logits of each RoI in the channel of its class.

        Args:
            x: FPN levels of the frames the RoIs index.
            rois: ``(P, 5)`` ``(frame index, x1, y1, x2, y2)``.
            labels: ``(P,)`` long class of each RoI.

        Returns:
            ``(P, S, S)`` logits.
        """
        mask_preds = self._mask_forward(x, rois)['mask_preds']  # (P, C or 1, S, S)
        if self.mask_head.class_agnostic:
            return mask_preds[:, 0]
        return mask_preds[torch.arange(len(labels), device=labels.device), labels]

    def mask_loss(
        self,
        x: Tuple[Tensor],
        sampling_results: List[SamplingResult],
        bbox_feats: Tensor,
        batch_gt_instances: InstanceList,
    ) -> dict:
        """Projection and pairwise losses of the positive RoIs' masks.

        Args:
            x: FPN levels, each ``(G, C_l, H_l, W_l)``.
            sampling_results: G sampling results (positive RoIs and their GT).
            bbox_feats: unused (the mask branch has its own RoI extractor).
            batch_gt_instances: G frames' GT instances, carrying the frames' ``mask_grid_lab``
                ``(3, h, w)`` and ``mask_grid_valid`` ``(h, w)`` as metainfo (see :meth:`loss`).

        Returns:
            ``mask_preds`` ``(P, S, S)`` and ``loss_mask`` (the dict of ``loss_proj``,
            ``loss_pair``), as mmdet's ``mask_loss``.
        """
        pos_rois = bbox2roi([result.pos_priors for result in sampling_results])
        labels = torch.cat([result.pos_gt_labels for result in sampling_results])
        gt_boxes = torch.cat([result.pos_gt_bboxes for result in sampling_results])
        logits = self.instance_mask_logits(x, pos_rois, labels)
        boxes = pos_rois[:, 1:]
        frame_of = pos_rois[:, 0].long()

        loss_proj = self.loss_proj(logits, roi_box_masks(boxes, gt_boxes, logits.shape[-1]))

        lab = torch.stack([gt.metainfo['mask_grid_lab'] for gt in batch_gt_instances])
        valid = torch.stack([gt.metainfo['mask_grid_valid'] for gt in batch_gt_instances])
        grid_size = lab.shape[-2:]
        pasted = paste_roi_logits(logits, boxes, grid_size, self.mask_stride)
        present = torch.ones(len(gt_boxes), dtype=torch.bool, device=gt_boxes.device)
        box_masks = rasterize_boxes(gt_boxes, present, grid_size, self.mask_stride).float()
        loss_pair = self.loss_pair(
            pasted, lab, box_masks, valid_masks=valid.float(), frame_of=frame_of
        )
        return dict(mask_preds=logits, loss_mask=dict(loss_proj=loss_proj, loss_pair=loss_pair))
