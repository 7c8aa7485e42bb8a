# Fully supervised Mask2Former-VIS baseline (video masks), R101 from mmdet's COCO Mask2Former R101.
_base_ = './mask2former-vis_r50_8xb2-6k_youtubevis2019.py'
model = dict(
    backbone=dict(
        depth=101,
        init_cfg=dict(type='Pretrained', checkpoint='torchvision://resnet101')),
    init_cfg=dict(
        type='Pretrained',
        checkpoint=(
            'https://download.openmmlab.com/mmdetection/v3.0/mask2former/'
            'mask2former_r101_8xb2-lsj-50e_coco/'
            'mask2former_r101_8xb2-lsj-50e_coco_20220426_100250-ecf181e2.pth')))
