"""Drawing video instance predictions: coloured masks with ids on frames, GIFs and a contact sheet.

All images are RGB ``uint8`` numpy arrays ``(H, W, 3)``. Colours depend only on the instance id, so
one object keeps its colour over a video.
"""

import colorsys
import os
import os.path as osp
from typing import List, Optional, Sequence

import cv2
import imageio.v2 as imageio
import numpy as np

from .labels import draw_labels

__all__ = [
    'colour_for_id',
    'draw_instances',
    'draw_video',
    'select_drawn_instances',
    'write_gif',
    'make_contact_sheet',
]

_GOLDEN_RATIO = 0.618033988749895


def colour_for_id(instance_id: int) -> np.ndarray:
    """A saturated RGB colour (3,) uint8 for an instance id; neighbouring ids get distant hues."""
    hue = (0.13 + int(instance_id) * _GOLDEN_RATIO) % 1.0
    return np.round(255 * np.array(colorsys.hsv_to_rgb(hue, 0.85, 1.0))).astype(np.uint8)


def draw_instances(
    frame: np.ndarray,
    masks: np.ndarray,
    instance_ids: Sequence[int],
    labels: Optional[Sequence[int]] = None,
    scores: Optional[Sequence[float]] = None,
    class_names: Optional[Sequence[str]] = None,
    alpha: float = 0.55,
    upscale: int = 1,
) -> np.ndarray:
    """Overlay instance masks (blended colour + outline) and an ``id`` tag on one frame.

    Args:
        frame: (H, W, 3) uint8 RGB.
        masks: (N, H, W) bool. Where masks overlap, the instance listed first wins (pass them sorted
            by descending score).
        instance_ids: N ids; they pick the colours and are written as ``#id``.
        labels: N class indices into ``class_names`` (optional).
        scores: N confidences written after the class name (optional).
        class_names: names for ``labels``.
        alpha: opacity of the mask colour.
        upscale: integer nearest-neighbour magnification before drawing, so tags stay readable on
            small frames.

    Returns:
        (H * upscale, W * upscale, 3) uint8 RGB.
    """
    frame = np.asarray(frame, dtype=np.uint8)
    masks = np.asarray(masks, dtype=bool).reshape(-1, *frame.shape[:2])
    if len(instance_ids) != len(masks):
        raise ValueError(f'{len(masks)} masks but {len(instance_ids)} instance ids')
    if upscale > 1:
        frame = np.repeat(np.repeat(frame, upscale, 0), upscale, 1)
        masks = np.repeat(np.repeat(masks, upscale, 1), upscale, 2)
    canvas = frame.copy()
    if len(masks) == 0:
        return canvas
    colours = np.stack([colour_for_id(i) for i in instance_ids])  # (N, 3)
    covered = masks.any(0)
    winner = masks.argmax(0)  # first instance covering each pixel
    overlay = colours[winner].astype(np.float32)
    blended = (1 - alpha) * canvas.astype(np.float32) + alpha * overlay
    canvas[covered] = np.round(blended[covered]).astype(np.uint8)
    thickness = max(1, upscale // 2)
    font_scale = 0.3 + 0.1 * upscale
    texts, boxes, drawn = [], [], []
    for k, mask in enumerate(masks):
        if not mask.any():
            continue
        visible = (winner == k) & mask
        contours, _ = cv2.findContours(
            mask.astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE
        )
        colour = tuple(int(c) for c in colours[k])
        cv2.drawContours(canvas, contours, -1, colour, thickness)
        text = f'#{instance_ids[k]}'
        if labels is not None and class_names is not None:
            text += f' {class_names[int(labels[k])]}'
        if scores is not None:
            text += f' {float(scores[k]):.2f}'
        # the label goes to the instance's largest visible part, not to the box of all its
        # parts (a mask in pieces across the frame would put it far from any of them)
        part_contours, _ = cv2.findContours(
            (visible if visible.any() else mask).astype(np.uint8),
            cv2.RETR_EXTERNAL,
            cv2.CHAIN_APPROX_SIMPLE,
        )
        left, top, part_w, part_h = cv2.boundingRect(max(part_contours, key=cv2.contourArea))
        texts.append(text)
        boxes.append([left, top, left + part_w, top + part_h])
        drawn.append(k)
    if texts:
        # each label at its own instance, on a box of its colour, never on another label
        draw_labels(canvas, texts, np.array(boxes), colours[drawn], font_scale, thickness)
    return canvas


def write_gif(frames: Sequence[np.ndarray], path: str, fps: float = 4.0) -> str:
    """Write RGB frames (each (H, W, 3) uint8, same size) as a looping GIF; returns ``path``."""
    if len(frames) == 0:
        raise ValueError(f'no frames to write into {path}')
    os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
    imageio.mimsave(
        path, [np.asarray(f, dtype=np.uint8) for f in frames], duration=1000.0 / fps, loop=0
    )
    return path


def make_contact_sheet(
    rows: Sequence[Sequence[np.ndarray]],
    path: Optional[str] = None,
    row_titles: Optional[Sequence[str]] = None,
    gap: int = 4,
    background: int = 255,
) -> np.ndarray:
    """Tile frames into a grid, one row per sequence; optionally write it as a PNG.

    Args:
        rows: R sequences of RGB frames (H, W, 3) uint8 of one size; rows may differ in length.
        path: where to write the PNG (skipped when None).
        row_titles: R strings drawn in a band above each row.
        gap: pixels between tiles.
        background: grey level of the gaps.

    Returns:
        The sheet, (R * (H + title + gap) + gap, C * (W + gap) + gap, 3) uint8 RGB with C the
        longest row.
    """
    if len(rows) == 0 or all(len(r) == 0 for r in rows):
        raise ValueError('make_contact_sheet needs at least one frame')
    tile_h, tile_w = next(np.asarray(f).shape[:2] for r in rows for f in r)
    cols = max(len(r) for r in rows)
    title_h = 16 if row_titles else 0
    sheet = np.full(
        (len(rows) * (tile_h + title_h + gap) + gap, cols * (tile_w + gap) + gap, 3),
        background,
        np.uint8,
    )
    for r, row in enumerate(rows):
        top = gap + r * (tile_h + title_h + gap)
        if row_titles:
            cv2.putText(
                sheet,
                str(row_titles[r]),
                (gap, top + title_h - 4),
                cv2.FONT_HERSHEY_SIMPLEX,
                0.4,
                (0, 0, 0),
                1,
                cv2.LINE_AA,
            )
        for c, tile in enumerate(row):
            tile = np.asarray(tile, dtype=np.uint8)
            if tile.shape[:2] != (tile_h, tile_w):
                raise ValueError(
                    f'tile ({r}, {c}) has size {tile.shape[:2]}, expected {(tile_h, tile_w)}'
                )
            left = gap + c * (tile_w + gap)
            sheet[top + title_h : top + title_h + tile_h, left : left + tile_w] = tile
    if path is not None:
        os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
        cv2.imwrite(path, sheet[..., ::-1])
    return sheet


def draw_video(
    frames: Sequence[np.ndarray],
    instances: Sequence,
    class_names: Optional[Sequence[str]] = None,
    score_thr: float = 0.3,
    upscale: int = 1,
    overlap_thr: float = 0.5,
) -> List[np.ndarray]:
    """Draw per-frame predictions of one video (as :func:`maskfreevis.apis.inference_vis` returns).

    Args:
        frames: T RGB frames (H, W, 3) uint8.
        instances: T objects with ``masks`` (N, H, W), ``instances_id`` (N,), ``scores`` (N,) and
            ``labels`` (N,) (tensors or arrays), the same N instances in every frame.
        class_names: names for ``labels``.
        score_thr: instances scoring below this are not drawn.
        upscale: integer magnification (see :func:`draw_instances`).
        overlap_thr: an instance whose video-level mask IoU with a better-scoring drawn one
            reaches this is not drawn (duplicates of one object).

    Returns:
        T drawn frames, (H * upscale, W * upscale, 3) uint8 RGB.
    """
    if len(frames) != len(instances):
        raise ValueError(f'{len(frames)} frames but predictions for {len(instances)}')
    if len(instances) == 0:
        return []
    scores = _as_numpy(instances[0].scores).astype(np.float64)
    keep = select_drawn_instances(instances, score_thr, overlap_thr)
    drawn = []
    for frame, pred in zip(frames, instances):
        drawn.append(
            draw_instances(
                frame,
                _as_numpy(pred.masks)[keep],
                _as_numpy(pred.instances_id)[keep],
                labels=_as_numpy(pred.labels)[keep],
                scores=scores[keep],
                class_names=class_names,
                upscale=upscale,
            )
        )
    return drawn


def select_drawn_instances(
    instances: Sequence, score_thr: float = 0.3, overlap_thr: float = 0.5
) -> np.ndarray:
    """Indices of the instances :func:`draw_video` draws, best score first.

    Mask2Former-VIS returns its top (query, class) pairs: a query comes back with several
    classes, and several queries may cover one object. Each object is kept once, best score first
    (greedy suppression on the video-level mask IoU; for drawing and listing only, the metric sees
    everything).

    Args:
        instances: T per-frame objects with ``masks`` (N, H, W) and ``scores`` (N,), the same N
            instances in every frame (as :func:`maskfreevis.apis.inference_vis` returns).
        score_thr: instances scoring below this are dropped.
        overlap_thr: an instance whose video-level mask IoU with a better-scoring kept one reaches
            this is dropped.

    Returns:
        (K,) int64 indices into the N instances, by descending score.
    """
    if len(instances) == 0:
        return np.zeros(0, dtype=np.int64)
    scores = _as_numpy(instances[0].scores).astype(np.float64)
    stacked = np.stack([_as_numpy(p.masks) for p in instances], 1).reshape(len(scores), -1)
    stacked = stacked.astype(np.float32)
    inter = stacked @ stacked.T
    area = np.diag(inter)
    iou = inter / np.maximum(area[:, None] + area[None, :] - inter, 1)
    keep: List[int] = []
    for index in np.argsort(-scores, kind='stable'):
        if scores[index] < score_thr or area[index] == 0:
            continue
        if all(iou[index, k] < overlap_thr for k in keep):
            keep.append(int(index))
    return np.array(keep, dtype=np.int64)


def _as_numpy(values) -> np.ndarray:
    if hasattr(values, 'detach'):
        return values.detach().cpu().numpy()
    return np.asarray(values)
