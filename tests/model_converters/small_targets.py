"""Small target models for the converter tests, from python dicts (stock mmdet classes), and the
matching detectron2-style reference model.

mmdet's ``Mask2FormerVideo`` with a ``Mask2FormerTrackHead`` has the same state-dict names as
this package's ``MaskFreeVIS`` (which subclasses both and adds no tensors; checked in
``test_conversion.py``), and its constructor does not follow this package's loss schema, so these
tests do not depend on it.
"""

from typing import Sequence

from mmdet.registry import MODELS
from mmengine.config import ConfigDict
from mmengine.registry import init_default_scope
from torch import nn

import maskfreevis  # noqa: F401  (registers the plugin classes)
from maskfreevis.model_converters import TargetModel
from tests.model_converters import detectron2_reference as d2

DIM = 64  # two GroupNorm groups of 32 channels
NUM_QUERIES = 8
NUM_CLASSES = 5
DECODER_LAYERS = 3
FFN = 128
RESNET18_CHANNELS = (64, 128, 256, 512)
SWIN_TINY = dict(dim=32, depths=(2, 2, 2, 2), heads=(1, 2, 4, 8), window=4)
SWIN_TINY_CHANNELS = (32, 64, 128, 256)


def _head_cfg(in_channels: Sequence[int], num_classes: int) -> dict:
    layer = dict(embed_dims=DIM, num_heads=8, dropout=0.0, batch_first=True)
    return dict(
        type='Mask2FormerTrackHead',
        in_channels=list(in_channels),
        strides=[4, 8, 16, 32],
        feat_channels=DIM,
        out_channels=DIM,
        num_classes=num_classes,
        num_queries=NUM_QUERIES,
        num_frames=2,
        num_transformer_feat_level=3,
        enforce_decoder_input_project=False,
        pixel_decoder=dict(
            type='MSDeformAttnPixelDecoder',
            num_outs=3,
            norm_cfg=dict(type='GN', num_groups=32),
            act_cfg=dict(type='ReLU'),
            encoder=dict(
                num_layers=1,
                layer_cfg=dict(
                    self_attn_cfg=dict(
                        embed_dims=DIM,
                        num_heads=8,
                        num_levels=3,
                        num_points=4,
                        im2col_step=128,
                        dropout=0.0,
                        batch_first=True,
                    ),
                    ffn_cfg=dict(
                        embed_dims=DIM,
                        feedforward_channels=FFN,
                        num_fcs=2,
                        ffn_drop=0.0,
                        act_cfg=dict(type='ReLU', inplace=True),
                    ),
                ),
            ),
            positional_encoding=dict(num_feats=DIM // 2, normalize=True),
        ),
        positional_encoding=dict(
            type='SinePositionalEncoding3D', num_feats=DIM // 2, normalize=True
        ),
        transformer_decoder=dict(
            return_intermediate=True,
            num_layers=DECODER_LAYERS,
            layer_cfg=dict(
                self_attn_cfg=layer,
                cross_attn_cfg=layer,
                ffn_cfg=dict(
                    embed_dims=DIM,
                    feedforward_channels=FFN,
                    num_fcs=2,
                    ffn_drop=0.0,
                    act_cfg=dict(type='ReLU', inplace=True),
                ),
            ),
        ),
        loss_cls=dict(
            type='CrossEntropyLoss',
            use_sigmoid=False,
            loss_weight=2.0,
            reduction='mean',
            class_weight=[1.0] * num_classes + [0.1],
        ),
    )


def small_video_model_cfg(backbone: str = 'resnet18', num_classes: int = NUM_CLASSES) -> ConfigDict:
    """``Mask2FormerVideo``: ResNet-18 or a tiny Swin, 64 channels, 8 queries, 3 decoder layers."""
    if backbone == 'resnet18':
        backbone_cfg = dict(
            type='ResNet',
            depth=18,
            num_stages=4,
            out_indices=(0, 1, 2, 3),
            frozen_stages=-1,
            norm_cfg=dict(type='BN', requires_grad=False),
            norm_eval=True,
            style='pytorch',
            init_cfg=None,
        )
        in_channels = RESNET18_CHANNELS
    elif backbone == 'swin':
        backbone_cfg = dict(
            type='SwinTransformer',
            embed_dims=SWIN_TINY['dim'],
            depths=list(SWIN_TINY['depths']),
            num_heads=list(SWIN_TINY['heads']),
            window_size=SWIN_TINY['window'],
            mlp_ratio=4,
            qkv_bias=True,
            drop_path_rate=0.0,
            patch_norm=True,
            out_indices=(0, 1, 2, 3),
            init_cfg=None,
        )
        in_channels = SWIN_TINY_CHANNELS
    else:
        raise ValueError(backbone)
    return ConfigDict(
        type='Mask2FormerVideo',
        data_preprocessor=dict(
            type='TrackDataPreprocessor',
            mean=[123.675, 116.28, 103.53],
            std=[58.395, 57.12, 57.375],
            bgr_to_rgb=True,
            pad_size_divisor=32,
        ),
        backbone=backbone_cfg,
        track_head=_head_cfg(in_channels, num_classes),
    )


def build_small_video_model(
    backbone: str = 'resnet18', num_classes: int = NUM_CLASSES
) -> nn.Module:
    """The model of :func:`small_video_model_cfg`, random weights, eval mode."""
    init_default_scope('mmdet')
    return MODELS.build(small_video_model_cfg(backbone, num_classes)).eval()


def target_of(model: nn.Module, name: str = 'small model') -> TargetModel:
    """The :class:`TargetModel` of a built model fed RGB images."""
    shapes = {key: tuple(value.shape) for key, value in model.state_dict().items()}
    return TargetModel(shapes=shapes, channel_order='RGB', name=name)


def small_detectron2_reference(num_classes: int = NUM_CLASSES, seed: int = 0) -> d2.VideoMaskFormer:
    """Random detectron2-style R18 model of the sizes of :func:`small_video_model_cfg`."""
    reference = d2.VideoMaskFormer(
        d2.ResNet(18),
        RESNET18_CHANNELS,
        dim=DIM,
        encoder_layers=1,
        encoder_ffn=FFN,
        decoder_layers=DECODER_LAYERS,
        decoder_ffn=FFN,
        num_queries=NUM_QUERIES,
        num_classes=num_classes,
    )
    return d2.randomise_(reference, seed).eval()
