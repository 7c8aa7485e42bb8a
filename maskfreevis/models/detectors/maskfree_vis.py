"""MaskFreeVIS detector: Mask2Former-VIS whose losses see the clip's colours."""
from typing import Tuple, Union

import torch
import torch.nn.functional as F
from mmdet.models.vis import Mask2FormerVideo
from mmdet.registry import MODELS
from mmdet.structures import TrackSampleList
from torch import Tensor

from ..losses import rgb_to_lab
from ..task_modules.mask_grid import valid_region_masks

__all__ = ['MaskFreeVIS']


@MODELS.register_module()
class MaskFreeVIS(Mask2FormerVideo):
    """Mask2Former-VIS trained from boxes (MaskFreeVIS, CVPR 2023).

    Identical to :class:`Mask2FormerVideo` at test time. In training it also hands the track
    head the clip's frames in CIE-Lab at mask resolution and the mask of non-padded cells, which
    the colour pairwise and Temporal KNN-patch losses need:

    1. un-normalise the batch: ``inputs * std + mean`` of the data preprocessor. Frames are
       loaded BGR (mmcv's default) and the preprocessor's ``bgr_to_rgb=True`` makes them RGB;
       without a channel conversion they are still BGR and are flipped here;
    2. average-pool ``s x s`` (``s`` = the head's ``mask_stride``, 4) on the padded batch, so the
       colour grid coincides with the mask-logit grid, then :func:`rgb_to_lab` on the model's
       device, in float32 (also under AMP);
    3. a cell is valid when its centre lies inside its frame's ``img_shape`` (padding excluded).

    The clip length T is ``inputs.shape[1]``, never a config value. Arguments as
    :class:`Mask2FormerVideo`; the track head must be a :class:`MaskFreeTrackHead`-like head whose
    ``loss`` accepts ``lab`` and ``valid_masks``.
    """

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if not hasattr(self.track_head, 'mask_stride'):
            raise TypeError(f'MaskFreeVIS needs a track head that takes Lab frames and knows its '
                            f'mask stride (e.g. MaskFreeTrackHead), got '
                            f'{type(self.track_head).__name__}')

    def loss(self, inputs: Tensor, data_samples: TrackSampleList,
             **kwargs) -> Union[dict, tuple]:
        """Losses of a batch of clips.

        Args:
            inputs: ``(B, T, 3, H, W)`` normalised, padded frames.
            data_samples: B ``TrackDataSample`` with per-frame GT and metainfo.

        Returns:
            Loss dict of the track head.
        """
        if inputs.dim() != 5:
            raise ValueError(f'inputs must be (B, T, C, H, W), got {tuple(inputs.shape)}')
        features = self.backbone(inputs.flatten(0, 1))
        lab, valid_masks = self.mask_grid_colours(inputs, data_samples)
        return self.track_head.loss(features, data_samples, lab=lab, valid_masks=valid_masks)

    @torch.no_grad()
    def mask_grid_colours(self, inputs: Tensor,
                          data_samples: TrackSampleList) -> Tuple[Tensor, Tensor]:
        """CIE-Lab frames and valid cells on the mask grid of the padded batch.

        Args:
            inputs: ``(B, T, 3, H, W)`` normalised, padded frames.
            data_samples: B ``TrackDataSample``; frame metainfo ``img_shape`` gives each
                frame's size before padding.

        Returns:
            ``lab`` ``(B, T, 3, h, w)`` float32 and ``valid_masks`` ``(B, T, h, w)`` bool with
            ``h = ceil(H / s)``, ``w = ceil(W / s)``.
        """
        num_clips, num_frames = inputs.shape[:2]
        if len(data_samples) != num_clips or any(len(c) != num_frames for c in data_samples):
            raise ValueError(f'inputs hold {num_clips} clips of {num_frames} frames but the '
                             f'data samples describe {[len(c) for c in data_samples]}')
        stride = self.track_head.mask_stride
        with torch.autocast(device_type=inputs.device.type, enabled=False):
            frames = self._unnormalised_rgb(inputs.flatten(0, 1).float())
            # ceil_mode: the backbone's stride-4 map also rounds partial cells up
            frames = F.avg_pool2d(frames, kernel_size=stride, stride=stride, ceil_mode=True)
            lab = rgb_to_lab(frames)
        mask_size = lab.shape[-2:]
        img_shapes = inputs.new_tensor(
            [clip[frame].metainfo['img_shape'][:2] for clip in data_samples
             for frame in range(num_frames)])
        valid_masks = valid_region_masks(img_shapes, mask_size, stride)
        return (lab.unflatten(0, (num_clips, num_frames)),
                valid_masks.unflatten(0, (num_clips, num_frames)))

    def _unnormalised_rgb(self, frames: Tensor) -> Tensor:
        """``(N, 3, H, W)`` preprocessed frames → sRGB values in 0..255."""
        preprocessor = self.data_preprocessor
        if getattr(preprocessor, '_enable_normalize', False):
            frames = frames * preprocessor.std.view(1, -1, 1, 1) + \
                preprocessor.mean.view(1, -1, 1, 1)
        if not getattr(preprocessor, '_channel_conversion', False):
            frames = frames.flip(1)  # still BGR as loaded
        return frames
