"""MaskFreeVIS training criterion: matching and every loss of every decoder layer.

Shape letters (one meaning across ``maskfreevis.models``): B clips, T frames per clip, Q queries
per clip, I annotated instances of a clip, N matched instances (queries) of the batch,
M instance-frames (``N * T``), G frames carrying colour cues (``B * T``), K neighbours or
candidates per pixel, P frame pairs, H, W the padded input, h, w the mask grid.
"""

import copy
from typing import Dict, List, Optional, Sequence, Tuple

import torch
from mmcv.ops import point_sample
from mmdet.models.task_modules.assigners import HungarianAssigner
from mmdet.models.utils import get_uncertain_point_coords_with_randomness
from mmdet.registry import MODELS, TASK_UTILS
from mmdet.utils import ConfigType, InstanceList, OptConfigType, reduce_mean
from mmengine.structures import InstanceData
from torch import Tensor, nn

from ..task_modules.mask_grid import bilinear_box_masks, box_cells, rasterize_boxes
from .warmup import linear_warmup_factor, runner_iteration

__all__ = ['MaskFreeCriterion']

# Matching for clips that carry GT masks: the stock Mask2Former-VIS costs.
MASK_ASSIGNER_DEFAULT = dict(
    type='HungarianAssigner',
    match_costs=[
        dict(type='ClassificationCost', weight=2.0),
        dict(type='CrossEntropyLossCost', weight=5.0, use_sigmoid=True),
        dict(type='DiceCost', weight=5.0, pred_act=True, eps=1.0),
    ],
)

BOX_LOSS_KEYS = ('loss_proj', 'loss_pair', 'loss_tk')
BOX_MASK_RULES = ('cell_centre', 'bilinear')
MASK_LOSS_KEYS = ('loss_mask', 'loss_dice')


@MODELS.register_module()
class MaskFreeCriterion(nn.Module):
    """Matches queries to instances and computes every loss of every decoder layer.

    Per clip, the supervision follows the data: a clip whose GT carries ``masks`` is matched
    with ``mask_assigner`` (default: class + mask BCE + mask dice costs on shared random points)
    and trained with the stock point-sampled mask BCE + Dice; every other clip is matched with
    ``assigner`` (e.g. class + :class:`BoxMaskDiceCost` on the GT boxes in mask-grid cells) and
    trained with the projection, colour pairwise and Temporal KNN-patch losses on its boxes
    rasterised on the mask grid. Classification is shared. Every decoder layer is matched on its
    own; the colour cues depend on the frames only, so they are computed once per step and
    shared by every layer and instance. Every key (``loss_cls, loss_proj, loss_pair, loss_tk,
    loss_mask, loss_dice`` and ``d{i}.*``) is always present: a term without instances is a zero
    that keeps the graph.

    As released, the projection loss averages over all ``N x T`` instance-frames of the matched
    instances, a frame where the instance is absent (empty box mask) adding a constant without
    gradient; the pairwise loss only weighs pixels inside each frame's box, and the TK loss
    pixels inside the union of the instance's boxes over the clip, both never on padding.

    One clock drives every warm-up: the Runner's 0-based iteration (mmengine's ``MessageHub``),
    else the number of training-mode calls of this criterion (one per training step, however many
    decoder layers; counting the loss module's own calls ran the release's ramp 10x too fast).

    Args:
        num_classes: number of classes (the head passes its own).
        mask_stride: input pixels per mask-grid cell (the head passes ``strides[0]``).
        loss_cls: classification loss; without ``class_weight`` it gets Mask2Former's
            ``[1.0] * num_classes + [0.1]`` (0.1 for no-object); a given ``class_weight`` must
            have ``num_classes + 1`` entries.
        loss_proj, loss_pair, loss_tk: box projection, colour pairwise and TK losses.
        loss_mask, loss_dice: point-sampled mask losses of clips with GT masks.
        assigner: Hungarian assigner of box-supervised clips.
        mask_assigner: assigner of clips with GT masks; ``None``: stock class + mask BCE + dice.
        warmup_iters: linear ramp length per loss key (any of ``loss_proj``, ``loss_pair``,
            ``loss_tk``): the term is scaled by ``min(iteration / n, 1)``; absent keys (or 0)
            are not ramped. Released: ``dict(loss_tk=200)``.
        num_points, oversample_ratio, importance_sample_ratio: point sampling of the mask losses
            and of the mask matching (Mask2Former's).
        box_mask: how a box-supervised clip's boxes become the box masks of its losses:
            ``'cell_centre'`` (default): the cells whose centre the box contains, 0/1
            (:func:`~maskfreevis.models.task_modules.rasterize_boxes`); ``'bilinear'``: the
            release's, the box filled at input resolution and bilinearly resized to the mask
            grid, fractional on the box edges
            (:func:`~maskfreevis.models.task_modules.bilinear_box_masks`): soft weights of the
            projection and pairwise terms, while the TK union keeps the cells whose box masks
            sum to >= 1 over the clip.
    """

    def __init__(
        self,
        num_classes: int,
        mask_stride: int,
        loss_cls: ConfigType = dict(
            type='CrossEntropyLoss', use_sigmoid=False, loss_weight=2.0, reduction='mean'
        ),
        loss_proj: ConfigType = dict(type='BoxProjectionLoss', loss_weight=5.0),
        loss_pair: ConfigType = dict(type='PairwiseColourLoss', loss_weight=5.0),
        loss_tk: ConfigType = dict(type='TemporalKNNPatchLoss', loss_weight=0.5),
        loss_mask: ConfigType = dict(
            type='CrossEntropyLoss', use_sigmoid=True, reduction='mean', loss_weight=5.0
        ),
        loss_dice: ConfigType = dict(
            type='DiceLoss',
            use_sigmoid=True,
            activate=True,
            reduction='mean',
            naive_dice=True,
            eps=1.0,
            loss_weight=5.0,
        ),
        assigner: ConfigType = dict(
            type='HungarianAssigner',
            match_costs=[
                dict(type='ClassificationCost', weight=2.0),
                dict(type='BoxMaskDiceCost', weight=5.0),
            ],
        ),
        mask_assigner: OptConfigType = None,
        warmup_iters: Optional[Dict[str, int]] = dict(loss_tk=200),
        num_points: int = 12544,
        oversample_ratio: float = 3.0,
        importance_sample_ratio: float = 0.75,
        box_mask: str = 'cell_centre',
    ) -> None:
        super().__init__()
        if box_mask not in BOX_MASK_RULES:
            raise ValueError(
                f'MaskFreeCriterion: box_mask must be one of {BOX_MASK_RULES}, got {box_mask!r}'
            )
        self.box_mask = box_mask
        self.num_classes = num_classes
        self.mask_stride = int(mask_stride)
        loss_cls = _with_class_weight(loss_cls, num_classes)
        self.class_weight = list(loss_cls['class_weight'])
        # on the criterion's device, not copied there every decoder layer (not in checkpoints)
        self.register_buffer(
            'class_weight_tensor', torch.tensor(self.class_weight), persistent=False
        )
        self.loss_cls = MODELS.build(loss_cls)
        self.loss_proj = MODELS.build(loss_proj)
        self.loss_pair = MODELS.build(loss_pair)
        self.loss_tk = MODELS.build(loss_tk)
        self.loss_mask = MODELS.build(loss_mask)
        self.loss_dice = MODELS.build(loss_dice)
        self.assigner = TASK_UTILS.build(assigner)
        self.mask_assigner = TASK_UTILS.build(
            MASK_ASSIGNER_DEFAULT if mask_assigner is None else mask_assigner
        )
        self.warmup_iters = _checked_warmup(warmup_iters)
        self.num_points = num_points
        self.oversample_ratio = oversample_ratio
        self.importance_sample_ratio = importance_sample_ratio
        self.num_training_steps = 0  # the warm-up clock outside a Runner

    # ------------------------------------------------------------------ clock
    def training_iteration(self) -> int:
        """0-based training iteration: the Runner's, else this criterion's training calls."""
        iteration = runner_iteration()
        return self.num_training_steps if iteration is None else iteration

    def warmup_factors(self, iteration: int) -> Dict[str, float]:
        """Ramp factor in [0, 1] of every box-loss key at ``iteration`` (1.0: not ramped)."""
        return {
            key: linear_warmup_factor(iteration, self.warmup_iters.get(key, 0))
            for key in BOX_LOSS_KEYS
        }

    # ---------------------------------------------------------------- forward
    def forward(
        self,
        all_cls_scores: Sequence[Tensor],
        all_mask_preds: Sequence[Tensor],
        batch_gt_instances: InstanceList,
        lab: Optional[Tensor] = None,
        valid_masks: Optional[Tensor] = None,
    ) -> Dict[str, Tensor]:
        """Every loss of every decoder layer.

        Args:
            all_cls_scores: per decoder output ``(B, Q, num_classes + 1)`` class logits.
            all_mask_preds: per decoder output ``(B, Q, T, h, w)`` mask logits.
            batch_gt_instances: per clip an ``InstanceData`` over its I instances: ``labels``,
                ``bboxes (I, T, 4)`` xyxy input pixels, ``presence (I, T)`` bool, and
                ``masks (I, T, H, W)`` bool for clips with GT masks; metainfo
                ``mask_supervised`` says which (see ``MaskFreeTrackHead.preprocess_gt``).
            lab: ``(B, T, 3, h, w)`` CIE-Lab frames on the mask grid (needed when a clip is
                box-supervised; ``MaskFreeDataPreprocessor`` computes them).
            valid_masks: ``(B, T, h, w)`` bool, ``False`` on padding (``None``: all valid).

        Returns:
            ``loss_cls, loss_proj, loss_pair, loss_tk, loss_mask, loss_dice`` of the last
            decoder output and ``d{i}.<key>`` of the others.
        """
        iteration = self.training_iteration()
        _check_finite(all_cls_scores, all_mask_preds, iteration)
        mask_size = all_mask_preds[-1].shape[-2:]
        targets = [self._clip_targets(gt, mask_size) for gt in batch_gt_instances]
        colour_cues = None
        if any(not target.mask_supervised for target in targets):
            _check_colour_inputs(lab, valid_masks, all_mask_preds[-1])
            if valid_masks is None:
                valid_masks = lab.new_ones(lab[:, :, 0].shape, dtype=torch.bool)
            colour_cues = self._colour_cues(lab, valid_masks)
        factors = self.warmup_factors(iteration)
        losses = {}
        last = len(all_cls_scores) - 1
        for layer, (cls_scores, mask_preds) in enumerate(zip(all_cls_scores, all_mask_preds)):
            prefix = '' if layer == last else f'd{layer}.'
            layer_losses = self._layer_losses(
                cls_scores, mask_preds, targets, lab, valid_masks, colour_cues, factors
            )
            losses.update({prefix + key: value for key, value in layer_losses.items()})
        if self.training:
            self.num_training_steps += 1
        return losses

    def _clip_targets(self, gt: InstanceData, mask_size: Sequence[int]) -> InstanceData:
        """One clip's matching and loss targets, without modifying ``gt``.

        Returns:
            ``labels (I,)``, ``masks`` (``(I, T, h, w)`` box masks of the ``box_mask`` rule for
            a box-supervised clip, the ``(I, T, H, W)`` GT masks otherwise) and, for a
            box-supervised clip, its xyxy boxes ``grid_boxes (I, T, 4)`` in mask-grid cells
            and ``pixel_boxes (I, T, 4)`` on the ``(h * s, w * s)`` pixels the grid covers;
            ``gt``'s metainfo plus ``mask_stride``.
        """
        if gt.mask_supervised:
            return InstanceData(metainfo=gt.metainfo, labels=gt.labels, masks=gt.masks)
        input_size = (mask_size[0] * self.mask_stride, mask_size[1] * self.mask_stride)
        pixel_boxes = box_cells(gt.bboxes, gt.presence, input_size, 1)
        if self.box_mask == 'bilinear':
            masks = bilinear_box_masks(pixel_boxes, input_size, mask_size)
        else:
            masks = rasterize_boxes(gt.bboxes, gt.presence, mask_size, self.mask_stride)
        return InstanceData(
            metainfo=dict(gt.metainfo, mask_stride=self.mask_stride),
            labels=gt.labels,
            masks=masks,
            grid_boxes=box_cells(gt.bboxes, gt.presence, mask_size, self.mask_stride),
            pixel_boxes=pixel_boxes,
        )

    def _colour_cues(self, lab: Tensor, valid_masks: Tensor) -> Dict[str, Tensor]:
        """What the pairwise and TK losses need from the frames alone.

        Args:
            lab: ``(B, T, 3, h, w)``; valid_masks: ``(B, T, h, w)`` bool.

        Returns:
            ``pair``: ``(G, K, h, w)`` colour-similar neighbours of every frame;
            ``tk``: ``(P, B, K', h, w)`` K'-nearest patch candidates of every frame pair.
        """
        return dict(
            pair=self.loss_pair.neighbour_weights(lab.flatten(0, 1), valid_masks.flatten(0, 1)),
            tk=self.loss_tk.candidate_selection(lab, valid_masks),
        )

    # --------------------------------------------------------------- matching
    def _match(
        self, cls_score: Tensor, mask_pred: Tensor, target: InstanceData
    ) -> Tuple[Tensor, Tensor]:
        """Hungarian matching of one clip's queries to its instances.

        Args:
            cls_score: ``(Q, num_classes + 1)`` class logits.
            mask_pred: ``(Q, T, h, w)`` mask logits.
            target: one clip from :meth:`_clip_targets`.

        Returns:
            ``(num_pos,)`` matched query indices in ascending order and the ``(num_pos,)``
            instance (into I) each is matched to.
        """
        if target.mask_supervised:
            assign_result = self._assign_by_masks(cls_score, mask_pred, target)
        else:
            # box costs threshold the logits and need no gradient
            assign_result = self.assigner.assign(
                pred_instances=InstanceData(scores=cls_score, masks=mask_pred.detach()),
                gt_instances=InstanceData(
                    labels=target.labels,
                    masks=target.masks,
                    grid_boxes=target.grid_boxes,
                    pixel_boxes=target.pixel_boxes,
                ),
                img_meta=target.metainfo,
            )
        assigner = self.mask_assigner if target.mask_supervised else self.assigner
        # a Hungarian assigner matches min(Q, I) queries: known on the host without reading
        # the assignment
        num_matched = (
            min(len(cls_score), len(target)) if isinstance(assigner, HungarianAssigner) else None
        )
        matched = _assigned_queries(assign_result.gt_inds, num_matched)
        return matched, assign_result.gt_inds[matched] - 1

    def _assign_by_masks(self, cls_score: Tensor, mask_pred: Tensor, target: InstanceData):
        """Stock Mask2Former-VIS matching on masks at shared random points (mask clips)."""
        num_queries, num_gts = mask_pred.shape[0], len(target)
        points = torch.rand((1, self.num_points, 2), device=cls_score.device)
        # (Q, T, P) -> (Q, T*P): one point set shared by all frames, queries and GTs; the
        # matching needs no gradient, so no graph is kept for these samples
        pred_points = point_sample(mask_pred.detach(), points.expand(num_queries, -1, -1)).flatten(
            1
        )
        gt_points = point_sample(target.masks.float(), points.expand(num_gts, -1, -1)).flatten(1)
        return self.mask_assigner.assign(
            pred_instances=InstanceData(scores=cls_score, masks=pred_points),
            gt_instances=InstanceData(labels=target.labels, masks=gt_points),
            img_meta=target.metainfo,
        )

    # ----------------------------------------------------------------- losses
    def _layer_losses(
        self,
        cls_scores: Tensor,
        mask_preds: Tensor,
        targets: InstanceList,
        lab: Optional[Tensor],
        valid_masks: Optional[Tensor],
        colour_cues: Optional[Dict[str, Tensor]],
        factors: Dict[str, float],
    ) -> Dict[str, Tensor]:
        """All losses of one decoder output.

        Args:
            cls_scores: ``(B, Q, num_classes + 1)``; mask_preds: ``(B, Q, T, h, w)``.
            targets: per clip, from :meth:`_clip_targets`.
            lab, valid_masks: see :meth:`forward`; colour_cues: :meth:`_colour_cues`.
            factors: :meth:`warmup_factors` of this step.

        Returns:
            ``loss_cls`` and every box and mask key.
        """
        num_queries = cls_scores.shape[1]
        labels = [target.labels.new_full((num_queries,), self.num_classes) for target in targets]
        matched_queries = []  # per clip, its matched queries in ascending order
        matched_targets = []  # per clip, the box or GT masks of its matched queries
        for clip, target in enumerate(targets):
            matched, instance = self._match(cls_scores[clip], mask_preds[clip], target)
            labels[clip][matched] = target.labels[instance]
            matched_queries.append(matched)
            matched_targets.append(target.masks[instance])
        labels = torch.stack(labels).flatten()
        losses = dict(
            loss_cls=self.loss_cls(
                cls_scores.flatten(0, 1),
                labels,
                torch.ones_like(labels),
                avg_factor=self.class_weight_tensor[labels].sum(),
            )
        )
        box_clips = [b for b, target in enumerate(targets) if not target.mask_supervised]
        mask_clips = [b for b, target in enumerate(targets) if target.mask_supervised]
        losses.update(
            self._box_losses(
                mask_preds,
                matched_queries,
                matched_targets,
                box_clips,
                lab,
                valid_masks,
                colour_cues,
                factors,
            )
        )
        losses.update(self._mask_losses(mask_preds, matched_queries, matched_targets, mask_clips))
        return losses

    def _box_losses(
        self,
        mask_preds: Tensor,
        matched_queries: List[Tensor],
        matched_targets: List[Tensor],
        box_clips: List[int],
        lab: Optional[Tensor],
        valid_masks: Optional[Tensor],
        colour_cues: Optional[Dict[str, Tensor]],
        factors: Dict[str, float],
    ) -> Dict[str, Tensor]:
        """Projection, pairwise and TK losses of the matched queries of box-supervised clips.

        Args:
            mask_preds: ``(B, Q, T, h, w)`` logits.
            matched_queries: per clip its ``(num_pos,)`` matched queries, ascending.
            matched_targets: per clip ``(num_pos, T, h, w)`` box masks (box clips).
            box_clips: indices of the box-supervised clips.
            lab, valid_masks, colour_cues, factors: see :meth:`_layer_losses`.

        Returns:
            ``loss_proj, loss_pair, loss_tk`` scalars.
        """
        clip_of, logits = _matched_logits(mask_preds, matched_queries, box_clips)
        if logits.shape[0] == 0:
            zero = _graph_zero(mask_preds)
            return {key: zero for key in BOX_LOSS_KEYS}
        box_masks = torch.cat([matched_targets[b] for b in box_clips]).to(logits.dtype)
        num_frames = logits.shape[1]
        # instance-frame -> frame of the batch, to share each frame's colour similarities
        frame_of = (
            clip_of[:, None] * num_frames + torch.arange(num_frames, device=clip_of.device)
        ).flatten()
        frame_logits, frame_boxes = logits.flatten(0, 1), box_masks.flatten(0, 1)
        return dict(
            loss_proj=self.loss_proj(frame_logits, frame_boxes, weight_scale=factors['loss_proj']),
            loss_pair=self.loss_pair(
                frame_logits,
                lab.flatten(0, 1),
                frame_boxes,
                valid_masks=valid_masks.flatten(0, 1),
                frame_of=frame_of,
                neighbour_weights=colour_cues['pair'],
                weight_scale=factors['loss_pair'],
                check_indices=False,  # built here, in range
            ),
            loss_tk=self.loss_tk(
                logits,
                lab,
                box_masks,
                clip_of=clip_of,
                valid_masks=valid_masks,
                selection=colour_cues['tk'],
                weight_scale=factors['loss_tk'],
                check_indices=False,
            ),
        )

    def _mask_losses(
        self,
        mask_preds: Tensor,
        matched_queries: List[Tensor],
        matched_targets: List[Tensor],
        mask_clips: List[int],
    ) -> Dict[str, Tensor]:
        """Stock point-sampled mask BCE + Dice of the matched queries of mask-labelled clips.

        Normalised as the released criterion: Dice summed over instance-frames and BCE averaged
        over the points of each instance-frame, both divided by the number of matched
        instances (averaged over GPUs).

        Returns:
            ``loss_mask, loss_dice`` scalars.
        """
        logits = _matched_logits(mask_preds, matched_queries, mask_clips)[1]
        # a collective: every rank must call it, with or without mask clips
        num_masks = reduce_mean(mask_preds.new_full((1,), float(logits.shape[0])))
        num_masks = num_masks.clamp(min=1.0)
        if logits.shape[0] == 0:
            zero = _graph_zero(mask_preds)
            return {key: zero for key in MASK_LOSS_KEYS}
        targets = torch.cat([matched_targets[b] for b in mask_clips])  # (N, T, H, W)
        frame_logits = logits.flatten(0, 1).unsqueeze(1)
        with torch.no_grad():
            points = get_uncertain_point_coords_with_randomness(
                frame_logits,
                None,
                self.num_points,
                self.oversample_ratio,
                self.importance_sample_ratio,
            )
            point_targets = point_sample(
                targets.flatten(0, 1).unsqueeze(1).float(), points
            ).squeeze(1)
        point_logits = point_sample(frame_logits, points).squeeze(1)  # (M, points)
        return dict(
            loss_mask=self.loss_mask(
                point_logits.reshape(-1),
                point_targets.reshape(-1),
                avg_factor=num_masks * self.num_points,
            ),
            loss_dice=self.loss_dice(point_logits, point_targets, avg_factor=num_masks),
        )


def _check_finite(
    all_cls_scores: Sequence[Tensor], all_mask_preds: Sequence[Tensor], iteration: int
) -> None:
    """Raise a :class:`FloatingPointError` naming the step before scipy's Hungarian solver
    fails on NaN / inf costs with "matrix contains invalid numeric entries"."""
    outputs = [('class', layer, scores) for layer, scores in enumerate(all_cls_scores)] + [
        ('mask', layer, masks) for layer, masks in enumerate(all_mask_preds)
    ]
    finite = torch.stack([torch.isfinite(logits).all() for _, _, logits in outputs])
    if bool(finite.all()):
        return
    kind, layer, _ = outputs[int((~finite).nonzero()[0])]
    raise FloatingPointError(
        f'training iteration {iteration}: the {kind} logits of decoder output {layer} are not '
        'finite (NaN or inf), so they cannot be matched. Training is diverging: the learning '
        'rate is likely too high, or gradients are not clipped (optim_wrapper.clip_grad); '
        'resume from an earlier checkpoint with a lower learning rate or with clipping'
    )


def _check_colour_inputs(
    lab: Optional[Tensor], valid_masks: Optional[Tensor], mask_preds: Tensor
) -> None:
    """Box-supervised clips need Lab frames on the mask grid; fail loudly otherwise."""
    num_clips, _, num_frames, height, width = mask_preds.shape
    if lab is None:
        raise ValueError(
            'box-supervised clips need `lab` frames (B, T, 3, h, w) on the mask '
            'grid: train with MaskFreeDataPreprocessor, which computes them'
        )
    expected = (num_clips, num_frames, 3, height, width)
    if tuple(lab.shape) != expected:
        raise ValueError(
            f'lab has shape {tuple(lab.shape)}, the mask logits need '
            f"{expected}; is the data preprocessor's mask_stride the head's?"
        )
    if valid_masks is not None and tuple(valid_masks.shape) != expected[:2] + expected[3:]:
        raise ValueError(
            f'valid_masks has shape {tuple(valid_masks.shape)}, expected '
            f'{expected[:2] + expected[3:]}'
        )


def _graph_zero(tensor: Tensor) -> Tensor:
    """A scalar 0 connected to ``tensor``'s graph (keeps every parameter in the backward)."""
    return tensor.sum() * 0 + 0.0  # + 0.0 turns -0.0 into 0.0


def _assigned_queries(gt_inds: Tensor, num_matched: Optional[int]) -> Tensor:
    """The queries an assignment gives an instance (what mmdet's ``MaskPseudoSampler`` keeps).

    Args:
        gt_inds: ``(Q,)`` the assigner's ``gt_inds`` (0: background, i + 1: instance i).
        num_matched: how many there are when the caller knows it (a Hungarian assigner matches
            ``min(Q, I)``); then a stable sort puts them first, with no read of ``gt_inds`` on the
            host. ``None``: found with ``nonzero`` (a host sync on an accelerator).

    Returns:
        ``(num_pos,)`` long query indices, ascending.
    """
    assigned = gt_inds > 0
    if num_matched is None:
        return assigned.nonzero().squeeze(-1)
    order = torch.sort(assigned.to(torch.uint8), descending=True, stable=True)[1]
    return order[:num_matched]


def _matched_logits(
    mask_preds: Tensor, matched_queries: List[Tensor], clips: List[int]
) -> Tuple[Tensor, Tensor]:
    """The mask logits of the matched queries of some clips, gathered by index (no host sync).

    Args:
        mask_preds: ``(B, Q, T, ...)`` logits.
        matched_queries: per clip of the batch its ``(num_pos,)`` matched queries.
        clips: which clips.

    Returns:
        ``clip_of (N,)`` the clip of each and ``(N, T, ...)`` logits, clip after clip in
        ``clips`` order, queries ascending within a clip.
    """
    queries = [matched_queries[b] for b in clips]
    if not queries:
        empty = torch.zeros(0, dtype=torch.long, device=mask_preds.device)
        return empty, mask_preds[empty, empty]
    clip_of = torch.cat([torch.full_like(query, b) for b, query in zip(clips, queries)])
    return clip_of, mask_preds[clip_of, torch.cat(queries)]


def _with_class_weight(loss_cls: ConfigType, num_classes: int) -> ConfigType:
    """``loss_cls`` with Mask2Former's class weights filled in, or checked when given."""
    class_weight = loss_cls.get('class_weight')
    if class_weight is None:
        loss_cls = copy.deepcopy(loss_cls)
        loss_cls['class_weight'] = [1.0] * num_classes + [0.1]
    elif len(class_weight) != num_classes + 1:
        raise ValueError(
            f'loss_cls.class_weight has {len(class_weight)} entries, the criterion '
            f'needs num_classes + 1 = {num_classes + 1} (one per class, then '
            'no-object); leave it out to get [1.0] * num_classes + [0.1]'
        )
    return loss_cls


def _checked_warmup(warmup_iters: Optional[Dict[str, int]]) -> Dict[str, int]:
    """``warmup_iters`` as a plain dict, its keys and lengths checked."""
    warmup_iters = dict(warmup_iters or {})
    unknown = sorted(set(warmup_iters) - set(BOX_LOSS_KEYS))
    if unknown:
        raise ValueError(f'warmup_iters ramps the box losses {BOX_LOSS_KEYS} only, got {unknown}')
    for key, length in warmup_iters.items():
        if not isinstance(length, int) or length < 0:
            raise ValueError(
                f'warmup_iters[{key!r}] must be an int >= 0 (iterations), got {length!r}'
            )
    return warmup_iters
