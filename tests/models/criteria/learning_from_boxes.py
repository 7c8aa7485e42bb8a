"""Clips built to need one mask-free term, and a mask model that learns only from the losses.

The mask model is a *coordinate network*: each query's mask logits are a function of the cell's
position and frame alone (Fourier features of (y, x) through a small per-frame MLP, dotted with a
learned query vector). It never sees the image, so every bit of shape it learns comes from the
box losses and the colours *they* look at: projection alone knows the box and nothing inside it;
the colour pairwise term adds which neighbours look alike; the TK term adds which patches match
across frames. Training goes through :class:`MaskFreeCriterion` (matching, class and box losses,
warm-up), so these clips also guard the criterion against silent regressions.

Shape letters: T frames, Q queries, C channels, h, w the mask grid (clips are drawn on the grid:
mask stride 1).
"""

from typing import Dict, List, Tuple

import numpy as np
import torch
from mmengine.logging import MessageHub
from mmengine.structures import InstanceData
from torch import Tensor, nn

from maskfreevis.models.losses import rgb_to_lab

BLUE = np.array([40.0, 90.0, 200.0])
RED = np.array([220.0, 60.0, 40.0])


class CoordinateMaskModel(nn.Module):
    """Q queries whose mask logits depend on (frame, y, x) only.

    Args:
        num_frames: T (one coordinate MLP per frame, as grouped 1x1 convolutions).
        num_queries: Q.
        channels: C, the width of each frame's MLP and of the query vectors.
        frequencies: Fourier features ``sin / cos(2^k pi / 2 * coordinate)``, k < frequencies.
        seed: initialisation.
    """

    def __init__(
        self,
        num_frames: int,
        num_queries: int = 3,
        channels: int = 32,
        frequencies: int = 6,
        seed: int = 0,
    ) -> None:
        super().__init__()
        torch.manual_seed(seed)
        self.num_frames = num_frames
        self.frequencies = frequencies
        features = 2 + 4 * frequencies
        self.mlp = nn.Sequential(
            nn.Conv2d(features * num_frames, channels * num_frames, 1, groups=num_frames),
            nn.ReLU(),
            nn.Conv2d(channels * num_frames, channels * num_frames, 1, groups=num_frames),
            nn.ReLU(),
            nn.Conv2d(channels * num_frames, channels * num_frames, 1, groups=num_frames),
        )
        self.queries = nn.Parameter(torch.randn(num_queries, channels) / channels**0.5)
        self.class_logits = nn.Parameter(torch.zeros(num_queries, 2))  # one class + no-object

    def forward(self, height: int, width: int) -> Tuple[Tensor, Tensor]:
        """Class logits ``(1, Q, 2)`` and mask logits ``(1, Q, T, h, w)`` of one clip."""
        ys = torch.linspace(-1, 1, height)[:, None].expand(height, width)
        xs = torch.linspace(-1, 1, width)[None, :].expand(height, width)
        features = [ys, xs]
        for k in range(self.frequencies):
            scale = 2**k * np.pi / 2
            features += [torch.sin(scale * ys), torch.cos(scale * ys)]
            features += [torch.sin(scale * xs), torch.cos(scale * xs)]
        inputs = torch.stack(features).repeat(self.num_frames, 1, 1)[None]
        pixels = self.mlp(inputs).view(self.num_frames, -1, height, width)
        masks = torch.einsum('qc,tchw->qthw', self.queries, pixels)
        return self.class_logits[None], masks[None]


def box_criterion(pairwise: bool, temporal: bool) -> nn.Module:
    """The demo's loss weights (pairwise 1.25, TK 0.5, on or off), the colour terms ramped in over
    the first 50 steps; one class, clips drawn on the mask grid (stride 1)."""
    from mmdet.registry import MODELS

    return MODELS.build(
        dict(
            type='MaskFreeCriterion',
            num_classes=1,
            mask_stride=1,
            loss_pair=dict(type='PairwiseColourLoss', loss_weight=1.25 if pairwise else 0.0),
            loss_tk=dict(type='TemporalKNNPatchLoss', pairing='all', loss_weight=0.5 * temporal),
            warmup_iters=dict(loss_pair=50, loss_tk=50),
        )
    )


def tight_boxes(masks: Tensor) -> Tuple[Tensor, Tensor]:
    """``(I, T, h, w)`` bool masks -> xyxy boxes ``(I, T, 4)`` in cells and presence ``(I, T)``."""
    rows, cols = masks.any(-1), masks.any(-2)
    index_h = torch.arange(masks.shape[-2])
    index_w = torch.arange(masks.shape[-1])
    y0 = torch.where(rows, index_h, masks.shape[-2]).amin(-1)
    y1 = torch.where(rows, index_h + 1, 0).amax(-1)
    x0 = torch.where(cols, index_w, masks.shape[-1]).amin(-1)
    x1 = torch.where(cols, index_w + 1, 0).amax(-1)
    present = rows.any(-1)
    boxes = torch.stack([x0, y0, x1, y1], -1).float() * present[..., None]
    return boxes, present


def train_from_boxes(
    rgb: Tensor, masks: Tensor, criterion: nn.Module, seed: int, steps: int = 300
) -> Dict[str, object]:
    """Fit :class:`CoordinateMaskModel` to one clip's boxes through ``criterion``.

    Args:
        rgb: ``(T, 3, h, w)`` float sRGB in 0..255 (drawn on the mask grid).
        masks: ``(1, T, h, w)`` bool true shape of the one object (only its boxes are used).
        criterion: a :class:`MaskFreeCriterion` with ``num_classes=1``, ``mask_stride=1``.
        seed: the model's initialisation.
        steps: Adam steps (lr 0.03); the criterion's own clock drives its warm-up.

    Returns:
        ``iou``: the clip's mask IoU of the best-scoring query with the true shape, ``frame_iou``
        per frame, ``prediction`` ``(T, h, w)`` bool.
    """
    num_frames, _, height, width = rgb.shape
    lab = rgb_to_lab(rgb)[None]
    boxes, present = tight_boxes(masks)
    ground_truth = InstanceData(
        metainfo=dict(mask_supervised=False),
        labels=torch.zeros(len(masks), dtype=torch.long),
        bboxes=boxes,
        presence=present,
    )
    model = CoordinateMaskModel(num_frames, seed=seed)
    optimizer = torch.optim.Adam(model.parameters(), lr=0.03)
    # a fresh current message hub: no Runner's 'iter' left by another test may drive the warm-up
    MessageHub.get_instance(f'learning_from_boxes_{id(model)}')
    criterion.train()
    for _ in range(steps):
        class_logits, mask_logits = model(height, width)
        losses = criterion([class_logits], [mask_logits], [ground_truth], lab=lab)
        optimizer.zero_grad()
        sum(losses.values()).backward()
        optimizer.step()
    with torch.no_grad():
        class_logits, mask_logits = model(height, width)
        best = int(class_logits[0].softmax(-1)[:, 0].argmax())
        prediction = mask_logits[0, best] > 0
    truth = masks[0]
    frame_iou = [_iou(prediction[t], truth[t]) for t in range(num_frames)]
    return dict(iou=_iou(prediction, truth), frame_iou=frame_iou, prediction=prediction)


def _iou(prediction: Tensor, truth: Tensor) -> float:
    return float((prediction & truth).sum() / (prediction | truth).sum().clamp(min=1))


def _draw(colours: np.ndarray, noise: float, rng: np.random.Generator) -> np.ndarray:
    return np.clip(colours + rng.normal(0, noise, colours.shape), 0, 255)


def l_shape_clip(seed: int, noise: float = 3.0) -> Tuple[Tensor, Tensor]:
    """3 frames of 32 x 48 cells: a red L moving over blue. Its box holds an empty corner of
    blue (168 of 360 cells) that projection alone cannot tell from the object."""
    rng = np.random.default_rng(seed)
    frames, height, width = 3, 32, 48
    rgb = np.empty((frames, 3, height, width))
    masks = np.zeros((1, frames, height, width), bool)
    for t in range(frames):
        shape = np.zeros((height, width), bool)
        y0, x0 = 6 + t, 10 + 2 * t
        shape[y0 : y0 + 18, x0 : x0 + 6] = True  # the upright bar
        shape[y0 + 12 : y0 + 18, x0 : x0 + 20] = True  # the foot
        colours = np.where(shape[None], RED[:, None, None], BLUE[:, None, None])
        rgb[t], masks[0, t] = _draw(colours, noise, rng), shape
    return torch.tensor(rgb, dtype=torch.float32), torch.from_numpy(masks)


def lookalike_clip(seed: int, noise: float = 1.0) -> Tuple[Tensor, Tensor]:
    """3 frames of 32 x 88 cells: a red L moving right by 30 cells a frame over blue, and a
    static patch in the L's empty corner of frame 0. The patch has the L's colour where it
    touches the L and grows lighter away from it (1 Lab unit of lightness a cell), so the
    pairwise term chains it to the object, while its 3 x 3 patches match only themselves: in
    frames 1 and 2, where the patch lies outside the L's box. Only that temporal correspondence
    says the patch is background in frame 0."""
    from skimage.color import lab2rgb

    rng = np.random.default_rng(seed)
    frames, height, width = 3, 32, 88
    object_lab, background_lab = np.array([50.0, 60.0, 40.0]), np.array([55.0, -10.0, -45.0])
    lab = np.broadcast_to(background_lab, (height, width, 3)).copy()
    rows, cols = np.mgrid[4:18, 12:26]
    lab[4:18, 12:26] = object_lab + np.minimum(cols - 12, 17 - rows)[..., None] * [1.0, 0, 0]
    rgb = np.empty((frames, 3, height, width))
    masks = np.zeros((1, frames, height, width), bool)
    for t in range(frames):
        shape = np.zeros((height, width), bool)
        x0 = 2 + 30 * t
        shape[4:28, x0 : x0 + 10] = True
        shape[18:28, x0 : x0 + 24] = True
        frame = np.where(shape[..., None], object_lab, lab)
        colours = (lab2rgb(frame) * 255).transpose(2, 0, 1)
        rgb[t], masks[0, t] = _draw(colours, noise, rng), shape
    return torch.tensor(rgb, dtype=torch.float32), torch.from_numpy(masks)


def _photo_crop(photo: np.ndarray, rng: np.random.Generator, height: int, width: int):
    import cv2

    photo_h, photo_w = photo.shape[:2]
    crop_h = int(photo_h * rng.uniform(0.3, 0.7))
    crop_w = min(int(crop_h * width / height), photo_w)
    y = int(rng.integers(0, photo_h - crop_h + 1))
    x = int(rng.integers(0, photo_w - crop_w + 1))
    piece = photo[y : y + crop_h, x : x + crop_w]
    return cv2.resize(piece, (width, height), interpolation=cv2.INTER_AREA).astype(np.float64)


def textured_rectangle_clip(seed: int) -> Tuple[Tensor, Tensor]:
    """3 frames of 32 x 48 cells: a rectangle cut from one photograph moving over another
    photograph (scikit-image's). The box is the shape, so projection alone can recover it; the
    colour terms see texture everywhere and must not take the shape apart."""
    import skimage.data

    photos: List[np.ndarray] = [
        skimage.data.chelsea(),
        skimage.data.coffee(),
        skimage.data.astronaut(),
        skimage.data.rocket(),
        np.dstack([skimage.data.grass()] * 3),
        np.dstack([skimage.data.gravel()] * 3),
        np.dstack([skimage.data.brick()] * 3),
    ]
    rng = np.random.default_rng(seed)
    frames, height, width = 3, 32, 48
    first, second = rng.choice(len(photos), 2, replace=False)
    background = _photo_crop(photos[second], rng, height + 8, width + 16)
    texture = _photo_crop(photos[first], rng, height, width)
    y0, x0 = int(rng.integers(4, 10)), int(rng.integers(4, 14))
    box_h, box_w = int(rng.integers(12, 18)), int(rng.integers(14, 22))
    rgb = np.empty((frames, 3, height, width))
    masks = np.zeros((1, frames, height, width), bool)
    for t in range(frames):
        image = background[t : t + height, 2 * t : 2 * t + width].copy()
        shape = np.zeros((height, width), bool)
        shape[y0 + t : y0 + t + box_h, x0 + 2 * t : x0 + 2 * t + box_w] = True
        image[shape] = np.roll(texture, (t, 2 * t), (0, 1))[shape]
        rgb[t], masks[0, t] = image.transpose(2, 0, 1), shape
    return torch.tensor(rgb, dtype=torch.float32), torch.from_numpy(masks)


def _measure(num_seeds: int = 6) -> None:
    """Print the IoU of every test's two trainings for ``num_seeds`` seeds (the margins of
    test_learning_from_boxes.py were chosen from this)."""
    import maskfreevis  # noqa: F401  (registers the criterion and losses)

    cases = (
        ('pairwise, L', l_shape_clip, (False, False), (True, False)),
        ('TK, lookalike', lookalike_clip, (True, False), (True, True)),
        ('no harm, textured rectangle', textured_rectangle_clip, (False, False), (True, True)),
    )
    for name, clip, without, with_term in cases:
        rows = []
        for seed in range(num_seeds):
            rgb, masks = clip(seed)
            rows.append(
                (
                    train_from_boxes(rgb, masks, box_criterion(*without), seed)['iou'],
                    train_from_boxes(rgb, masks, box_criterion(*with_term), seed)['iou'],
                )
            )
        rows = np.array(rows)
        print(f'{name}: without {np.round(rows[:, 0], 3)}, with {np.round(rows[:, 1], 3)}')
        difference = rows[:, 1] - rows[:, 0]
        print(f'  difference {np.round(difference, 3)}, mean {np.mean(difference):+.3f}')


if __name__ == '__main__':
    torch.set_num_threads(1)
    _measure()
