"""Legible instance labels: each at its own instance, on a background box, none overlapping.

Labels are placed greedily in the order given (pass the best-scoring instance first): each takes
the free spot touching its instance's box that is nearest to the usual place, just above the box's
top-left corner, so two instances at one place get their labels stacked rather than drawn on top
of each other.
"""

from typing import Sequence

import cv2
import numpy as np

__all__ = ['place_labels', 'label_size', 'draw_labels']

_FONT = cv2.FONT_HERSHEY_SIMPLEX
_PADDING = 2


def label_size(text: str, font_scale: float, thickness: int) -> tuple:
    """(width, height) in pixels of ``text``'s background box, padding included."""
    (width, height), baseline = cv2.getTextSize(text, _FONT, font_scale, thickness)
    return width + 2 * _PADDING, height + baseline + 2 * _PADDING


def _candidate_corners(box: np.ndarray, width: int, height: int) -> np.ndarray:
    """(C, 2) top-left corners of label boxes touching ``box`` (xyxy), in order of preference:
    nearest first to the spot just above the box's top-left corner."""
    x0, y0, x1, y1 = box
    step = max(width // 4, 1)
    # a grid from the usual spot, plus the spots flush with the box's edges
    columns = np.concatenate(
        [np.arange(x0, x0 - width - 1, -step), np.arange(x0, x1 + 1, step), [x1 - width, x1]]
    )
    rows = np.concatenate([np.arange(y0 - height, y1 + 1, max(height // 2, 1)), [y0, y1]])
    columns, rows = np.unique(columns), np.unique(rows)
    corners = np.stack(np.meshgrid(columns, rows, indexing='xy'), -1).reshape(-1, 2)
    distance = np.abs(corners[:, 0] - x0) + np.abs(corners[:, 1] - (y0 - height))
    return corners[np.argsort(distance, kind='stable')]


def place_labels(
    boxes: np.ndarray, sizes: np.ndarray, frame_hw: Sequence[int], margin: int = 1
) -> np.ndarray:
    """Non-overlapping label boxes, each touching its instance's box.

    Args:
        boxes: (N, 4) xyxy boxes of the instances, in pixels.
        sizes: (N, 2) width and height of each label box.
        frame_hw: (H, W) of the frame; labels are kept inside it.
        margin: pixels kept free between two labels.

    Returns:
        (N, 4) int64 xyxy label boxes (right/bottom exclusive). A label overlaps another only when
        no spot around its instance is free (then it takes the spot with the least overlap).
    """
    height, width = int(frame_hw[0]), int(frame_hw[1])
    boxes = np.round(np.asarray(boxes, dtype=np.float64)).astype(np.int64).reshape(-1, 4)
    sizes = np.asarray(sizes, dtype=np.int64).reshape(-1, 2)
    placed = np.zeros((len(boxes), 4), dtype=np.int64)
    for index, (box, (label_w, label_h)) in enumerate(zip(boxes, sizes)):
        corners = _candidate_corners(box, label_w, label_h)
        corners[:, 0] = np.clip(corners[:, 0], 0, max(width - label_w, 0))
        corners[:, 1] = np.clip(corners[:, 1], 0, max(height - label_h, 0))
        candidates = np.concatenate([corners, corners + [label_w, label_h]], 1)  # (C, 4)
        if index == 0:
            placed[0] = candidates[0]
            continue
        others = placed[:index, None, :]  # (P, 1, 4)
        overlap_w = np.minimum(candidates[None, :, 2], others[..., 2] + margin) - np.maximum(
            candidates[None, :, 0], others[..., 0] - margin
        )
        overlap_h = np.minimum(candidates[None, :, 3], others[..., 3] + margin) - np.maximum(
            candidates[None, :, 1], others[..., 1] - margin
        )
        overlap = (np.clip(overlap_w, 0, None) * np.clip(overlap_h, 0, None)).sum(0)  # (C,)
        placed[index] = candidates[int(np.argmin(overlap))]  # the first free one if any
    return placed


def draw_labels(
    canvas: np.ndarray,
    texts: Sequence[str],
    boxes: np.ndarray,
    colours: np.ndarray,
    font_scale: float = 0.4,
    thickness: int = 1,
) -> np.ndarray:
    """Write each text on a box of its instance's colour, placed by :func:`place_labels`.

    Args:
        canvas: (H, W, 3) uint8 RGB, drawn on in place.
        texts: N label texts, best instance first.
        boxes: (N, 4) xyxy boxes of the instances.
        colours: (N, 3) uint8 RGB instance colours (the label background).
        font_scale: OpenCV font scale.
        thickness: stroke width of the text.

    Returns:
        (N, 4) int64 xyxy label boxes as drawn.
    """
    sizes = np.array([label_size(t, font_scale, thickness) for t in texts]).reshape(-1, 2)
    placed = place_labels(boxes, sizes, canvas.shape[:2])
    for text, (x0, y0, x1, y1), colour in zip(texts, placed, np.asarray(colours)):
        background = tuple(int(c) for c in colour)
        # black or white, whichever reads better on the instance colour
        luminance = 0.299 * colour[0] + 0.587 * colour[1] + 0.114 * colour[2]
        ink = (0, 0, 0) if luminance > 140 else (255, 255, 255)
        cv2.rectangle(canvas, (int(x0), int(y0)), (int(x1) - 1, int(y1) - 1), background, -1)
        (_, text_h), _ = cv2.getTextSize(text, _FONT, font_scale, thickness)
        origin = (int(x0) + _PADDING, int(y0) + _PADDING + text_h)
        cv2.putText(canvas, text, origin, _FONT, font_scale, ink, thickness, cv2.LINE_AA)
    return placed
