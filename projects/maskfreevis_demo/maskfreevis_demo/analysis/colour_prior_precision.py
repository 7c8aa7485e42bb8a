"""Do MaskFreeVIS's colour priors hold on a dataset? Measure them against its GT masks.

The pairwise and Temporal KNN-patch (TK) losses push the mask of an instance to agree at pixel
pairs chosen by colour alone: neighbours of similar Lab colour inside the box (pairwise) and the
K most similar patches in another frame (TK). Such a pair is *right* for instance n when both
pixels are inside n's mask or both outside; a wrong pair teaches the model to leak over the
object's edge. The pairs are computed exactly as in training (the same loss functions, the
config's loss knobs, frames resized by the config's test ``Resize`` and turned into mask-grid
colours by the data preprocessor's :func:`~maskfreevis.models.data_preprocessors.mask_grid_lab`
at the config's mask stride and in its ``colour_space``, GT masks sampled at the cell centres).
Counted over a YouTube-VIS json **with masks**:

* pairwise: share of colour-kept neighbour pairs (p in n's box) that are right, next to the same
  share for all in-box neighbour pairs (no colour gate: what the gate buys);
* TK: share of selected (target, candidate) pairs (target in n's box union) that are right, next
  to all in-image candidates of the grid (no KNN selection);
* how many pairs per instance-frame each selection keeps.
"""

import inspect
import json
import os.path as osp
from typing import Dict, List, Optional, Sequence, Tuple

import mmcv
import numpy as np
import pycocotools.mask as mask_utils
import torch
from mmdet.registry import MODELS
from mmengine.config import Config
from torch import Tensor
from tqdm import tqdm

from maskfreevis.datasets.vis_json_formats import segmentation_to_rle
from maskfreevis.models.data_preprocessors import mask_grid_lab
from maskfreevis.models.losses import (
    build_frame_pairs,
    colour_neighbour_weights,
    knn_patch_selection,
)
from maskfreevis.models.losses.neighbour_grid import grid_offsets, overlap_slices
from maskfreevis.models.task_modules import rasterize_boxes

__all__ = [
    'DEFAULT_MASK_STRIDE',
    'DEFAULT_COLOUR_SPACE',
    'find_resize_scale',
    'mask_stride_of',
    'colour_space_of',
    'loss_knobs',
    'load_video',
    'pairwise_counts',
    'temporal_counts',
    'measure',
    'to_markdown',
]

# MaskFreeDataPreprocessor's defaults, for configs that do not set them
DEFAULT_MASK_STRIDE = 4
DEFAULT_COLOUR_SPACE = 'rgb'
PAIR_KNOBS = ('kernel_size', 'dilation', 'threshold')
TK_KNOBS = ('patch_size', 'grid_size', 'dilation', 'topk', 'threshold', 'pairing')
LOSS_TYPES = dict(loss_pair='PairwiseColourLoss', loss_tk='TemporalKNNPatchLoss')
COUNTERS = (
    'pair_kept',
    'pair_kept_right',
    'pair_all',
    'pair_all_right',
    'tk_kept',
    'tk_kept_right',
    'tk_all',
    'tk_all_right',
    'instance_frames',
)


def find_resize_scale(pipeline: Sequence[dict]) -> Tuple[int, int]:
    """``(w, h)`` scale of the first ``Resize`` in a (possibly nested) pipeline."""
    for transform in pipeline:
        if transform.get('type') == 'Resize':
            return tuple(transform['scale'])
        nested = transform.get('transforms')
        if nested:
            try:
                return find_resize_scale(nested)
            except LookupError:
                continue
    raise LookupError('the test pipeline has no Resize; pass --scale W H')


def mask_stride_of(config: Config) -> int:
    """The mask stride of the config's data preprocessor (``model.data_preprocessor.mask_stride``,
    :data:`DEFAULT_MASK_STRIDE` when absent)."""
    preprocessor = config.model.get('data_preprocessor', None) or {}
    return int(preprocessor.get('mask_stride', DEFAULT_MASK_STRIDE))


def colour_space_of(config: Config) -> str:
    """The colours the config's data preprocessor converts to Lab
    (``model.data_preprocessor.colour_space``, :data:`DEFAULT_COLOUR_SPACE` when absent)."""
    preprocessor = config.model.get('data_preprocessor', None) or {}
    return str(preprocessor.get('colour_space', DEFAULT_COLOUR_SPACE))


def _knobs(loss_cfg: dict, default_type: str, names: Sequence[str]) -> dict:
    """The loss module's constructor defaults for ``names``, updated by the config's values."""
    loss_class = MODELS.get(loss_cfg.get('type', default_type))
    if loss_class is None:
        raise KeyError(f'loss type {loss_cfg.get("type")!r} is not registered')
    parameters = inspect.signature(loss_class.__init__).parameters
    knobs = {name: parameters[name].default for name in names}
    knobs.update({name: value for name, value in loss_cfg.items() if name in knobs})
    return knobs


def loss_knobs(config: Config) -> Tuple[dict, dict]:
    """The pairwise and TK settings of ``model.track_head.criterion.loss_pair`` / ``loss_tk``
    (the loss modules' defaults for what the config leaves out).

    Raises:
        KeyError: the config keeps the losses directly under ``model.track_head`` (the schema
            before the criterion existed).
    """
    head = config.model.track_head
    outdated = [key for key in LOSS_TYPES if key in head]
    if outdated:
        raise KeyError(
            f'{config.filename}: model.track_head.{outdated[0]} is the old place of the '
            f'loss settings; they belong under model.track_head.criterion'
        )
    criterion = head.get('criterion', None) or {}
    pair = _knobs(criterion.get('loss_pair', None) or {}, LOSS_TYPES['loss_pair'], PAIR_KNOBS)
    tk = _knobs(criterion.get('loss_tk', None) or {}, LOSS_TYPES['loss_tk'], TK_KNOBS)
    return pair, tk


def _decode_mask(segmentation, height: int, width: int) -> np.ndarray:
    """A YouTube-VIS segmentation (RLE dict, polygon list or None) -> ``(H, W)`` bool."""
    if not segmentation:
        return np.zeros((height, width), dtype=bool)
    return mask_utils.decode(segmentation_to_rle(segmentation, height, width)).astype(bool)


def load_video(
    video: dict,
    annotations: List[dict],
    img_dir: str,
    scale: Tuple[int, int],
    stride: int = DEFAULT_MASK_STRIDE,
    colour_space: str = DEFAULT_COLOUR_SPACE,
) -> Dict[str, Tensor]:
    """One video on the stride-``stride`` mask grid, as training sees it.

    Args:
        video: the json's video entry (``id``, ``file_names``, ``height``, ``width``).
        annotations: the video's N annotations (``bboxes`` xywh, ``segmentations``).
        img_dir: folder the ``file_names`` are relative to.
        scale: ``(w, h)`` rescale target (aspect ratio kept, as ``Resize(keep_ratio=True)``).
        stride: input pixels per mask cell.
        colour_space: colours converted to Lab (``'rgb'`` or ``'release'``, see
            :func:`~maskfreevis.models.data_preprocessors.mask_grid_lab`).

    Returns:
        ``lab (1, T, 3, h, w)``, ``members (N, T, h, w)`` bool GT masks sampled at cell centres,
        ``boxes (N, T, h, w)`` bool box masks (cell-centre rule, as in training).
    """
    frames, factor, resized_shape = [], 1.0, None
    for name in video['file_names']:
        path = osp.join(img_dir, name)
        image = mmcv.imread(path, channel_order='rgb') if osp.isfile(path) else None
        if image is None:
            raise FileNotFoundError(f'video {video["id"]}: cannot read frame {path}')
        image, factor = mmcv.imrescale(image, scale, return_scale=True)
        frames.append(torch.from_numpy(image).permute(2, 0, 1).float())
        resized_shape = image.shape[:2]
    lab = mask_grid_lab(torch.stack(frames), stride, colour_space)[None]  # (1, T, 3, h, w)
    grid = lab.shape[-2:]
    members, boxes = [], []
    half = stride // 2
    for ann in annotations:
        masks, frame_boxes, present = [], [], []
        for t, segmentation in enumerate(ann['segmentations']):
            mask = _decode_mask(segmentation, video['height'], video['width'])
            mask = mmcv.imresize(
                mask.astype(np.uint8), resized_shape[::-1], interpolation='nearest'
            ).astype(bool)
            # a cell belongs to the mask when its centre pixel does (the training rule)
            cells = np.zeros(tuple(grid), dtype=bool)
            sampled = mask[half::stride, half::stride]
            cells[: sampled.shape[0], : sampled.shape[1]] = sampled
            masks.append(torch.from_numpy(cells))
            box = ann['bboxes'][t]
            present.append(box is not None)
            x, y, w, h = box if box is not None else (0.0, 0.0, 0.0, 0.0)
            frame_boxes.append([x * factor, y * factor, (x + w) * factor, (y + h) * factor])
        members.append(torch.stack(masks))
        boxes.append(
            rasterize_boxes(torch.tensor(frame_boxes), torch.tensor(present), grid, stride)
        )
    return dict(lab=lab, members=torch.stack(members), boxes=torch.stack(boxes))


def pairwise_counts(lab: Tensor, members: Tensor, boxes: Tensor, knobs: dict) -> Dict[str, int]:
    """Right / all pairwise pairs, colour-kept and ungated.

    Args:
        lab: ``(T, 3, h, w)``; members, boxes: ``(N, T, h, w)`` bool.
        knobs: ``kernel_size, dilation, threshold``.
    """
    kept_weights = colour_neighbour_weights(
        lab, knobs['kernel_size'], knobs['dilation'], knobs['threshold']
    )  # (T, K, h, w)
    offsets = grid_offsets(knobs['kernel_size'], knobs['dilation'], include_centre=False)
    counts = dict.fromkeys(('pair_kept', 'pair_kept_right', 'pair_all', 'pair_all_right'), 0)
    for k, offset in enumerate(offsets):
        slices = overlap_slices(offset, *lab.shape[-2:])
        if slices is None:
            continue
        (p_rows, p_cols), (q_rows, q_cols) = slices
        in_box = boxes[..., p_rows, p_cols]
        right = members[..., p_rows, p_cols] == members[..., q_rows, q_cols]
        kept = in_box & kept_weights[None, :, k, p_rows, p_cols]
        counts['pair_all'] += int(in_box.sum())
        counts['pair_all_right'] += int((in_box & right).sum())
        counts['pair_kept'] += int(kept.sum())
        counts['pair_kept_right'] += int((kept & right).sum())
    return counts


def temporal_counts(lab: Tensor, members: Tensor, boxes: Tensor, knobs: dict) -> Dict[str, int]:
    """Right / all TK pairs, KNN-selected and all in-image grid candidates.

    Args:
        lab: ``(1, T, 3, h, w)``; members, boxes: ``(N, T, h, w)`` bool.
        knobs: ``patch_size, grid_size, dilation, topk, threshold, pairing``.
    """
    pairs = build_frame_pairs(knobs['pairing'], lab.shape[1])
    counts = dict.fromkeys(('tk_kept', 'tk_kept_right', 'tk_all', 'tk_all_right'), 0)
    if not pairs:
        return counts
    selection = knn_patch_selection(
        lab,
        pairs,
        knobs['patch_size'],
        knobs['grid_size'],
        knobs['dilation'],
        knobs['topk'],
        knobs['threshold'],
    )
    offsets = grid_offsets(knobs['grid_size'], knobs['dilation'], include_centre=True)
    box_union = boxes.sum(dim=1) >= 1  # (N, h, w), as the loss
    for pair, (frame_a, frame_b) in enumerate(pairs):
        for k, offset in enumerate(offsets):
            slices = overlap_slices(offset, *lab.shape[-2:])
            if slices is None:
                continue
            (p_rows, p_cols), (q_rows, q_cols) = slices
            targets = box_union[:, p_rows, p_cols]
            right = members[:, frame_b, p_rows, p_cols] == members[:, frame_a, q_rows, q_cols]
            kept = targets & selection[pair, 0, k, p_rows, p_cols]
            counts['tk_all'] += int(targets.sum())
            counts['tk_all_right'] += int((targets & right).sum())
            counts['tk_kept'] += int(kept.sum())
            counts['tk_kept_right'] += int((kept & right).sum())
    return counts


def measure(
    ann_file: str,
    img_dir: str,
    scale: Tuple[int, int],
    pair_knobs: dict,
    tk_knobs: dict,
    max_videos: Optional[int] = None,
    progress: bool = True,
    stride: int = DEFAULT_MASK_STRIDE,
    colour_space: str = DEFAULT_COLOUR_SPACE,
) -> Dict[str, float]:
    """Sum the counters over the videos and derive the shares (see the module doc).

    Raises:
        ValueError: no annotated video, or an annotation without any mask (named).
        FileNotFoundError: a frame is missing (named with its video).
    """
    with open(ann_file) as handle:
        data = json.load(handle)
    by_video: Dict[int, List[dict]] = {}
    for ann in data['annotations']:
        by_video.setdefault(ann['video_id'], []).append(ann)
    videos = [v for v in data['videos'] if by_video.get(v['id'])][:max_videos]
    if not videos:
        raise ValueError(f'{ann_file}: no video with annotations')
    for video in videos:
        for ann in by_video[video['id']]:
            if all(not s for s in ann.get('segmentations') or []):
                raise ValueError(
                    f'{ann_file}: annotation {ann["id"]} of video {video["id"]} '
                    f'has no masks; this analysis needs a json with segmentations'
                )
    totals = dict.fromkeys(COUNTERS, 0)
    for video in tqdm(videos, desc='videos', disable=not progress):
        clip = load_video(video, by_video[video['id']], img_dir, scale, stride, colour_space)
        for key, value in pairwise_counts(
            clip['lab'][0], clip['members'], clip['boxes'], pair_knobs
        ).items():
            totals[key] += value
        for key, value in temporal_counts(
            clip['lab'], clip['members'], clip['boxes'], tk_knobs
        ).items():
            totals[key] += value
        totals['instance_frames'] += int(clip['boxes'].flatten(2).any(dim=2).sum())
    shares = dict(
        pair_kept_precision=totals['pair_kept_right'] / max(totals['pair_kept'], 1),
        pair_all_precision=totals['pair_all_right'] / max(totals['pair_all'], 1),
        tk_kept_precision=totals['tk_kept_right'] / max(totals['tk_kept'], 1),
        tk_all_precision=totals['tk_all_right'] / max(totals['tk_all'], 1),
        pair_kept_per_instance_frame=totals['pair_kept'] / max(totals['instance_frames'], 1),
        tk_kept_per_instance_frame=totals['tk_kept'] / max(totals['instance_frames'], 1),
    )
    return dict(videos=len(videos), **totals, **shares)


def to_markdown(result: dict, pair_knobs: dict, tk_knobs: dict, command: str) -> str:
    """The result of :func:`measure` as a small markdown table."""
    return '\n'.join(
        [
            '| prior | right pairs, kept by colour | right pairs, all candidates | kept per '
            'instance-frame |',
            '|---|---|---|---|',
            f'| pairwise {pair_knobs} | {result["pair_kept_precision"]:.3f} | '
            f'{result["pair_all_precision"]:.3f} | {result["pair_kept_per_instance_frame"]:.1f} |',
            f'| TK {tk_knobs} | {result["tk_kept_precision"]:.3f} | '
            f'{result["tk_all_precision"]:.3f} | {result["tk_kept_per_instance_frame"]:.1f} |',
            '',
            f'{result["videos"]} videos, {result["instance_frames"]} instance-frames. '
            f'Command: `{command}`',
            '',
        ]
    )
