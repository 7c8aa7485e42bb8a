"""Mask2Former-VIS track head trained from boxes (MaskFreeVIS): decoding and GT collation.

Shape letters (one meaning across ``maskfreevis.models``): B clips, T frames per clip, Q queries
per clip, I annotated instances of a clip, H, W the padded input, h, w the mask grid.
"""

import copy
from typing import Dict, List, Optional, Sequence, Tuple, Union

import torch
from mmdet.models.tracking_heads import Mask2FormerTrackHead
from mmdet.registry import MODELS
from mmdet.structures import TrackDataSample, TrackSampleList
from mmdet.utils import ConfigType, InstanceList
from mmengine.config import ConfigDict
from mmengine.structures import InstanceData
from torch import Tensor

__all__ = ['MaskFreeTrackHead']

# what the criterion owns now; given to the head they would be silently half-used
MOVED_TO_CRITERION = (
    'loss_cls',
    'loss_mask',
    'loss_dice',
    'loss_proj',
    'loss_pair',
    'loss_tk',
    'train_cfg',
)


@MODELS.register_module()
class MaskFreeTrackHead(Mask2FormerTrackHead):
    """Mask2Former-VIS head supervised by boxes: decodes clips and collates their GT per clip.

    Matching and every loss belong to its ``criterion`` (:class:`MaskFreeCriterion`: class,
    projection, colour pairwise and TK losses for box-only clips, mask BCE + Dice for clips with
    GT masks). The colours the losses need come with the data samples
    (:class:`MaskFreeDataPreprocessor`). Prediction is the parent's.

    The clip length T is read from the data on every call (``len(data_sample)``), so the
    parent's fixed ``num_frames`` is refused.

    Args:
        num_classes: number of classes; passed to the criterion.
        strides: strides of the input feature maps; ``strides[0]`` is the mask-grid stride,
            passed to the criterion.
        criterion: config of the criterion (``MaskFreeCriterion``), without ``num_classes``
            and ``mask_stride`` (or with the head's values).
        **kwargs: every other :class:`Mask2FormerTrackHead` argument except the losses and
            ``train_cfg``, which moved into ``criterion``.
    """

    def __init__(
        self,
        num_classes: int,
        strides: Sequence[int] = (4, 8, 16, 32),
        criterion: ConfigType = dict(type='MaskFreeCriterion'),
        **kwargs,
    ) -> None:
        # the parent builds zero queries or classes without complaint, and training then runs
        # on a loss of 0 and saves a checkpoint that predicts nothing
        for name, value, meaning in (
            ('num_queries', kwargs.get('num_queries', 100), 'object queries per clip, e.g. 100'),
            ('num_classes', num_classes, 'the categories of the dataset'),
        ):
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(
                    f'model.track_head.{name} must be a positive integer ({meaning}), got {value!r}'
                )
        if 'num_frames' in kwargs:
            raise TypeError(
                f'MaskFreeTrackHead got num_frames={kwargs["num_frames"]!r}: the clip length T '
                "comes from the data (each batch's clips, e.g. SampleClipFrames.num_frames in "
                'the pipeline), so the head takes none; remove model.track_head.num_frames'
            )
        moved = [key for key in MOVED_TO_CRITERION if kwargs.get(key) is not None]
        if moved:
            raise TypeError(
                f'MaskFreeTrackHead got {moved}: matching and losses moved to '
                'track_head.criterion (MaskFreeCriterion), e.g. '
                'track_head.criterion.loss_tk, track_head.criterion.assigner '
                '(train_cfg.assigner), track_head.criterion.num_points'
            )
        # the parent builds losses the criterion owns; a placeholder without COCO class weights
        super().__init__(
            num_classes=num_classes,
            loss_cls=ConfigDict(type='CrossEntropyLoss', class_weight=None),
            **kwargs,
        )
        # the parent's fixed T must never be used: every T comes from the data
        del self.num_frames, self.loss_cls, self.loss_mask, self.loss_dice, self.class_weight
        self.mask_stride = int(strides[0])
        self.criterion = MODELS.build(self._criterion_cfg(criterion))

    def _criterion_cfg(self, criterion: ConfigType) -> ConfigType:
        """The criterion config with the head's ``num_classes`` and ``mask_stride``."""
        criterion = copy.deepcopy(criterion)
        for key, value in (('num_classes', self.num_classes), ('mask_stride', self.mask_stride)):
            given = criterion.get(key)
            if given is not None and given != value:
                raise ValueError(
                    f'track_head.criterion.{key} = {given}, but the head has '
                    f'{value}; leave it out of the criterion config, the head '
                    'passes its own'
                )
            criterion[key] = value
        return criterion

    # ------------------------------------------------------------------ forward
    def forward(
        self, x: Sequence[Tensor], data_samples: Union[TrackSampleList, TrackDataSample]
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
        clips = list(data_samples) if isinstance(data_samples, (list, tuple)) else [data_samples]
        num_clips = len(clips)
        mask_features, memories = self.pixel_decoder(x)
        num_images = mask_features.shape[0]
        clip_lengths = {len(clip) for clip in clips}
        if len(clip_lengths) != 1 or num_images != num_clips * clip_lengths.pop():
            raise ValueError(
                f'{num_images} images do not split into {num_clips} clips of '
                f'equal length (clip lengths {[len(c) for c in clips]})'
            )
        num_frames = num_images // num_clips
        mask_features = mask_features.unflatten(0, (num_clips, num_frames))

        keys, key_positions = [], []
        for level in range(self.num_transformer_feat_level):
            level_keys, level_positions = self._decoder_keys(
                memories[level], level, num_clips, num_frames
            )
            keys.append(level_keys)
            key_positions.append(level_positions)
        query = self.query_feat.weight.unsqueeze(0).repeat(num_clips, 1, 1)
        query_pos = self.query_embed.weight.unsqueeze(0).repeat(num_clips, 1, 1)

        cls_preds, mask_preds = [], []
        cls_pred, mask_pred, attn_mask = self._forward_head(
            query, mask_features, memories[0].shape[-2:]
        )
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
                key_padding_mask=None,
            )
            next_level = (index + 1) % self.num_transformer_feat_level
            cls_pred, mask_pred, attn_mask = self._forward_head(
                query, mask_features, memories[next_level].shape[-2:]
            )
            cls_preds.append(cls_pred)
            mask_preds.append(mask_pred)
        return cls_preds, mask_preds

    def _decoder_keys(
        self, memory: Tensor, level: int, num_clips: int, num_frames: int
    ) -> Tuple[Tensor, Tensor]:
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
    def preprocess_gt(self, data_samples: TrackSampleList) -> InstanceList:
        """Collate each clip's per-frame GT into per-instance tensors; never modifies the inputs.

        Args:
            data_samples: B ``TrackDataSample``, each frame with ``gt_instances``: ``bboxes
                (n, 4)`` xyxy in input pixels, ``labels (n,)``, ``instances_ids (n,)``, and
                optional ``masks (n, H, W)`` padded to the batch (MaskFreeDataPreprocessor).

        Returns:
            Per clip an ``InstanceData`` over its I distinct instance ids: ``labels (I,)``,
            ``bboxes (I, T, 4)`` (zeros where absent), ``presence (I, T)`` bool,
            ``instances_id (I, T)`` (-1 where absent), and for clips whose frames all carry
            masks ``masks (I, T, H, W)`` bool; metainfo: the clip's per-frame lists (mmdet's
            per-video ``img_meta``) and ``mask_supervised``, which supervision the clip gets.
        """
        return [self._collate_clip(clip) for clip in data_samples]

    def _collate_clip(self, clip: TrackDataSample) -> InstanceData:
        """One clip's per-frame GT → per-instance tensors (see :meth:`preprocess_gt`)."""
        frames = [clip[index] for index in range(len(clip))]
        video = frames[0].metainfo.get('video_id', '?')
        gts = [frame.get('gt_instances', InstanceData()) for frame in frames]
        for index, gt in enumerate(gts):
            missing = [k for k in ('bboxes', 'labels', 'instances_ids') if k not in gt]
            if missing:
                raise KeyError(f'video {video} frame {index}: gt_instances lacks {missing}')
        has_masks = ['masks' in gt for gt in gts]
        if any(has_masks) and not all(has_masks):
            raise ValueError(
                f'video {video}: only frames {has_masks} carry GT masks; a clip '
                'must carry masks on every frame or on none'
            )
        num_frames = len(frames)
        device = gts[0].labels.device
        counts = torch.tensor([len(gt) for gt in gts], device=device)
        ids = torch.cat([gt.instances_ids.to(device=device, dtype=torch.long) for gt in gts])
        labels = torch.cat([gt.labels.to(device=device, dtype=torch.long) for gt in gts])
        boxes = torch.cat(
            [_box_tensor(gt.bboxes).to(device=device, dtype=torch.float32) for gt in gts]
        )
        frame_of = torch.repeat_interleave(torch.arange(num_frames, device=device), counts)
        unique_ids, slot = torch.unique(ids, return_inverse=True)
        num_instances = len(unique_ids)
        cell = slot * num_frames + frame_of  # flat (instance, frame) position
        if torch.unique(cell).numel() != cell.numel():
            raise ValueError(f'video {video}: an instance id occurs twice in one frame')

        if labels.numel() and (labels.min() < 0 or labels.max() >= self.num_classes):
            bad = labels[(labels < 0) | (labels >= self.num_classes)][0]
            raise ValueError(
                f'video {video}: class label {int(bad)} outside [0, '
                f'{self.num_classes}); set model.track_head.num_classes to the '
                'number of categories of the dataset'
            )
        clip_labels = labels.new_full((num_instances,), torch.iinfo(torch.long).max)
        clip_labels = clip_labels.scatter_reduce(0, slot, labels, 'amin')
        highest = labels.new_full((num_instances,), -1).scatter_reduce(0, slot, labels, 'amax')
        if (clip_labels != highest).any():
            raise ValueError(f'video {video}: an instance changes its class within the clip')
        clip_boxes = boxes.new_zeros((num_instances * num_frames, 4)).index_copy(0, cell, boxes)
        presence = torch.zeros(num_instances * num_frames, dtype=torch.bool, device=device)
        presence[cell] = True
        instance_ids = ids.new_full((num_instances * num_frames,), -1).index_copy(0, cell, ids)
        fields = dict(
            labels=clip_labels,
            bboxes=clip_boxes.view(num_instances, num_frames, 4),
            presence=presence.view(num_instances, num_frames),
            instances_id=instance_ids.view(num_instances, num_frames),
        )
        if all(has_masks):
            pad_shape = tuple(frames[0].metainfo['batch_input_shape'])
            frame_masks = torch.cat(
                [
                    _padded_masks(gt.masks, pad_shape, device, video, index)
                    for index, gt in enumerate(gts)
                ]
            )
            masks = frame_masks.new_zeros((num_instances * num_frames,) + pad_shape)
            masks[cell] = frame_masks
            fields['masks'] = masks.view((num_instances, num_frames) + pad_shape)
        clip_meta = {
            key: [frame.metainfo.get(key) for frame in frames] for key in frames[0].metainfo_keys()
        }
        return InstanceData(metainfo=dict(clip_meta, mask_supervised=all(has_masks)), **fields)

    # ------------------------------------------------------------------ losses
    def loss(self, x: Tuple[Tensor], data_samples: TrackSampleList) -> Dict[str, Tensor]:
        """Forward the clips and compute every loss of every decoder layer (the criterion's).

        Args:
            x: multi-level features ``(B * T, C_l, H_l, W_l)``.
            data_samples: B ``TrackDataSample`` with per-frame ``gt_instances`` and, for
                box-only clips, the colours ``mask_grid_lab`` ``(3, h, w)`` and
                ``mask_grid_valid`` ``(h, w)`` of every frame (MaskFreeDataPreprocessor).

        Returns:
            ``loss_cls, loss_proj, loss_pair, loss_tk, loss_mask, loss_dice`` of the last
            decoder output and ``d{i}.<key>`` of the others.
        """
        all_cls_scores, all_mask_preds = self(x, data_samples)
        batch_gt_instances = self.preprocess_gt(data_samples)
        lab, valid_masks = _mask_grid_colours(data_samples)
        return self.criterion(all_cls_scores, all_mask_preds, batch_gt_instances, lab, valid_masks)


def _mask_grid_colours(data_samples: TrackSampleList) -> Tuple[Optional[Tensor], Optional[Tensor]]:
    """``(B, T, 3, h, w)`` Lab and ``(B, T, h, w)`` valid cells from the frames' data samples,
    or ``(None, None)`` when a frame has none (the criterion says if they were needed)."""
    frames = [clip[index] for clip in data_samples for index in range(len(clip))]
    if not all('mask_grid_lab' in frame and 'mask_grid_valid' in frame for frame in frames):
        return None, None
    shape = (len(data_samples), len(data_samples[0]))
    lab = torch.stack([frame.mask_grid_lab for frame in frames])
    valid = torch.stack([frame.mask_grid_valid for frame in frames])
    return lab.unflatten(0, shape), valid.unflatten(0, shape)


def _box_tensor(boxes) -> Tensor:
    """Plain ``(n, 4)`` tensor from a tensor or an mmdet box structure."""
    return boxes.tensor if hasattr(boxes, 'tensor') else torch.as_tensor(boxes)


def _padded_masks(
    masks: Union[Tensor, object],
    pad_shape: Tuple[int, int],
    device: torch.device,
    video,
    frame: int,
) -> Tensor:
    """``(n, H, W)`` bool GT masks of one frame, which must already be padded to the batch."""
    if hasattr(masks, 'to_tensor'):  # BitmapMasks padded by mmdet's own preprocessor
        masks = masks.to_tensor(dtype=torch.bool, device=device)
    masks = torch.as_tensor(masks, device=device)
    if tuple(masks.shape[-2:]) != pad_shape:
        raise ValueError(
            f'video {video} frame {frame}: GT masks of size '
            f'{tuple(masks.shape[-2:])} are not padded to the batch {pad_shape}; '
            'use MaskFreeDataPreprocessor, which pads them per clip'
        )
    return masks.bool()
