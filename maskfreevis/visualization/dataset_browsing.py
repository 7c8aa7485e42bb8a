"""Browsing a video dataset as training sees it: sampled clips after the training pipeline, with
the ground-truth boxes, instance ids and class names drawn, written as images or an MP4.

Meant for box-only datasets (a new json, a converter's output): a wrong box, a swapped id or a
class shifted by one shows at a glance, before any training time is spent.
"""

import os
import os.path as osp
from typing import List, Optional, Sequence

import cv2
import numpy as np
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmengine.utils import import_modules_from_strings

from .drawing import colour_for_id
from .labels import draw_labels
from .video_file import VideoFileWriter

__all__ = [
    'build_dataset_from_config',
    'sample_video_indices',
    'draw_clip_boxes',
    'clip_frames',
    'write_mp4',
    'browse_dataset',
]

_CAPTION_HEIGHT = 14


def build_dataset_from_config(cfg: Config, split: str = 'train'):
    """Build ``<split>_dataloader.dataset`` of a config (with its pipeline) in the config's scope.

    Args:
        cfg: a loaded config (``--cfg-options`` already merged).
        split: ``'train'``, ``'val'`` or ``'test'``.

    Returns:
        the dataset; ``dataset[i]`` is one clip as the pipeline packs it.
    """
    key = f'{split}_dataloader'
    if key not in cfg:
        raise KeyError(f'the config has no {key} (choose train, val or test)')
    if cfg.get('custom_imports'):
        import_modules_from_strings(**cfg.custom_imports)
    init_default_scope(cfg.get('default_scope', 'mmdet'))
    from mmdet.registry import DATASETS

    dataset = DATASETS.build(cfg[key].dataset)
    if len(dataset) == 0:
        raise ValueError(f'{key}.dataset ({cfg[key].dataset.get("ann_file")}) has no videos')
    return dataset


def sample_video_indices(num_videos: int, num_clips: int, seed: int = 0) -> np.ndarray:
    """``num_clips`` video indices drawn at random (distinct while there are enough videos)."""
    rng = np.random.default_rng(seed)
    return rng.choice(num_videos, size=num_clips, replace=num_clips > num_videos)


def draw_clip_boxes(
    frame: np.ndarray,
    boxes: np.ndarray,
    instance_ids: Sequence[int],
    labels: Sequence[int],
    class_names: Sequence[str],
    upscale: int = 1,
) -> np.ndarray:
    """Draw ground-truth boxes with ``#id class`` labels on one frame.

    Args:
        frame: (H, W, 3) uint8 RGB.
        boxes: (N, 4) xyxy boxes in the frame's pixels.
        instance_ids: N instance ids (they pick the colours, as in the prediction drawings).
        labels: N class indices into ``class_names``.
        class_names: the dataset's classes.
        upscale: nearest-neighbour magnification before drawing, so labels stay readable.

    Returns:
        (H * upscale, W * upscale, 3) uint8 RGB.
    """
    canvas = np.repeat(np.repeat(np.asarray(frame, np.uint8), upscale, 0), upscale, 1).copy()
    boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4) * upscale
    if len(boxes) == 0:
        return canvas
    colours = np.stack([colour_for_id(i) for i in instance_ids])
    thickness = max(1, upscale // 2)
    corners = np.round(boxes).astype(int)
    for (x0, y0, x1, y1), colour in zip(corners, colours):
        cv2.rectangle(canvas, (x0, y0), (x1 - 1, y1 - 1), tuple(int(c) for c in colour), thickness)
    texts = [f'#{int(i)} {class_names[int(c)]}' for i, c in zip(instance_ids, labels)]
    draw_labels(canvas, texts, corners, colours, 0.3 + 0.1 * upscale, thickness)
    return canvas


def _caption(image: np.ndarray, text: str) -> np.ndarray:
    """The image with a black strip above it holding ``text``."""
    strip = np.zeros((_CAPTION_HEIGHT, image.shape[1], 3), np.uint8)
    cv2.putText(
        strip, text, (2, 10), cv2.FONT_HERSHEY_SIMPLEX, 0.35, (255, 255, 255), 1, cv2.LINE_AA
    )
    return np.concatenate([strip, image])


def clip_frames(sample: dict, class_names: Sequence[str], upscale: int = 1) -> List[np.ndarray]:
    """Draw one packed clip (``dataset[i]``) frame by frame, in frame order, each with a caption
    ``video <id> frame <frame_id> (flipped)``.

    Args:
        sample: ``{'inputs': (T, 3, H, W) uint8 BGR, 'data_samples': TrackDataSample}``.
        class_names: the dataset's classes.
        upscale: magnification of the frames.

    Returns:
        T RGB uint8 images, ``(H * upscale + caption, W * upscale, 3)``.
    """
    images = np.ascontiguousarray(sample['inputs'].numpy()[:, ::-1].transpose(0, 2, 3, 1))
    frames = list(sample['data_samples'])
    drawn = []
    for index in sorted(range(len(frames)), key=lambda i: frames[i].frame_id):
        frame = frames[index]
        gt = frame.gt_instances
        image = draw_clip_boxes(
            images[index],
            getattr(gt.bboxes, 'tensor', gt.bboxes).numpy(),  # a tensor or mmdet's box type
            gt.instances_ids.tolist(),
            gt.labels.tolist(),
            class_names,
            upscale,
        )
        flipped = ' (flipped)' if frame.metainfo.get('flip') else ''
        drawn.append(_caption(image, f'video {frame.video_id} frame {frame.frame_id}{flipped}'))
    return drawn


def write_mp4(
    frames: Sequence[np.ndarray], path: str, fps: float = 2.0, codec: str = 'mp4v'
) -> str:
    """Write RGB frames of any sizes as one video file, each centred on a black canvas of the
    largest size (a video has one frame size); returns ``path``.

    Args:
        frames: (H_i, W_i, 3) uint8 RGB images.
        path: the file to write.
        fps: frames per second.
        codec: a codec of :class:`maskfreevis.visualization.video_file.VideoFileWriter`.
    """
    if len(frames) == 0:
        raise ValueError(f'no frames to write into {path}')
    # even sizes: many players refuse odd ones
    height = max(f.shape[0] for f in frames) + 1 & ~1
    width = max(f.shape[1] for f in frames) + 1 & ~1
    with VideoFileWriter(path, fps, codec) as writer:
        for frame in frames:
            canvas = np.zeros((height, width, 3), np.uint8)
            top, left = (height - frame.shape[0]) // 2, (width - frame.shape[1]) // 2
            canvas[top : top + frame.shape[0], left : left + frame.shape[1]] = frame
            writer.write(canvas)
    return path


def browse_dataset(
    dataset,
    out_dir: str,
    num_clips: int = 8,
    seed: int = 0,
    output: str = 'images',
    upscale: int = 2,
    fps: float = 2.0,
    indices: Optional[Sequence[int]] = None,
) -> List[str]:
    """Draw sampled clips of a dataset after its pipeline, to images or one MP4.

    Args:
        dataset: a video dataset whose ``dataset[i]`` is a packed clip (see :func:`clip_frames`).
        out_dir: where to write.
        num_clips: how many clips to draw (videos drawn at random, see ``seed``).
        seed: the seed of the video choice (the pipeline's own sampling follows the global seed).
        output: ``'images'``: one PNG per clip, its frames side by side
            (``clip<k>_video<id>.png``); ``'mp4'``: every frame of every clip in ``clips.mp4``.
        upscale: magnification of the frames.
        fps: frames per second of the MP4.
        indices: draw these video indices instead of a random choice.

    Returns:
        the written files.
    """
    if output not in ('images', 'mp4'):
        raise ValueError(f"output must be 'images' or 'mp4', got {output!r}")
    for name, value in (('upscale', upscale), ('num_clips', num_clips)):
        if not isinstance(value, int) or value < 1:
            raise ValueError(f'{name} must be a positive integer, got {value!r}')
    if output == 'mp4' and not fps > 0:
        raise ValueError(f'fps must be positive, got {fps!r}')
    if indices is not None:
        outside = [index for index in indices if not 0 <= index < len(dataset)]
        if outside:
            raise ValueError(
                f'video indices {outside} are outside the dataset (0..{len(dataset) - 1})'
            )
    if indices is None:
        indices = sample_video_indices(len(dataset), num_clips, seed)
    class_names = dataset.metainfo['classes']
    os.makedirs(out_dir, exist_ok=True)
    written, all_frames = [], []
    for clip_index, video_index in enumerate(indices):
        sample = dataset[int(video_index)]
        frames = clip_frames(sample, class_names, upscale)
        if output == 'mp4':
            all_frames.extend(frames)
            continue
        video_id = sample['data_samples'][0].video_id
        path = osp.join(out_dir, f'clip{clip_index}_video{video_id}.png')
        strip = np.concatenate(
            [_pad_to_height(f, max(g.shape[0] for g in frames)) for f in frames], 1
        )
        cv2.imwrite(path, strip[..., ::-1])
        written.append(path)
    if output == 'mp4':
        written.append(write_mp4(all_frames, osp.join(out_dir, 'clips.mp4'), fps))
    return written


def _pad_to_height(image: np.ndarray, height: int) -> np.ndarray:
    return np.pad(image, ((0, height - image.shape[0]), (0, 0), (0, 0)))
