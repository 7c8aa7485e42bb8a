"""Do MaskFreeVIS's colour priors hold on a dataset? Measure them against its GT masks.

The pairwise and Temporal KNN-patch (TK) losses push the mask of an instance to agree at pixel
pairs chosen by colour alone: neighbours of similar Lab colour inside the box (pairwise) and the
K most similar 3 x 3 patches in another frame (TK). Such a pair is *right* for instance n when
both pixels are inside n's mask or both outside; a wrong pair teaches the model to leak over the
object's edge. This script computes the pairs exactly as the training losses do (same functions,
knobs from the config, frames resized by the config's test ``Resize`` and average-pooled to the
stride-4 mask grid, GT masks sampled at the cell centres) and reports, over a YouTube-VIS json
**with masks**:

* pairwise: share of colour-kept neighbour pairs (p in n's box) that are right, next to the same
  share for all in-box neighbour pairs (no colour gate: what the gate buys);
* TK: share of selected (target, candidate) pairs (target in n's box union) that are right, next
  to all in-image candidates of the grid (no KNN selection);
* how many pairs per instance-frame each selection keeps.

Example (the demo's generated validation split, which carries masks)::

    python tools/analysis_tools/colour_prior_precision.py \
        --ann-file data/synthetic_vis/annotations/val.json --img-dir data/synthetic_vis/val/JPEGImages
"""
import argparse
import json
import os.path as osp
import sys
from typing import Dict, List, Optional, Sequence, Tuple

import mmcv
import numpy as np
import pycocotools.mask as mask_utils
import torch
import torch.nn.functional as F
from mmengine.config import Config, DictAction
from torch import Tensor
from tqdm import tqdm

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
if REPO_ROOT not in sys.path:
    sys.path.insert(0, REPO_ROOT)

from maskfreevis.datasets.vis_json_formats import segmentation_to_rle  # noqa: E402
from maskfreevis.models.losses import (build_frame_pairs,  # noqa: E402
                                       color_neighbour_weights, knn_patch_selection,
                                       rgb_to_lab)
from maskfreevis.models.losses.neighbour_grid import (grid_offsets,  # noqa: E402
                                                      overlap_slices)
from maskfreevis.models.task_modules import rasterize_boxes  # noqa: E402

DEFAULT_CONFIG = osp.join(REPO_ROOT, 'configs', 'maskfreevis',
                          'maskfreevis_r18_1xb4-800iter_synthetic.py')
MASK_STRIDE = 4
COUNTERS = ('pair_kept', 'pair_kept_right', 'pair_all', 'pair_all_right', 'tk_kept',
            'tk_kept_right', 'tk_all', 'tk_all_right', 'instance_frames')


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


def decode_mask(segmentation, height: int, width: int) -> np.ndarray:
    """A YouTube-VIS segmentation (RLE dict, polygon list or None) -> ``(H, W)`` bool."""
    if segmentation is None:
        return np.zeros((height, width), dtype=bool)
    return mask_utils.decode(segmentation_to_rle(segmentation, height, width)).astype(bool)


def load_video(video: dict, annotations: List[dict], img_dir: str,
               scale: Tuple[int, int]) -> Dict[str, Tensor]:
    """One video on the mask grid.

    Returns:
        ``lab (1, T, 3, h, w)``, ``members (N, T, h, w)`` bool GT masks sampled at cell centres,
        ``boxes (N, T, h, w)`` bool box masks (cell-centre rule, as in training).
    """
    frames, resized_shape = [], None
    for name in video['file_names']:
        path = osp.join(img_dir, name)
        image = mmcv.imread(path, channel_order='rgb') if osp.isfile(path) else None
        if image is None:
            raise FileNotFoundError(f'video {video["id"]}: cannot read frame {path}')
        image, factor = mmcv.imrescale(image, scale, return_scale=True)
        frames.append(torch.from_numpy(image).permute(2, 0, 1).float())
        resized_shape = image.shape[:2]
    rgb = torch.stack(frames)  # (T, 3, H, W)
    pooled = F.avg_pool2d(rgb, MASK_STRIDE, MASK_STRIDE, ceil_mode=True)
    lab = rgb_to_lab(pooled)[None]
    grid = lab.shape[-2:]
    members, boxes = [], []
    half = MASK_STRIDE // 2
    for ann in annotations:
        masks, frame_boxes, present = [], [], []
        for t, segmentation in enumerate(ann['segmentations']):
            mask = decode_mask(segmentation, video['height'], video['width'])
            mask = mmcv.imresize(mask.astype(np.uint8), resized_shape[::-1],
                                 interpolation='nearest').astype(bool)
            # a cell belongs to the mask when its centre pixel does (the training rule)
            cells = np.zeros(tuple(grid), dtype=bool)
            sampled = mask[half::MASK_STRIDE, half::MASK_STRIDE]
            cells[:sampled.shape[0], :sampled.shape[1]] = sampled
            masks.append(torch.from_numpy(cells))
            box = ann['bboxes'][t]
            present.append(box is not None)
            x, y, w, h = box if box is not None else (0.0, 0.0, 0.0, 0.0)
            frame_boxes.append([x * factor, y * factor, (x + w) * factor, (y + h) * factor])
        members.append(torch.stack(masks))
        boxes.append(rasterize_boxes(torch.tensor(frame_boxes), torch.tensor(present), grid,
                                     MASK_STRIDE))
    return dict(lab=lab, members=torch.stack(members), boxes=torch.stack(boxes))


def pairwise_counts(lab: Tensor, members: Tensor, boxes: Tensor,
                    knobs: dict) -> Dict[str, int]:
    """Right / all pairwise pairs, colour-kept and ungated.

    Args:
        lab: ``(T, 3, h, w)``; members, boxes: ``(N, T, h, w)`` bool.
        knobs: ``kernel_size, dilation, threshold``.
    """
    kept_weights = color_neighbour_weights(lab, knobs['kernel_size'], knobs['dilation'],
                                           knobs['threshold'])  # (T, K, h, w)
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


def temporal_counts(lab: Tensor, members: Tensor, boxes: Tensor,
                    knobs: dict) -> Dict[str, int]:
    """Right / all TK pairs, KNN-selected and all in-image grid candidates.

    Args:
        lab: ``(1, T, 3, h, w)``; members, boxes: ``(N, T, h, w)`` bool.
        knobs: ``patch_size, grid_size, dilation, topk, threshold, pairing``.
    """
    pairs = build_frame_pairs(knobs['pairing'], lab.shape[1])
    counts = dict.fromkeys(('tk_kept', 'tk_kept_right', 'tk_all', 'tk_all_right'), 0)
    if not pairs:
        return counts
    selection = knn_patch_selection(lab, pairs, knobs['patch_size'], knobs['grid_size'],
                                    knobs['dilation'], knobs['topk'], knobs['threshold'])
    offsets = grid_offsets(knobs['grid_size'], knobs['dilation'], include_centre=True)
    box_union = boxes.sum(dim=1) >= 1  # (N, h, w), as the loss
    for pair, (frame_a, frame_b) in enumerate(pairs):
        for k, offset in enumerate(offsets):
            slices = overlap_slices(offset, *lab.shape[-2:])
            if slices is None:
                continue
            (p_rows, p_cols), (q_rows, q_cols) = slices
            targets = box_union[:, p_rows, p_cols]
            right = (members[:, frame_b, p_rows, p_cols] ==
                     members[:, frame_a, q_rows, q_cols])
            kept = targets & selection[pair, 0, k, p_rows, p_cols]
            counts['tk_all'] += int(targets.sum())
            counts['tk_all_right'] += int((targets & right).sum())
            counts['tk_kept'] += int(kept.sum())
            counts['tk_kept_right'] += int((kept & right).sum())
    return counts


def loss_knobs(config: Config) -> Tuple[dict, dict]:
    """The pairwise and TK settings of the config's track head (module defaults elsewhere)."""
    head = config.model.track_head
    pair = dict(kernel_size=3, dilation=2, threshold=0.3)
    pair.update({k: v for k, v in head.get('loss_pair', {}).items() if k in pair})
    tk = dict(patch_size=3, grid_size=3, dilation=3, topk=5, threshold=0.05, pairing='cyclic')
    tk.update({k: v for k, v in head.get('loss_tk', {}).items() if k in tk})
    return pair, tk


def measure(ann_file: str, img_dir: str, scale: Tuple[int, int], pair_knobs: dict,
            tk_knobs: dict, max_videos: Optional[int] = None,
            progress: bool = True) -> Dict[str, float]:
    """Sum the counters over the videos and derive the shares (see the module doc)."""
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
            if all(s is None for s in ann['segmentations']):
                raise ValueError(f'{ann_file}: annotation {ann["id"]} of video {video["id"]} '
                                 f'has no masks; this analysis needs a json with segmentations')
    totals = dict.fromkeys(COUNTERS, 0)
    for video in tqdm(videos, desc='videos', disable=not progress):
        clip = load_video(video, by_video[video['id']], img_dir, scale)
        for key, value in pairwise_counts(clip['lab'][0], clip['members'], clip['boxes'],
                                          pair_knobs).items():
            totals[key] += value
        for key, value in temporal_counts(clip['lab'], clip['members'], clip['boxes'],
                                          tk_knobs).items():
            totals[key] += value
        totals['instance_frames'] += int(clip['boxes'].flatten(2).any(dim=2).sum())
    shares = dict(
        pair_kept_precision=totals['pair_kept_right'] / max(totals['pair_kept'], 1),
        pair_all_precision=totals['pair_all_right'] / max(totals['pair_all'], 1),
        tk_kept_precision=totals['tk_kept_right'] / max(totals['tk_kept'], 1),
        tk_all_precision=totals['tk_all_right'] / max(totals['tk_all'], 1),
        pair_kept_per_instance_frame=totals['pair_kept'] / max(totals['instance_frames'], 1),
        tk_kept_per_instance_frame=totals['tk_kept'] / max(totals['instance_frames'], 1))
    return dict(videos=len(videos), **totals, **shares)


def to_markdown(result: dict, pair_knobs: dict, tk_knobs: dict, command: str) -> str:
    """The result as a small markdown table."""
    return '\n'.join([
        '| prior | right pairs, kept by colour | right pairs, all candidates | kept per '
        'instance-frame |', '|---|---|---|---|',
        f'| pairwise {pair_knobs} | {result["pair_kept_precision"]:.3f} | '
        f'{result["pair_all_precision"]:.3f} | {result["pair_kept_per_instance_frame"]:.1f} |',
        f'| TK {tk_knobs} | {result["tk_kept_precision"]:.3f} | {result["tk_all_precision"]:.3f}'
        f' | {result["tk_kept_per_instance_frame"]:.1f} |', '',
        f'{result["videos"]} videos, {result["instance_frames"]} instance-frames. '
        f'Command: `{command}`', ''
    ])


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--ann-file', required=True, help='YouTube-VIS json with segmentations')
    parser.add_argument('--img-dir', required=True, help='folder the file_names are relative to')
    parser.add_argument('--config', default=DEFAULT_CONFIG,
                        help='config whose loss knobs and test Resize scale are used')
    parser.add_argument('--scale', type=int, nargs=2, default=None, metavar=('W', 'H'),
                        help='resize scale (default: the config\'s test Resize)')
    parser.add_argument('--max-videos', type=int, default=None)
    parser.add_argument('--out', default=None, help='also write the result as json here')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction, default={},
                        help='config overrides, e.g. model.track_head.loss_pair.dilation=1')
    return parser.parse_args(argv)


def main(argv: Optional[Sequence[str]] = None) -> dict:
    args = parse_args(argv)
    config = Config.fromfile(args.config)
    if args.cfg_options:
        config.merge_from_dict(args.cfg_options)
    scale = tuple(args.scale) if args.scale else find_resize_scale(config.test_pipeline)
    pair_knobs, tk_knobs = loss_knobs(config)
    result = measure(args.ann_file, args.img_dir, scale, pair_knobs, tk_knobs, args.max_videos)
    command = 'python ' + ' '.join([osp.relpath(__file__)] +
                                   list(argv if argv is not None else sys.argv[1:]))
    print(to_markdown(result, pair_knobs, tk_knobs, command))
    if args.out:
        with open(args.out, 'w') as handle:
            json.dump(dict(result, pair_knobs=pair_knobs, tk_knobs=tk_knobs, scale=scale,
                           command=command), handle, indent=2)
    return result


if __name__ == '__main__':
    main()
