# (c) MaskFreeVIS + COCO pseudo-videos, R101 from mmdet's COCO Mask2Former R101 (released on
# YouTube-VIS 2019: 49.1 AP; release init: detectron2's model_final_eba159.pkl).
_base_ = './maskfreevis-cocojoint_r50_8xb2-70k_ovis.py'
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
