"""Synthetic video clips shaped like the output of ``PackTrackInputs`` + ``pseudo_collate``.

Each clip shows coloured ellipses moving over a smooth, slightly noisy colour gradient. Boxes are
the tight boxes of the ellipses, instance ids are consistent across frames (1, 2, ...), an object
can be absent from chosen frames, and GT masks (``BitmapMasks``) are attached only when asked
for, so box-only and mask-labelled clips can be mixed in one batch.

:func:`synthetic_batch` feeds a model (``model.data_preprocessor(batch, training)``, then
``model.train_step``); :func:`mask_grid_inputs` turns the same batch into the tensors the
mask-free losses take on the stride-``s`` mask grid (logits, Lab colours, box masks).
"""

from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch
from mmdet.structures import DetDataSample, TrackDataSample
from mmdet.structures.mask import BitmapMasks
from mmengine.structures import InstanceData
from torch import Tensor

from maskfreevis.models.data_preprocessors import mask_grid_lab
from maskfreevis.models.task_modules import rasterize_boxes

OBJECT_COLOURS_BGR = ((40, 40, 220), (220, 60, 40), (40, 200, 60), (200, 200, 40))


@dataclass
class ClipSpec:
    """What one synthetic clip looks like.

    Attributes:
        num_frames: T.
        img_shape: ``(h, w)`` of the frames fed to the model (before batch padding).
        ori_shape: ``(h, w)`` of the "original" video (predictions are resized to it);
            defaults to ``img_shape``.
        num_objects: ellipses in the clip.
        with_masks: attach GT masks to every frame.
        absent: ``(object index, frame)`` pairs where that object is not annotated.
        labels: class of each object; defaults to ``0, 1, ...``.
        seed: RNG seed of textures and motion.
        pixel_noise: amplitude of uniform integer noise added to every pixel, objects included
            (0: flat object colours, whose equal patches tie in nearest-neighbour searches).
        video_id: written into the frame metainfo.
    """

    num_frames: int
    img_shape: Tuple[int, int] = (64, 96)
    ori_shape: Optional[Tuple[int, int]] = None
    num_objects: int = 2
    with_masks: bool = False
    absent: Sequence[Tuple[int, int]] = field(default_factory=tuple)
    labels: Optional[Sequence[int]] = None
    seed: int = 0
    pixel_noise: int = 0
    video_id: int = 0


def ellipse_masks(img_shape: Tuple[int, int], centres: np.ndarray, radii: np.ndarray) -> np.ndarray:
    """``(n, h, w)`` uint8 filled ellipses with centres/radii ``(n, 2)`` given as ``(x, y)``."""
    height, width = img_shape
    ys, xs = np.mgrid[0:height, 0:width] + 0.5
    dx = (xs[None] - centres[:, 0, None, None]) / radii[:, 0, None, None]
    dy = (ys[None] - centres[:, 1, None, None]) / radii[:, 1, None, None]
    return (dx**2 + dy**2 <= 1.0).astype(np.uint8)


def tight_boxes(masks: np.ndarray) -> np.ndarray:
    """``(n, 4)`` float32 xyxy boxes (exclusive right/bottom edge) of non-empty masks."""
    boxes = []
    for mask in masks:
        rows = np.flatnonzero(mask.any(1))
        cols = np.flatnonzero(mask.any(0))
        boxes.append([cols[0], rows[0], cols[-1] + 1, rows[-1] + 1])
    return np.asarray(boxes, dtype=np.float32).reshape(-1, 4)


def synthetic_clip(spec: ClipSpec) -> Tuple[torch.Tensor, TrackDataSample]:
    """One clip: ``uint8 (T, 3, h, w)`` BGR frames and its ``TrackDataSample``."""
    rng = np.random.RandomState(spec.seed)
    height, width = spec.img_shape
    ori_shape = spec.ori_shape or spec.img_shape
    labels = list(spec.labels) if spec.labels is not None else list(range(spec.num_objects))
    start = rng.uniform(
        [0.25 * width, 0.25 * height], [0.75 * width, 0.75 * height], size=(spec.num_objects, 2)
    )
    velocity = rng.uniform(-0.04, 0.04, size=(spec.num_objects, 2)) * [width, height]
    radii = rng.uniform(0.15, 0.28, size=(spec.num_objects, 2)) * [width, height]
    # smooth colour gradient with mild noise: neighbouring Lab patches look alike, as in video
    ys, xs = np.mgrid[0:height, 0:width]
    gradient = np.stack([60 + 60 * xs / width, 80 + 40 * ys / height, 100 - 30 * xs / width])
    texture = (gradient + rng.randint(-4, 5, size=(3, height, width))).astype(np.float32)
    frames, samples = [], []
    for frame in range(spec.num_frames):
        centres = start + frame * velocity
        masks = ellipse_masks(spec.img_shape, centres, radii)
        image = texture.copy()
        for index in range(spec.num_objects):
            colour = np.asarray(OBJECT_COLOURS_BGR[index % len(OBJECT_COLOURS_BGR)], np.float32)
            image[:, masks[index] > 0] = colour[:, None]
        if spec.pixel_noise:
            image += rng.randint(-spec.pixel_noise, spec.pixel_noise + 1, size=image.shape)
        frames.append(np.clip(image, 0, 255).astype(np.uint8))
        shown = [k for k in range(spec.num_objects) if (k, frame) not in set(spec.absent)]
        gt = InstanceData()
        gt.bboxes = torch.from_numpy(tight_boxes(masks[shown]))
        gt.labels = torch.tensor([labels[k] for k in shown], dtype=torch.long)
        gt.instances_ids = torch.tensor([k + 1 for k in shown], dtype=torch.int32)
        if spec.with_masks:
            gt.masks = BitmapMasks(masks[shown], height, width)
        sample = DetDataSample(
            metainfo=dict(
                img_id=spec.video_id * 1000 + frame,
                img_path=f'<synthetic video {spec.video_id} frame {frame}>',
                img_shape=(height, width),
                ori_shape=tuple(ori_shape),
                scale_factor=(width / ori_shape[1], height / ori_shape[0]),
                flip=False,
                flip_direction=None,
                frame_id=frame,
                video_id=spec.video_id,
                video_length=spec.num_frames,
                ori_video_length=spec.num_frames,
            )
        )
        sample.gt_instances = gt
        samples.append(sample)
    clip = TrackDataSample()
    clip.video_data_samples = samples
    return torch.from_numpy(np.stack(frames)), clip


def synthetic_batch(specs: Sequence[ClipSpec]) -> Dict[str, List]:
    """``dict(inputs=[(T, 3, h, w) uint8], data_samples=[TrackDataSample])`` for
    ``model.data_preprocessor(batch, training)``."""
    inputs, data_samples = [], []
    for spec in specs:
        frames, clip = synthetic_clip(spec)
        inputs.append(frames)
        data_samples.append(clip)
    return dict(inputs=inputs, data_samples=data_samples)


def drop_gt_masks(batch: Dict[str, List]) -> Dict[str, List]:
    """The batch with every GT mask removed from its frames, in place (box-only supervision).

    Args:
        batch: as :func:`synthetic_batch` returns it.

    Returns:
        The same ``batch`` object.
    """
    for clip in batch['data_samples']:
        for frame in clip.video_data_samples:
            if 'masks' in frame.gt_instances:
                del frame.gt_instances.masks
    return batch


def mask_grid_inputs(batch: Dict[str, List], stride: int = 4, seed: int = 0) -> Dict[str, Tensor]:
    """The loss-level view of a synthetic batch on the stride-``stride`` mask grid.

    The Lab colours are the data preprocessor's (:func:`mask_grid_lab`); box masks
    follow the cell-centre rule of :func:`maskfreevis.models.task_modules.rasterize_boxes`; the
    mask logits are seeded noise. Instances are the distinct ``instances_ids`` of each clip in
    ascending order, clip after clip.

    Args:
        batch: as :func:`synthetic_batch` returns it; every clip of one frame size ``(H, W)`` and
            ``T`` frames.
        stride: input pixels per mask cell.
        seed: seed of the logits.

    Returns:
        ``logits (N, T, h, w)`` float, ``lab (B, T, 3, h, w)``, ``boxes (N, T, h, w)`` float 0/1
        and ``clip_index (N,)`` long (the clip of each instance), with ``h = ceil(H / stride)``,
        ``w = ceil(W / stride)`` and N the instances of all B clips.
    """
    frames = torch.stack(batch['inputs'])  # (B, T, 3, H, W) uint8 BGR
    num_clips, num_frames = frames.shape[:2]
    rgb = frames.flip(2).flatten(0, 1).float()
    lab = mask_grid_lab(rgb, stride).unflatten(0, (num_clips, num_frames))
    grid = lab.shape[-2:]
    boxes, clip_index = [], []
    for clip_id, clip in enumerate(batch['data_samples']):
        gts = [frame.gt_instances for frame in clip.video_data_samples]
        ids = torch.cat([gt.instances_ids.long() for gt in gts]).unique()  # sorted
        clip_boxes = torch.zeros(len(ids), num_frames, 4)
        present = torch.zeros(len(ids), num_frames, dtype=torch.bool)
        for frame, gt in enumerate(gts):
            rows = torch.searchsorted(ids, gt.instances_ids.long())
            clip_boxes[rows, frame] = gt.bboxes.float()
            present[rows, frame] = True
        boxes.append(rasterize_boxes(clip_boxes, present, grid, stride))
        clip_index.append(torch.full((len(ids),), clip_id, dtype=torch.long))
    boxes = torch.cat(boxes).float()
    generator = torch.Generator().manual_seed(seed)
    logits = 2 * torch.randn(boxes.shape, generator=generator)
    return dict(logits=logits, lab=lab, boxes=boxes, clip_index=torch.cat(clip_index))
