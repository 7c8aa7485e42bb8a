"""Track data preprocessor that also gives the losses the frames' colours on the mask grid.

Shape letters (one meaning across ``maskfreevis.models``): B clips, T frames per clip, G frames
(``B * T``), H, W the padded input, h, w the mask grid (``ceil(H / s)``, ``ceil(W / s)`` for the
mask stride s).
"""

from typing import Dict, Tuple

import torch
import torch.nn.functional as F
from mmdet.models.data_preprocessors import TrackDataPreprocessor
from mmdet.registry import MODELS
from mmdet.structures import TrackSampleList
from torch import Tensor

from ..losses import rgb_to_lab
from ..task_modules.mask_grid import valid_region_masks

__all__ = ['MaskFreeDataPreprocessor', 'mask_grid_lab', 'COLOUR_SPACES']

# 'rgb': the frames' own colours; 'release': what the released code feeds rgb2lab (see
# mask_grid_lab), on which its colour thresholds were tuned
COLOUR_SPACES = ('rgb', 'release')


def mask_grid_lab(rgb_frames: Tensor, stride: int, colour_space: str = 'rgb') -> Tensor:
    """CIE-Lab colour of every cell of the stride-``stride`` mask grid.

    Average-pools ``stride x stride`` pixels and converts to Lab (:func:`rgb_to_lab`, D65) in
    float32, also under autocast. ``colour_space`` says which colours are converted:

    * ``'rgb'``: the frames' own, in float; a partial cell at the right or bottom edge is
      averaged over its pixels inside the frame (ceil mode, as the backbone's stride-4 map also
      rounds up).
    * ``'release'``: those of the released MaskFreeVIS, on which its colour thresholds (0.3
      pairwise, 0.05 TK) were tuned: partial cells are padded with black, the pooled
      colours are read in reversed channel order (B, G, R, as ``[2, 1, 0]`` on its RGB input)
      and truncated to integers (``.byte()``), so Lab is that of the colour ``(floor(B),
      floor(G), floor(R))``.

    Args:
        rgb_frames: ``(G, 3, H, W)`` sRGB frames, values in 0..255, R, G, B channel order
            (for ``'release'``: the integer values of 8-bit frames, black padding).
        stride: input pixels per mask-grid cell.
        colour_space: ``'rgb'`` or ``'release'``.

    Returns:
        ``(G, 3, h, w)`` float32 Lab, ``h = ceil(H / stride)``, ``w = ceil(W / stride)``.
    """
    if rgb_frames.dim() != 4 or rgb_frames.shape[1] != 3:
        raise ValueError(
            f'mask_grid_lab expects (G, 3, H, W) RGB frames, got {tuple(rgb_frames.shape)}'
        )
    _check_colour_space(colour_space)
    with torch.no_grad(), torch.autocast(device_type=rgb_frames.device.type, enabled=False):
        frames = rgb_frames.float()
        if colour_space == 'rgb':
            pooled = F.avg_pool2d(frames, kernel_size=stride, stride=stride, ceil_mode=True)
            return rgb_to_lab(pooled)
        height, width = frames.shape[-2:]
        frames = F.pad(frames, (0, -width % stride, 0, -height % stride))
        pooled = F.avg_pool2d(frames, kernel_size=stride, stride=stride)
        return rgb_to_lab(pooled.flip(1).clamp(0, 255).to(torch.uint8))


def _check_colour_space(colour_space: str) -> None:
    if colour_space not in COLOUR_SPACES:
        raise ValueError(f'colour_space must be one of {COLOUR_SPACES}, got {colour_space!r}')


@MODELS.register_module()
class MaskFreeDataPreprocessor(TrackDataPreprocessor):
    """:class:`TrackDataPreprocessor` plus what the mask-free losses need, in training.

    After the stock collation, normalisation and padding of the clips:

    1. the colours of every frame on the mask grid: the frames are un-normalised with this
       preprocessor's own ``mean`` / ``std`` (the padding, 0 after normalisation, becomes
       ``mean``; ceil-mode pooling mixes it into edge cells, which are invalid anyway), put in
       RGB order (frames are loaded BGR; without ``bgr_to_rgb`` they are flipped here) and
       converted by :func:`mask_grid_lab` in ``colour_space``. With ``'release'`` the frames
       are first made what the released code pools: un-normalising recovers the 8-bit values
       up to float error, so they are rounded back to those integers, and the padding is black.
       Each frame's ``DetDataSample`` gets ``mask_grid_lab`` ``(3, h, w)`` float32 and
       ``mask_grid_valid`` ``(h, w)`` bool, the cells whose centre lies inside the frame's
       ``img_shape`` (not padding; which losses use it is theirs to say);
    2. GT masks padded to the batch: every frame that carries ``gt_instances.masks`` gets them
       as a ``(n, H, W)`` bool tensor zero-padded at the bottom and right. Frames of box-only
       clips are left alone, so a batch may mix mask-labelled and box-only clips (mmdet's
       ``pad_mask`` decides from the first clip and fails on such a batch).

    At test time it is the stock preprocessor.

    Args:
        mask_stride: input pixels per cell of the mask-logit grid (the head's ``strides[0]``).
        colour_space: colours the Lab frames are made of (:func:`mask_grid_lab`): ``'rgb'``
            (default), the frames' own; ``'release'``, the released code's channel-reversed,
            truncated colours with black padding.
        pad_mask: ignored: GT masks are always padded as above. Accepted so that configs
            inheriting mmdet's ``TrackDataPreprocessor`` settings keep working.
        **kwargs: :class:`TrackDataPreprocessor` arguments (``mean``, ``std``, ``bgr_to_rgb``,
            ``pad_size_divisor``, ...).
    """

    def __init__(
        self, mask_stride: int = 4, colour_space: str = 'rgb', pad_mask: bool = True, **kwargs
    ) -> None:
        _check_colour_space(colour_space)
        if kwargs.get('use_det_processor'):
            raise ValueError(
                'MaskFreeDataPreprocessor works on clips (B, T, 3, H, W); '
                'use_det_processor=True is not supported'
            )
        super().__init__(pad_mask=False, **kwargs)
        self.mask_stride = int(mask_stride)
        self.colour_space = colour_space

    def forward(self, data: dict, training: bool = False) -> Dict:
        """Stock preprocessing; in training also colours and padded GT masks (see class doc).

        Args:
            data: ``inputs`` (B lists of ``(T, 3, H_b, W_b)`` frames) and ``data_samples``.
            training: whether this is a training step.

        Returns:
            ``inputs`` ``(B, T, 3, H, W)`` and the ``data_samples``, updated in place.
        """
        data = super().forward(data, training)
        if training:
            inputs, data_samples = data['inputs'], data['data_samples']
            _pad_gt_masks(data_samples)
            lab, valid = self.mask_grid_colours(inputs, data_samples)
            for clip, clip_lab, clip_valid in zip(data_samples, lab, valid):
                for frame in range(len(clip)):
                    clip[frame].set_data(
                        dict(mask_grid_lab=clip_lab[frame], mask_grid_valid=clip_valid[frame])
                    )
        return data

    @torch.no_grad()
    def mask_grid_colours(
        self, inputs: Tensor, data_samples: TrackSampleList
    ) -> Tuple[Tensor, Tensor]:
        """CIE-Lab frames and valid cells on the mask grid of the padded batch.

        Args:
            inputs: ``(B, T, 3, H, W)`` normalised, padded frames (this preprocessor's output).
            data_samples: B ``TrackDataSample``; frame metainfo ``img_shape`` gives each
                frame's size before padding.

        Returns:
            ``lab`` ``(B, T, 3, h, w)`` float32 and ``valid`` ``(B, T, h, w)`` bool.
        """
        num_clips, num_frames = inputs.shape[:2]
        if len(data_samples) != num_clips or any(len(c) != num_frames for c in data_samples):
            raise ValueError(
                f'inputs hold {num_clips} clips of {num_frames} frames but the '
                f'data samples describe {[len(c) for c in data_samples]}'
            )
        img_shapes = torch.tensor(
            [
                clip[frame].metainfo['img_shape'][:2]
                for clip in data_samples
                for frame in range(num_frames)
            ],
            device=inputs.device,
        )
        with torch.autocast(device_type=inputs.device.type, enabled=False):
            frames = inputs.flatten(0, 1).float()
            if self._enable_normalize:
                frames = frames * self.std.view(1, -1, 1, 1) + self.mean.view(1, -1, 1, 1)
            if not self._channel_conversion:
                frames = frames.flip(1)  # still BGR as loaded
            if self.colour_space == 'release':
                frames = frames.round() * _inside_images(img_shapes, frames.shape[-2:])
            lab = mask_grid_lab(frames, self.mask_stride, self.colour_space)
        valid = valid_region_masks(img_shapes, lab.shape[-2:], self.mask_stride)
        return (
            lab.unflatten(0, (num_clips, num_frames)),
            valid.unflatten(0, (num_clips, num_frames)),
        )


def _inside_images(img_shapes: Tensor, size: Tuple[int, int]) -> Tensor:
    """``(G, 1, H, W)`` float, 1 on each frame's pixels inside its ``(G, 2)`` ``img_shapes``."""
    rows = torch.arange(size[0], device=img_shapes.device) < img_shapes[:, 0:1]
    cols = torch.arange(size[1], device=img_shapes.device) < img_shapes[:, 1:2]
    return (rows[:, None, :, None] & cols[:, None, None, :]).float()


def _pad_gt_masks(data_samples: TrackSampleList) -> None:
    """Every frame's GT masks as a bool tensor zero-padded to its ``batch_input_shape``."""
    for clip in data_samples:
        for index in range(len(clip)):
            frame = clip[index]
            gt = frame.get('gt_instances')
            if gt is None or 'masks' not in gt:
                continue
            masks = gt.masks
            if hasattr(masks, 'to_tensor'):  # BitmapMasks / PolygonMasks
                masks = masks.to_tensor(dtype=torch.bool, device=gt.labels.device)
            masks = torch.as_tensor(masks, device=gt.labels.device).bool()
            pad_h, pad_w = frame.metainfo['batch_input_shape']
            height, width = masks.shape[-2:]
            if height > pad_h or width > pad_w:
                raise ValueError(
                    f'video {frame.metainfo.get("video_id", "?")} frame {index}: '
                    f'GT masks of size {(height, width)} exceed the padded batch '
                    f'size {(pad_h, pad_w)}'
                )
            padded = masks.new_zeros((masks.shape[0], pad_h, pad_w))
            padded[:, :height, :width] = masks
            gt.masks = padded
