"""MaskFreeVIS detector: Mask2Former-VIS whose losses see the clip's colours."""

from typing import Union

from mmdet.models.vis import Mask2FormerVideo
from mmdet.registry import MODELS
from mmdet.structures import TrackSampleList
from torch import Tensor

__all__ = ['MaskFreeVIS']


@MODELS.register_module()
class MaskFreeVIS(Mask2FormerVideo):
    """Mask2Former-VIS trained from boxes (MaskFreeVIS, CVPR 2023).

    :class:`Mask2FormerVideo` with two parts that know each other: the data preprocessor
    (:class:`MaskFreeDataPreprocessor`) attaches each frame's colours on the mask grid, and the
    track head (:class:`MaskFreeTrackHead`) hands them to its criterion. Both must use the same
    grid, so the preprocessor's ``mask_stride`` must be the head's ``strides[0]``.

    The clip length T is ``inputs.shape[1]``, never a config value. Arguments as
    :class:`Mask2FormerVideo`.
    """

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        head = self.track_head
        if not hasattr(head, 'criterion') or not hasattr(head, 'mask_stride'):
            raise TypeError(
                f'MaskFreeVIS needs a track head with a mask-free criterion '
                f'(MaskFreeTrackHead), got {type(head).__name__}'
            )
        preprocessor = self.data_preprocessor
        if not hasattr(preprocessor, 'mask_stride'):
            raise TypeError(
                'MaskFreeVIS needs a data preprocessor that computes the colours on '
                'the mask grid (MaskFreeDataPreprocessor), got '
                f'{type(preprocessor).__name__}'
            )
        if preprocessor.mask_stride != head.mask_stride:
            raise ValueError(
                f'data_preprocessor.mask_stride is {preprocessor.mask_stride} but '
                f'track_head.strides[0] is {head.mask_stride}: the colours must '
                'lie on the grid of the mask logits; set both to the same stride'
            )

    def loss(self, inputs: Tensor, data_samples: TrackSampleList, **kwargs) -> Union[dict, tuple]:
        """Losses of a batch of clips.

        Args:
            inputs: ``(B, T, 3, H, W)`` normalised, padded frames.
            data_samples: B ``TrackDataSample`` with per-frame GT, metainfo and colours.

        Returns:
            Loss dict of the track head.
        """
        if inputs.dim() != 5:
            raise ValueError(f'inputs must be (B, T, C, H, W), got {tuple(inputs.shape)}')
        return super().loss(inputs, data_samples, **kwargs)
