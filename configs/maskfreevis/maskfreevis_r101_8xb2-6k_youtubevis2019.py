# (a) MaskFreeVIS without any mask, R101 (the release published a box-init weight for R50 only:
# train or convert an R101 COCO box-supervised Mask2Former first).
_base_ = './maskfreevis_r50_8xb2-6k_youtubevis2019.py'
model = dict(
    backbone=dict(
        depth=101,
        init_cfg=dict(type='Pretrained', checkpoint='torchvision://resnet101')),
    init_cfg=dict(
        type='Pretrained', checkpoint='checkpoints/maskfreevis_r101_coco-box-init.pth'))
