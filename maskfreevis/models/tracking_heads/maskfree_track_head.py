"""Mask2Former-VIS track head trained from boxes (MaskFreeVIS), with per-clip mask fallback."""
import copy
from collections import defaultdict
from typing import Dict, List, Optional, Sequence, Tuple, Union

import torch
from mmcv.ops import point_sample
from mmdet.models.tracking_heads import Mask2FormerTrackHead
from mmdet.models.utils import get_uncertain_point_coords_with_randomness
from mmdet.registry import MODELS, TASK_UTILS
from mmdet.structures import TrackDataSample, TrackSampleList
from mmdet.utils import ConfigType, InstanceList, OptConfigType, reduce_mean
from mmengine.structures import InstanceData
from torch import Tensor

from ..losses.warmup import runner_iteration
from ..task_modules.mask_grid import rasterize_boxes

__all__ = ['MaskFreeTrackHead']

# Matching for clips that carry GT masks: the stock Mask2Former-VIS costs.
MASK_ASSIGNER_DEFAULT = dict(
    type='HungarianAssigner',
    match_costs=[
        dict(type='ClassificationCost', weight=2.0),
        dict(type='CrossEntropyLossCost', weight=5.0, use_sigmoid=True),
        dict(type='DiceCost', weight=5.0, pred_act=True, eps=1.0)
    ])

BOX_LOSS_KEYS = ('loss_proj', 'loss_pair', 'loss_tk')
MASK_LOSS_KEYS = ('loss_mask', 'loss_dice')


@MODELS.register_module()
class MaskFreeTrackHead(Mask2FormerTrackHead):
    """Mask2Former-VIS head supervised by boxes: projection + colour pairwise + TK losses.

    Per clip, the supervision is decided from the data: a clip whose every frame carries
    ``gt_instances.masks`` is trained with the stock point-sampled mask BCE + Dice (matched with
    ``train_cfg.mask_assigner``, default: class + mask BCE + mask dice costs); every other clip is
    box-supervised (matched with ``train_cfg.assigner``, e.g. class + :class:`BoxMaskDiceCost`)
    and trained with ``loss_proj`` + ``loss_pair`` + ``loss_tk`` on box masks rasterised at mask
    resolution. Classification is shared. Every decoder layer is supervised with its own
    matching, and every key (``loss_cls, loss_proj, loss_pair, loss_tk, loss_mask, loss_dice``
    and ``d{i}.*``) is always present: a term without instances is a zero that keeps the graph.

    As released, the projection loss averages over all ``N x T`` instance-frames of the matched
    instances, a frame where the instance is absent (empty box mask) adding a constant without
    gradient; the pairwise loss only weighs pixels inside each frame's box, and the TK loss
    pixels inside the union of the instance's boxes over the clip, both never on padding.

    The clip length T is read from the data on every call (``len(data_sample)``); the inherited
    ``num_frames`` argument is accepted for config compatibility and ignored.

    Args:
        loss_proj: config of the box projection loss (``BoxProjectionLoss``).
        loss_pair: config of the colour pairwise loss (``PairwiseColorLoss``).
        loss_tk: config of the Temporal KNN-patch loss (``TemporalKNNPatchLoss``).
        strides: strides of the input feature maps; ``strides[0]`` is the mask-grid stride.
        train_cfg: as the parent's, plus optional ``mask_assigner``.
        **kwargs: every other :class:`Mask2FormerTrackHead` argument. A ``loss_cls`` without
            ``class_weight`` gets Mask2Former's ``[1.0] * num_classes + [0.1]`` (0.1 for
            no-object), so changing ``num_classes`` alone is enough; a given ``class_weight``
            must have ``num_classes + 1`` entries.
    """

    def __init__(self,
                 loss_proj: ConfigType = dict(type='BoxProjectionLoss', loss_weight=5.0),
                 loss_pair: ConfigType = dict(type='PairwiseColorLoss', loss_weight=5.0),
                 loss_tk: ConfigType = dict(type='TemporalKNNPatchLoss', loss_weight=0.5),
                 strides: Sequence[int] = (4, 8, 16, 32),
                 train_cfg: OptConfigType = None,
                 **kwargs) -> None:
        if 'num_classes' in kwargs:
            # the parent's default loss_cls carries 134 COCO-panoptic class weights
            loss_cls = kwargs.get('loss_cls', dict(type='CrossEntropyLoss', use_sigmoid=False,
                                                   loss_weight=2.0, reduction='mean'))
            kwargs['loss_cls'] = _with_class_weight(loss_cls, kwargs['num_classes'])
        super().__init__(train_cfg=train_cfg, **kwargs)
        # the parent's fixed T must never be used: every T comes from the data
        del self.num_frames
        self.mask_stride = int(strides[0])
        self.loss_proj = MODELS.build(loss_proj)
        self.loss_pair = MODELS.build(loss_pair)
        self.loss_tk = MODELS.build(loss_tk)
        self.num_loss_calls = 0  # TK warm-up clock outside a Runner, see warmup_iteration
        if train_cfg:
            self.mask_assigner = TASK_UTILS.build(
                train_cfg.get('mask_assigner', MASK_ASSIGNER_DEFAULT))

    # ------------------------------------------------------------------ forward
    def forward(self, x: Sequence[Tensor],
                data_samples: Union[TrackSampleList, TrackDataSample]
                ) -> Tuple[List[Tensor], List[Tensor]]:
        """Decode all clips of the batch; the clip length comes from ``data_samples``.

        Args:
            x: multi-level features, each ``(B * T, C_l, H_l, W_l)``, clip-major.
            data_samples: a list of B ``TrackDataSample`` (training) or one
                ``TrackDataSample`` (a whole video at test time).

        Returns:
            Per prediction (initial + one per decoder layer): class logits
            ``(B, Q, num_classes + 1)`` and mask logits ``(B, Q, T, h, w)`` at mask stride.
        """
        clips = list(data_samples) if isinstance(data_samples, (list, tuple)) \
            else [data_samples]
        num_clips = len(clips)
        mask_features, memories = self.pixel_decoder(x)
        num_images = mask_features.shape[0]
        clip_lengths = {len(clip) for clip in clips}
        if len(clip_lengths) != 1 or num_images != num_clips * clip_lengths.pop():
            raise ValueError(f'{num_images} images do not split into {num_clips} clips of '
                             f'equal length (clip lengths {[len(c) for c in clips]})')
        num_frames = num_images // num_clips
        mask_features = mask_features.unflatten(0, (num_clips, num_frames))

        keys, key_positions = [], []
        for level in range(self.num_transformer_feat_level):
            level_keys, level_positions = self._decoder_keys(memories[level], level, num_clips,
                                                             num_frames)
            keys.append(level_keys)
            key_positions.append(level_positions)
        query = self.query_feat.weight.unsqueeze(0).repeat(num_clips, 1, 1)
        query_pos = self.query_embed.weight.unsqueeze(0).repeat(num_clips, 1, 1)

        cls_preds, mask_preds = [], []
        cls_pred, mask_pred, attn_mask = self._forward_head(query, mask_features,
                                                            memories[0].shape[-2:])
        cls_preds.append(cls_pred)
        mask_preds.append(mask_pred)
        for index, layer in enumerate(self.transformer_decoder.layers):
            level = index % self.num_transformer_feat_level
            # a query whose mask hides every key would attend to nothing (NaN): let it see all
            attn_mask = attn_mask & ~attn_mask.all(dim=-1, keepdim=True)
            query = layer(
                query=query,
                key=keys[level],
                value=keys[level],
                query_pos=query_pos,
                key_pos=key_positions[level],
                cross_attn_mask=attn_mask,
                query_key_padding_mask=None,
                key_padding_mask=None)
            next_level = (index + 1) % self.num_transformer_feat_level
            cls_pred, mask_pred, attn_mask = self._forward_head(query, mask_features,
                                                                memories[next_level].shape[-2:])
            cls_preds.append(cls_pred)
            mask_preds.append(mask_pred)
        return cls_preds, mask_preds

    def _decoder_keys(self, memory: Tensor, level: int, num_clips: int,
                      num_frames: int) -> Tuple[Tensor, Tensor]:
        """Tokens of one pixel-decoder level, all frames of a clip in one sequence.

        Args:
            memory: ``(B * T, C, h, w)`` level features.

        Returns:
            keys and their 3-D sine position encodings, each ``(B, T * h * w, C)``.
        """
        projected = self.decoder_input_projs[level](memory)
        height, width = projected.shape[-2:]
        tokens = projected.flatten(2) + self.level_embed.weight[level][None, :, None]
        tokens = tokens.unflatten(0, (num_clips, num_frames)).transpose(2, 3).flatten(1, 2)
        no_padding = tokens.new_zeros((num_clips, num_frames, height, width), dtype=torch.bool)
        positions = self.decoder_positional_encoding(no_padding)  # (B, T, C, h, w)
        positions = positions.flatten(3).transpose(2, 3).flatten(1, 2)
        return tokens, positions

    # --------------------------------------------------------------- targets
    def preprocess_gt(self, batch_gt_instances: InstanceList, batch_img_metas: List[dict],
                      mask_size: Sequence[int]) -> InstanceList:
        """Collate per-frame GT into per-clip instances; never modifies the inputs.

        Args:
            batch_gt_instances: flat clip-major list of the B·T per-frame ``InstanceData``
                (``bboxes (n, 4)`` xyxy in input pixels, ``labels (n,)``, ``instances_ids (n,)``,
                optional ``masks (n, H_t, W_t)``).
            batch_img_metas: per clip a dict of per-frame lists (``batch_input_shape``, …).
            mask_size: ``(h, w)`` of the mask logits.

        Returns:
            Per clip an ``InstanceData`` over its M distinct instance ids: ``labels (M,)``,
            ``bboxes (M, T, 4)`` (zeros where absent), ``presence (M, T)`` bool,
            ``instances_id (M, T)`` (-1 where absent), ``box_masks (M, T, h, w)`` bool, and for
            clips whose frames all carry masks ``masks (M, T, H, W)`` bool at the padded batch
            size; metainfo ``mask_supervised`` says which supervision the clip gets.
        """
        clip_gts, start = [], 0
        for clip_meta in batch_img_metas:
            num_frames = len(clip_meta['batch_input_shape'])
            clip_gts.append(
                self._collate_clip(batch_gt_instances[start:start + num_frames], clip_meta,
                                   mask_size))
            start += num_frames
        if start != len(batch_gt_instances):
            raise ValueError(f'{len(batch_gt_instances)} frames of GT do not match the '
                             f'{start} frames described by the clip metainfo')
        return clip_gts

    def _collate_clip(self, frame_gts: InstanceList, clip_meta: dict,
                      mask_size: Sequence[int]) -> InstanceData:
        """One clip's per-frame GT → per-instance tensors (see :meth:`preprocess_gt`)."""
        video = clip_meta.get('video_id', ['?'])[0]
        num_frames = len(frame_gts)
        for frame, gt in enumerate(frame_gts):
            missing = [k for k in ('bboxes', 'labels', 'instances_ids') if k not in gt]
            if missing:
                raise KeyError(f'video {video} frame {frame}: gt_instances lacks {missing}')
        has_masks = ['masks' in gt for gt in frame_gts]
        if any(has_masks) and not all(has_masks):
            raise ValueError(f'video {video}: only frames {has_masks} carry GT masks; a clip '
                             'must carry masks on every frame or on none')
        device = frame_gts[0].labels.device
        counts = torch.tensor([len(gt) for gt in frame_gts], device=device)
        ids = torch.cat([gt.instances_ids.to(device=device, dtype=torch.long)
                         for gt in frame_gts])
        labels = torch.cat([gt.labels.to(device=device, dtype=torch.long) for gt in frame_gts])
        boxes = torch.cat([_box_tensor(gt.bboxes).to(device=device, dtype=torch.float32)
                           for gt in frame_gts])
        frame_of = torch.repeat_interleave(torch.arange(num_frames, device=device), counts)
        unique_ids, slot = torch.unique(ids, return_inverse=True)
        num_instances = len(unique_ids)
        cell = slot * num_frames + frame_of  # flat (instance, frame) position
        if torch.unique(cell).numel() != cell.numel():
            raise ValueError(f'video {video}: an instance id occurs twice in one frame')

        if labels.numel() and (labels.min() < 0 or labels.max() >= self.num_classes):
            bad = labels[(labels < 0) | (labels >= self.num_classes)][0]
            raise ValueError(f'video {video}: class label {int(bad)} outside [0, '
                             f'{self.num_classes}); set model.track_head.num_classes to the '
                             'number of categories of the dataset')
        clip_labels = labels.new_full((num_instances, ), torch.iinfo(torch.long).max)
        clip_labels = clip_labels.scatter_reduce(0, slot, labels, 'amin')
        highest = labels.new_full((num_instances, ), -1).scatter_reduce(0, slot, labels, 'amax')
        if (clip_labels != highest).any():
            raise ValueError(f'video {video}: an instance changes its class within the clip')
        clip_boxes = boxes.new_zeros((num_instances * num_frames, 4)).index_copy(0, cell, boxes)
        presence = torch.zeros(num_instances * num_frames, dtype=torch.bool, device=device)
        presence[cell] = True
        instance_ids = ids.new_full((num_instances * num_frames, ), -1).index_copy(0, cell, ids)
        clip_boxes = clip_boxes.view(num_instances, num_frames, 4)
        presence = presence.view(num_instances, num_frames)
        fields = dict(
            labels=clip_labels,
            bboxes=clip_boxes,
            presence=presence,
            instances_id=instance_ids.view(num_instances, num_frames),
            box_masks=rasterize_boxes(clip_boxes, presence, mask_size, self.mask_stride))
        if all(has_masks):
            pad_h, pad_w = clip_meta['batch_input_shape'][0]
            frame_masks = torch.cat([
                _padded_mask_tensor(gt.masks, (pad_h, pad_w), device, video, frame)
                for frame, gt in enumerate(frame_gts)
            ])
            masks = frame_masks.new_zeros((num_instances * num_frames, pad_h, pad_w))
            masks[cell] = frame_masks
            fields['masks'] = masks.view(num_instances, num_frames, pad_h, pad_w)
        return InstanceData(metainfo=dict(mask_supervised=all(has_masks)), **fields)

    def _get_targets_single(self, cls_score: Tensor, mask_pred: Tensor,
                            gt_instances: InstanceData, img_meta: dict) -> Tuple:
        """Match one clip's queries to its instances and build their targets.

        Args:
            cls_score: ``(Q, num_classes + 1)`` class logits.
            mask_pred: ``(Q, T, h, w)`` mask logits.
            gt_instances: one clip from :meth:`preprocess_gt`.
            img_meta: the clip's dict of per-frame lists.

        Returns:
            ``labels (Q,)``, ``label_weights (Q,)``, ``mask_targets (num_pos, T, ·, ·)`` (box masks
            ``(h, w)`` for box clips, GT masks ``(H, W)`` for mask clips), ``mask_weights (Q,)``,
            ``pos_inds``, ``neg_inds``, ``sampling_result`` (the parent's 7 outputs).
        """
        if gt_instances.mask_supervised:
            targets = gt_instances.masks
            assign_result = self._assign_by_masks(cls_score, mask_pred, gt_instances, img_meta)
        else:
            targets = gt_instances.box_masks
            # box-mask costs threshold the logits and need no gradient
            assign_result = self.assigner.assign(
                pred_instances=InstanceData(scores=cls_score, masks=mask_pred.detach()),
                gt_instances=InstanceData(labels=gt_instances.labels, masks=targets),
                img_meta=img_meta)
        sampling_result = self.sampler.sample(
            assign_result=assign_result,
            pred_instances=InstanceData(scores=cls_score, masks=mask_pred),
            gt_instances=InstanceData(labels=gt_instances.labels, masks=targets))
        pos_inds = sampling_result.pos_inds
        num_queries = cls_score.shape[0]
        labels = gt_instances.labels.new_full((num_queries, ), self.num_classes)
        labels[pos_inds] = gt_instances.labels[sampling_result.pos_assigned_gt_inds]
        label_weights = gt_instances.labels.new_ones((num_queries, ))
        mask_weights = mask_pred.new_zeros((num_queries, ))
        mask_weights[pos_inds] = 1.0
        mask_targets = targets[sampling_result.pos_assigned_gt_inds]
        return (labels, label_weights, mask_targets, mask_weights, pos_inds,
                sampling_result.neg_inds, sampling_result)

    def _assign_by_masks(self, cls_score: Tensor, mask_pred: Tensor,
                         gt_instances: InstanceData, img_meta: dict):
        """Stock Mask2Former-VIS matching on masks at shared random points (mask clips)."""
        num_queries, num_gts = mask_pred.shape[0], len(gt_instances)
        points = torch.rand((1, self.num_points, 2), device=cls_score.device)
        # (Q, T, P) -> (Q, T*P): one point set shared by all frames, queries and GTs; the
        # matching needs no gradient, so no graph is kept for these samples
        pred_points = point_sample(mask_pred.detach(),
                                   points.expand(num_queries, -1, -1)).flatten(1)
        gt_points = point_sample(gt_instances.masks.float(),
                                 points.expand(num_gts, -1, -1)).flatten(1)
        return self.mask_assigner.assign(
            pred_instances=InstanceData(scores=cls_score, masks=pred_points),
            gt_instances=InstanceData(labels=gt_instances.labels, masks=gt_points),
            img_meta=img_meta)

    # ------------------------------------------------------------------ losses
    def loss(self,
             x: Tuple[Tensor],
             data_samples: TrackSampleList,
             lab: Optional[Tensor] = None,
             valid_masks: Optional[Tensor] = None) -> Dict[str, Tensor]:
        """Forward the clips and compute every loss of every decoder layer.

        Args:
            x: multi-level features ``(B * T, C_l, H_l, W_l)``.
            data_samples: B ``TrackDataSample`` with per-frame ``gt_instances``.
            lab: ``(B, T, 3, h, w)`` CIE-Lab frames at mask resolution (needed when a clip is
                box-supervised; :class:`MaskFreeVIS` provides it).
            valid_masks: ``(B, T, h, w)`` bool, ``False`` on padding (``None``: all valid).

        Returns:
            ``loss_cls, loss_proj, loss_pair, loss_tk, loss_mask, loss_dice`` for the last layer
            and ``d{i}.<key>`` for the others.
        """
        batch_img_metas, batch_gt_instances = [], []
        for clip in data_samples:
            clip_meta = defaultdict(list)
            for frame in range(len(clip)):
                batch_gt_instances.append(clip[frame].gt_instances)
                for key, value in clip[frame].metainfo.items():
                    clip_meta[key].append(value)
            batch_img_metas.append(clip_meta)
        all_cls_scores, all_mask_preds = self(x, data_samples)
        batch_gt_instances = self.preprocess_gt(batch_gt_instances, batch_img_metas,
                                                all_mask_preds[0].shape[-2:])
        losses = self.loss_by_feat(all_cls_scores, all_mask_preds, batch_gt_instances,
                                   batch_img_metas, lab=lab, valid_masks=valid_masks)
        self.num_loss_calls += 1
        return losses

    def warmup_iteration(self) -> int:
        """0-based training iteration for the TK warm-up: the Runner's, else the number of
        :meth:`loss` calls so far (one per training step, whatever the number of decoder layers;
        counting the loss module's own calls would run the ramp once per layer, the release's
        10x-too-fast warm-up)."""
        iteration = runner_iteration()
        return self.num_loss_calls if iteration is None else iteration

    def loss_by_feat(self,
                     all_cls_scores: Sequence[Tensor],
                     all_mask_preds: Sequence[Tensor],
                     batch_gt_instances: InstanceList,
                     batch_img_metas: List[dict],
                     lab: Optional[Tensor] = None,
                     valid_masks: Optional[Tensor] = None) -> Dict[str, Tensor]:
        """Losses of every decoder layer, each layer matched on its own.

        Args:
            all_cls_scores: per layer ``(B, Q, num_classes + 1)``.
            all_mask_preds: per layer ``(B, Q, T, h, w)``.
            batch_gt_instances: per clip, from :meth:`preprocess_gt`.
            batch_img_metas: per clip dict of per-frame lists.
            lab, valid_masks: see :meth:`loss`.

        Returns:
            Loss dict with keys as described in :meth:`loss`.
        """
        mask_preds = all_mask_preds[-1]
        colour_cues = None
        if any(not gt.mask_supervised for gt in batch_gt_instances):
            self._check_colour_inputs(lab, valid_masks, mask_preds)
            if valid_masks is None:
                valid_masks = lab.new_ones(lab[:, :, 0].shape, dtype=torch.bool)
            colour_cues = self._colour_cues(lab, valid_masks)
        losses = {}
        last = len(all_cls_scores) - 1
        for layer, (cls_scores, mask_preds) in enumerate(zip(all_cls_scores, all_mask_preds)):
            prefix = '' if layer == last else f'd{layer}.'
            layer_losses = self._loss_by_feat_single(cls_scores, mask_preds,
                                                     batch_gt_instances, batch_img_metas,
                                                     lab, valid_masks, colour_cues)
            losses.update({prefix + key: value for key, value in layer_losses.items()})
        return losses

    def _colour_cues(self, lab: Tensor, valid_masks: Tensor) -> Dict[str, Tensor]:
        """What the pairwise and TK losses need from the frames alone, computed once per
        step and shared by every decoder layer and instance (it does not depend on the
        predictions).

        Args:
            lab: ``(B, T, 3, h, w)``; valid_masks: ``(B, T, h, w)`` bool.

        Returns:
            ``pair``: ``(B * T, K, h, w)`` colour-similar neighbours of every frame;
            ``tk``: ``(P, B, K', h, w)`` K-nearest patch candidates of every frame pair.
        """
        return dict(
            pair=self.loss_pair.neighbour_weights(lab.flatten(0, 1), valid_masks.flatten(0, 1)),
            tk=self.loss_tk.candidate_selection(lab, valid_masks))

    @staticmethod
    def _check_colour_inputs(lab: Optional[Tensor], valid_masks: Optional[Tensor],
                             mask_preds: Tensor) -> None:
        """Box-supervised clips need Lab frames on the mask grid; fail loudly otherwise."""
        num_clips, _, num_frames, height, width = mask_preds.shape
        if lab is None:
            raise ValueError('box-supervised clips need `lab` frames (B, T, 3, h, w); train '
                             'with the MaskFreeVIS detector, which computes them')
        expected = (num_clips, num_frames, 3, height, width)
        if tuple(lab.shape) != expected:
            raise ValueError(f'lab has shape {tuple(lab.shape)}, the mask logits need '
                             f'{expected}; is the mask stride of the detector the head\'s?')
        if valid_masks is not None and tuple(valid_masks.shape) != expected[:2] + expected[3:]:
            raise ValueError(f'valid_masks has shape {tuple(valid_masks.shape)}, expected '
                             f'{expected[:2] + expected[3:]}')

    def _loss_by_feat_single(self, cls_scores: Tensor, mask_preds: Tensor,
                             batch_gt_instances: InstanceList, batch_img_metas: List[dict],
                             lab: Optional[Tensor], valid_masks: Optional[Tensor],
                             colour_cues: Optional[Dict[str, Tensor]] = None
                             ) -> Dict[str, Tensor]:
        """All losses of one decoder layer.

        Args:
            cls_scores: ``(B, Q, num_classes + 1)``.
            mask_preds: ``(B, Q, T, h, w)``.
            batch_gt_instances, batch_img_metas, lab, valid_masks: see :meth:`loss_by_feat`.
            colour_cues: :meth:`_colour_cues` of ``lab`` (needed when a clip is
                box-supervised).

        Returns:
            Dict with ``loss_cls`` and every box and mask key.
        """
        (labels_list, label_weights_list, mask_targets_list, mask_weights_list,
         _) = self.get_targets(list(cls_scores), list(mask_preds), batch_gt_instances,
                               batch_img_metas)
        labels = torch.stack(labels_list).flatten()
        label_weights = torch.stack(label_weights_list).flatten()
        class_weight = cls_scores.new_tensor(self.class_weight)
        losses = dict(
            loss_cls=self.loss_cls(cls_scores.flatten(0, 1), labels, label_weights,
                                   avg_factor=class_weight[labels].sum()))
        positive = torch.stack(mask_weights_list) > 0  # (B, Q)
        mask_supervised = [bool(gt.mask_supervised) for gt in batch_gt_instances]
        box_clips = [b for b, sup in enumerate(mask_supervised) if not sup]
        mask_clips = [b for b, sup in enumerate(mask_supervised) if sup]
        losses.update(
            self._box_losses(mask_preds, positive, mask_targets_list, box_clips, lab,
                             valid_masks, colour_cues))
        losses.update(self._mask_losses(mask_preds, positive, mask_targets_list, mask_clips))
        return losses

    def _box_losses(self, mask_preds: Tensor, positive: Tensor, mask_targets_list: List[Tensor],
                    box_clips: List[int], lab: Optional[Tensor],
                    valid_masks: Optional[Tensor],
                    colour_cues: Optional[Dict[str, Tensor]]) -> Dict[str, Tensor]:
        """Projection, pairwise and TK losses of the matched queries of box-supervised clips.

        Args:
            mask_preds: ``(B, Q, T, h, w)`` logits; positive: ``(B, Q)`` matched queries.
            mask_targets_list: per clip ``(num_pos_b, T, h, w)`` box masks (box clips).
            box_clips: indices of the box-supervised clips.
            lab: ``(B, T, 3, h, w)``; valid_masks: ``(B, T, h, w)``.
            colour_cues: :meth:`_colour_cues` of ``lab``.

        Returns:
            ``loss_proj, loss_pair, loss_tk`` scalars.
        """
        selected = positive & _clip_flags(box_clips, positive)[:, None]
        logits = mask_preds[selected]  # (N, T, h, w), clip-major then query order
        if logits.shape[0] == 0:
            zero = _graph_zero(mask_preds)
            return {key: zero for key in BOX_LOSS_KEYS}
        box_masks = torch.cat([mask_targets_list[b] for b in box_clips]).to(logits.dtype)
        clip_index = selected.nonzero()[:, 0]
        num_frames = logits.shape[1]
        # instance-frame -> frame of the batch, to share each frame's colour similarities
        frame_index = (clip_index[:, None] * num_frames +
                       torch.arange(num_frames, device=clip_index.device)).flatten()
        frame_logits, frame_boxes = logits.flatten(0, 1), box_masks.flatten(0, 1)
        return dict(
            loss_proj=self.loss_proj(frame_logits, frame_boxes),
            loss_pair=self.loss_pair(frame_logits, lab.flatten(0, 1), frame_boxes,
                                     valid_masks=valid_masks.flatten(0, 1),
                                     frame_index=frame_index,
                                     neighbour_weights=colour_cues['pair']),
            loss_tk=self.loss_tk(logits, lab, box_masks, clip_index=clip_index,
                                 valid_masks=valid_masks, iteration=self.warmup_iteration(),
                                 selection=colour_cues['tk']))

    def _mask_losses(self, mask_preds: Tensor, positive: Tensor,
                     mask_targets_list: List[Tensor],
                     mask_clips: List[int]) -> Dict[str, Tensor]:
        """Stock point-sampled mask BCE + Dice of the matched queries of mask-labelled clips.

        Normalised as the released criterion: Dice summed over instance-frames and BCE averaged
        over the points of each instance-frame, both divided by the number of matched
        instances (averaged over GPUs).

        Returns:
            ``loss_mask, loss_dice`` scalars.
        """
        logits = mask_preds[positive & _clip_flags(mask_clips, positive)[:, None]]
        # a collective: every rank must call it, with or without mask clips
        num_masks = reduce_mean(mask_preds.new_tensor([float(logits.shape[0])]))
        num_masks = num_masks.clamp(min=1.0)
        if logits.shape[0] == 0:
            zero = _graph_zero(mask_preds)
            return {key: zero for key in MASK_LOSS_KEYS}
        targets = torch.cat([mask_targets_list[b] for b in mask_clips])  # (N, T, H, W)
        frame_logits = logits.flatten(0, 1).unsqueeze(1)
        with torch.no_grad():
            points = get_uncertain_point_coords_with_randomness(
                frame_logits, None, self.num_points, self.oversample_ratio,
                self.importance_sample_ratio)
            point_targets = point_sample(targets.flatten(0, 1).unsqueeze(1).float(),
                                         points).squeeze(1)
        point_logits = point_sample(frame_logits, points).squeeze(1)  # (N*T, P)
        return dict(
            loss_mask=self.loss_mask(point_logits.reshape(-1), point_targets.reshape(-1),
                                     avg_factor=num_masks * self.num_points),
            loss_dice=self.loss_dice(point_logits, point_targets, avg_factor=num_masks))


def _graph_zero(tensor: Tensor) -> Tensor:
    """A scalar 0 connected to ``tensor``'s graph (keeps every parameter in the backward)."""
    return tensor.sum() * 0 + 0.0  # + 0.0 turns -0.0 into 0.0


def _box_tensor(boxes) -> Tensor:
    """Plain ``(n, 4)`` tensor from a tensor or an mmdet box structure."""
    return boxes.tensor if hasattr(boxes, 'tensor') else torch.as_tensor(boxes)


def _padded_mask_tensor(masks, pad_shape: Tuple[int, int], device: torch.device, video,
                        frame: int) -> Tensor:
    """``(n, H, W)`` bool GT masks zero-padded bottom/right to the padded batch size."""
    if hasattr(masks, 'to_tensor'):
        masks = masks.to_tensor(dtype=torch.bool, device=device)
    masks = torch.as_tensor(masks, device=device).bool()
    height, width = masks.shape[-2:]
    if height > pad_shape[0] or width > pad_shape[1]:
        raise ValueError(f'video {video} frame {frame}: GT masks of size {(height, width)} '
                         f'exceed the padded batch size {tuple(pad_shape)}')
    padded = masks.new_zeros((masks.shape[0], ) + tuple(pad_shape))
    padded[:, :height, :width] = masks
    return padded


def _clip_flags(clips: List[int], positive: Tensor) -> Tensor:
    """``(B,)`` bool, ``True`` for the listed clip indices."""
    flags = torch.zeros(positive.shape[0], dtype=torch.bool, device=positive.device)
    flags[clips] = True
    return flags


def _with_class_weight(loss_cls: ConfigType, num_classes: int) -> ConfigType:
    """``loss_cls`` with Mask2Former's class weights filled in, or checked when given."""
    class_weight = loss_cls.get('class_weight')
    if class_weight is None:
        loss_cls = copy.deepcopy(loss_cls)
        loss_cls['class_weight'] = [1.0] * num_classes + [0.1]
    elif len(class_weight) != num_classes + 1:
        raise ValueError(f'loss_cls.class_weight has {len(class_weight)} entries, the head needs '
                         f'num_classes + 1 = {num_classes + 1} (one per class, then no-object); '
                         'leave it out to get [1.0] * num_classes + [0.1]')
    return loss_cls
