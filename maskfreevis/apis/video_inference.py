"""Segment and track the instances of a video of any length, streaming per-frame results.

``window=None`` runs the whole video in one forward pass (the offline Mask2Former-VIS inference, as
:func:`maskfreevis.apis.inference_vis`; the evaluation setting). With ``window=W`` the video is cut
into windows of W frames, consecutive windows sharing ``overlap`` frames; each window is one
offline forward pass, and the instances of a window are associated with those of the previous one
MinVIS-style: Hungarian matching on the mask IoU over the shared frames. Frames are decoded as
they are needed and each result is yielded as soon as its frame is final, so the memory held is
that of one window (its frames, masks and the model's activations) and the next window's new
frames, whatever the video's length. An object that is missing from the frames two windows share
(occluded, or out of view) is given a new id when it comes back.
"""

from dataclasses import dataclass
from typing import Iterator, List, Optional, Sequence, Tuple

import numpy as np
import pycocotools.mask as mask_util
import torch
import torch.nn as nn
from scipy.optimize import linear_sum_assignment

from .inference import InferenceMemoryError, inference_vis, is_allocation_failure, model_device
from .video_source import VideoInput, VideoSource

__all__ = [
    'FrameResult',
    'inference_video',
    'check_window_arguments',
    'select_instances',
    'associate_instances',
]

# Candidates of one window that cover the same object (Mask2Former-VIS returns its top
# (query, class) pairs, so one query comes back once per likely class).
DUPLICATE_IOU = 0.5
# Mask IoU over the overlapping frames below which two windows' instances are different objects.
MATCH_IOU = 0.3
# Mask IoUs are computed on a grid of at most this many rows (a strided view; exact enough to
# tell objects apart and ~10x cheaper on 360p frames).
IOU_GRID_ROWS = 128


@dataclass
class FrameResult:
    """The instances found in one frame.

    Attributes:
        frame_index: position of the frame in the video (from 0).
        instance_ids: (N,) int64, the same id is the same object over the whole video.
        labels: (N,) int64 class indices.
        scores: (N,) float32 confidences (of the window the frame was decided in).
        bboxes: (N, 4) float32 xyxy boxes of the masks, in pixels (zeros for an empty mask).
        masks: (N, H, W) bool at the frame's size.
        image: the frame itself, (H, W, 3) uint8 BGR, for drawing.
    """

    frame_index: int
    instance_ids: np.ndarray
    labels: np.ndarray
    scores: np.ndarray
    bboxes: np.ndarray
    masks: np.ndarray
    image: Optional[np.ndarray] = None

    def to_dict(self, class_names: Optional[Sequence[str]] = None) -> dict:
        """JSON-ready form: ``frame_index`` and ``instances``, each with ``id``, ``label``,
        (``class``), ``score``, ``bbox`` (xyxy) and ``segmentation`` (COCO RLE, counts as str)."""
        instances = []
        if len(self.masks):
            rles = mask_util.encode(np.asfortranarray(self.masks.transpose(1, 2, 0), np.uint8))
        else:
            rles = []
        for k, rle in enumerate(rles):
            entry = dict(
                id=int(self.instance_ids[k]),
                label=int(self.labels[k]),
                score=round(float(self.scores[k]), 4),
                bbox=[round(float(v), 1) for v in self.bboxes[k]],
                segmentation=dict(size=list(rle['size']), counts=rle['counts'].decode('ascii')),
            )
            if class_names is not None:
                entry['class'] = str(class_names[int(self.labels[k])])
            instances.append(entry)
        return dict(frame_index=int(self.frame_index), instances=instances)


def _iou_grid(masks: torch.Tensor) -> torch.Tensor:
    """(K, T, H, W) bool masks → (K, P) float rows on a strided grid for IoU products."""
    step = max(1, int(np.ceil(masks.shape[-2] / IOU_GRID_ROWS)))
    return masks[..., ::step, ::step].reshape(len(masks), -1).float()


def _pairwise_iou(rows_a: torch.Tensor, rows_b: torch.Tensor) -> torch.Tensor:
    """(A, P), (B, P) binary rows → (A, B) IoU (0 where both are empty)."""
    inter = rows_a @ rows_b.T
    union = rows_a.sum(1)[:, None] + rows_b.sum(1)[None, :] - inter
    return inter / union.clamp(min=1)


def select_instances(
    masks: torch.Tensor,
    scores: torch.Tensor,
    score_thr: float,
    max_instances: int,
    duplicate_iou: float = DUPLICATE_IOU,
) -> torch.Tensor:
    """The candidates of one clip worth keeping, best first.

    A candidate is dropped when it scores below ``score_thr``, its mask is empty in every frame,
    or a better-scoring candidate covers the same object (video mask IoU ≥ ``duplicate_iou``).

    Args:
        masks: (K, T, H, W) bool masks of K candidates over the clip's T frames.
        scores: (K,) confidences.
        score_thr: lowest score kept.
        max_instances: at most this many are kept.
        duplicate_iou: IoU at which a candidate duplicates a better one.

    Returns:
        (N,) int64 indices into the K candidates, by descending score, N ≤ ``max_instances``.
    """
    order = torch.argsort(scores, descending=True, stable=True)
    rows = _iou_grid(masks[order])
    iou = _pairwise_iou(rows, rows)
    # iou[i, j] with i better than j: j is a duplicate if any better candidate overlaps it.
    duplicate = (torch.triu(iou, diagonal=1) >= duplicate_iou).any(0)
    nonempty = masks[order].flatten(1).any(1)
    keep = (scores[order] >= score_thr) & nonempty & ~duplicate
    return order[keep][:max_instances]


def associate_instances(
    previous_masks: torch.Tensor, current_masks: torch.Tensor, match_iou: float = MATCH_IOU
) -> Tuple[np.ndarray, np.ndarray]:
    """Hungarian matching of two windows' instances on their masks over the shared frames.

    Args:
        previous_masks: (A, O, H, W) bool, the previous window's instances on the O shared frames.
        current_masks: (B, O, H, W) bool, the current window's instances on the same frames.
        match_iou: pairs whose IoU over the O frames is below this stay unmatched.

    Returns:
        ``(previous_index, current_index)``, two (M,) int64 arrays of matched pairs.
    """
    empty = np.zeros(0, dtype=np.int64)
    if len(previous_masks) == 0 or len(current_masks) == 0:
        return empty, empty
    iou = _pairwise_iou(_iou_grid(previous_masks), _iou_grid(current_masks)).numpy()
    rows, cols = linear_sum_assignment(-iou)
    good = iou[rows, cols] >= match_iou
    return rows[good].astype(np.int64), cols[good].astype(np.int64)


def _boxes_of_masks(masks: torch.Tensor) -> torch.Tensor:
    """(..., H, W) bool → (..., 4) float xyxy pixel boxes (right/bottom exclusive; 0 if empty)."""
    height, width = masks.shape[-2:]
    rows, cols = masks.any(-1), masks.any(-2)  # (..., H), (..., W)
    row_index, col_index = torch.arange(height), torch.arange(width)
    boxes = torch.stack(
        [
            torch.where(cols, col_index, width).amin(-1),
            torch.where(rows, row_index, height).amin(-1),
            torch.where(cols, col_index + 1, 0).amax(-1),
            torch.where(rows, row_index + 1, 0).amax(-1),
        ],
        -1,
    ).float()
    return boxes * rows.any(-1, keepdim=True)


class _Window:
    """The kept instances of one window: ids, labels, scores, masks and boxes per frame."""

    def __init__(self, predictions: list, score_thr: float, max_instances: int) -> None:
        # frame-major, so that each frame's masks are one contiguous block
        by_frame = torch.stack([p.masks.detach().cpu().bool() for p in predictions])  # (T, K, H, W)
        scores = predictions[0].scores.detach().cpu().float()
        keep = select_instances(by_frame.transpose(0, 1), scores, score_thr, max_instances)
        self.by_frame = by_frame[:, keep]  # (T, N, H, W)
        self.masks = self.by_frame.transpose(0, 1)  # (N, T, H, W) view
        self.present = self.by_frame.flatten(2).any(2)  # (T, N)
        self.boxes = _boxes_of_masks(self.by_frame)  # (T, N, 4)
        self.scores = scores[keep]
        self.labels = predictions[0].labels.detach().cpu().long()[keep]
        self.ids = np.full(len(keep), -1, dtype=np.int64)

    def frame(self, offset: int, frame_index: int, image: np.ndarray) -> FrameResult:
        visible = self.present[offset]
        return FrameResult(
            frame_index=frame_index,
            instance_ids=self.ids[visible.numpy()].copy(),
            labels=self.labels[visible].numpy().astype(np.int64),
            scores=self.scores[visible].numpy().astype(np.float32),
            bboxes=self.boxes[offset, visible].numpy().astype(np.float32),
            masks=self.by_frame[offset, visible].numpy(),
            image=image,
        )


def check_window_arguments(
    window: Optional[int],
    overlap: int,
    score_thr: float,
    max_instances: int,
    match_iou: float = MATCH_IOU,
    names: Optional[dict] = None,
) -> None:
    """Refuse window, overlap, threshold and count values that would fail or be silently wrong.

    Args:
        window, overlap, score_thr, max_instances, match_iou: as :func:`inference_video` takes.
        names: how the errors name each argument (a command line passes its options, e.g.
            ``{'window': '--window'}``); by default the argument names.

    Raises:
        ValueError: naming the argument, its value and the valid range.
    """
    names = dict(names or {})

    def name(key: str) -> str:
        return names.get(key, key)

    def whole_number(key: str, value) -> int:
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
            raise ValueError(f'{name(key)} must be a whole number, got {value!r}')
        return int(value)

    def fraction(key: str, value, low_open: bool = False) -> None:
        if isinstance(value, bool) or not isinstance(value, (int, float, np.floating)):
            raise ValueError(f'{name(key)} must be a number in [0, 1], got {value!r}')
        if not (0 < value <= 1 if low_open else 0 <= value <= 1):  # NaN fails both
            interval = '(0, 1]' if low_open else '[0, 1]'
            raise ValueError(f'{name(key)} must lie in {interval} (a score), got {value!r}')

    overlap = whole_number('overlap', overlap)
    if window is not None:
        window = whole_number('window', window)
        if window < 2:
            raise ValueError(
                f'{name("window")} must be at least 2 frames, got {window} (the whole video at '
                'once: window=None, --window 0)'
            )
        if not 1 <= overlap < window:
            raise ValueError(
                f'{name("overlap")} must be at least 1 and less than the window ({window}), got '
                f'{overlap}: consecutive windows share these frames to carry the ids over'
            )
    elif overlap < 0:
        raise ValueError(f'{name("overlap")} must be at least 0, got {overlap}')
    fraction('score_thr', score_thr)
    fraction('match_iou', match_iou, low_open=True)
    if whole_number('max_instances', max_instances) < 1:
        raise ValueError(f'{name("max_instances")} must be at least 1, got {max_instances}')


def inference_video(
    model: nn.Module,
    video: VideoInput,
    window: Optional[int] = None,
    overlap: int = 4,
    score_thr: float = 0.3,
    max_instances: int = 10,
    match_iou: float = MATCH_IOU,
) -> Iterator[FrameResult]:
    """Segment and track the instances of a video; yields one :class:`FrameResult` per frame.

    The arguments are checked when it is called (:func:`check_window_arguments`), the video is
    read as the results are consumed.

    Args:
        model: a model from :func:`maskfreevis.apis.init_vis_model`.
        video: a video file (decoded with OpenCV, frame by frame), a directory of frames (natural
            order of the names), a list of frame paths, a list of (H, W, 3) uint8 **BGR** arrays,
            or a :class:`~maskfreevis.apis.VideoSource` of any of these.
        window: frames per forward pass; None runs the whole video at once (memory grows with
            the video's length; the evaluation setting).
        overlap: frames shared by consecutive windows, on which instances are associated
            (1 ≤ overlap < window; unused without a window).
        score_thr: instances scoring below this are dropped (in [0, 1]).
        max_instances: at most this many instances per window (≥ 1).
        match_iou: lowest mask IoU over the shared frames for two windows' instances to be one
            object; an instance without a match gets a new id.

    Yields:
        The frames' results in order, instance ids consistent over the whole video. An instance
        is listed in a frame only where its mask is not empty there.

    Raises:
        InferenceMemoryError: a window (or the whole video) did not fit in memory; the message
            names the window and a smaller one.
    """
    check_window_arguments(window, overlap, score_thr, max_instances, match_iou)
    source = video if isinstance(video, VideoSource) else VideoSource(video)
    return _stream_results(
        model,
        source,
        None if window is None else int(window),
        int(overlap),
        score_thr,
        int(max_instances),
        match_iou,
    )


def _out_of_memory(
    frames: int, frame_size, device: str, window: Optional[int], cause: BaseException
) -> InferenceMemoryError:
    """The error of a window that did not fit, with the window to try next."""
    height, width = frame_size
    smaller = max(2, frames // 2)
    if window is None:
        what = f'the whole video ({frames} frames of {width}x{height}) in one pass'
    else:
        what = f'a window of {frames} frames of {width}x{height} (window={window})'
    return InferenceMemoryError(
        f'out of memory segmenting {what} on {device}: use a smaller window, e.g. '
        f'window={smaller} (demo/video_demo.py: --window {smaller}), or --window auto, which '
        f'sizes it from the free memory. ({cause})',
        frames=frames,
        frame_size=frame_size,
        device=device,
    )


def _stream_results(
    model: nn.Module,
    source: VideoSource,
    window: Optional[int],
    overlap: int,
    score_thr: float,
    max_instances: int,
    match_iou: float,
) -> Iterator[FrameResult]:
    frames = iter(source)
    if window is None:
        window_frames: List[np.ndarray] = list(frames)
        overlap = 0
        stride = len(window_frames)
    else:
        window_frames = _take(frames, window)
        stride = window - overlap
    next_id = 0
    start = 0
    previous_tail: Optional[torch.Tensor] = None  # (N, overlap, H, W) masks on the shared frames
    previous_ids = np.zeros(0, dtype=np.int64)
    while window_frames:
        try:
            current = _Window(inference_vis(model, window_frames), score_thr, max_instances)
        except Exception as error:  # noqa: BLE001  re-raised naming the window that did not fit
            if not is_allocation_failure(error):
                raise
            cause = error.__cause__ if isinstance(error, InferenceMemoryError) else error
            raise _out_of_memory(
                len(window_frames), window_frames[0].shape[:2], model_device(model), window, cause
            ) from cause
        if previous_tail is not None:
            old, new = associate_instances(previous_tail, current.masks[:, :overlap], match_iou)
            current.ids[new] = previous_ids[old]
        unmatched = current.ids < 0
        current.ids[unmatched] = np.arange(next_id, next_id + unmatched.sum())
        next_id += int(unmatched.sum())
        incoming = _take(frames, stride) if window is not None else []
        # Frames shared with the next window are decided there (it has seen what follows them).
        final_count = len(window_frames) if not incoming else len(window_frames) - overlap
        for offset in range(final_count):
            yield current.frame(offset, start + offset, window_frames[offset])
        if not incoming:
            return
        window_frames = window_frames[len(window_frames) - overlap :] + incoming
        start += final_count
        # only the shared frames' masks are kept, so two whole windows are never held at once
        previous_tail, previous_ids = current.masks[:, -overlap:].clone(), current.ids
        current = None


def _take(frames: Iterator[np.ndarray], count: int) -> List[np.ndarray]:
    """Up to ``count`` next frames."""
    taken = []
    for frame in frames:
        taken.append(frame)
        if len(taken) == count:
            break
    return taken
