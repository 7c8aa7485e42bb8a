# Fully supervised Mask2Former-VIS baseline (video masks), Swin-L with 200 queries (mmdet's
# Swin-L Mask2Former-VIS settings), test short side 480.
_base_ = [
    './mask2former-vis_r50_8xb2-6k_youtubevis2019.py',
    '../_base_/models/swin-l-p4-w12-384-in21k.py',
]
model = dict(
    backbone=_base_.swin_l_backbone,
    track_head=dict(
        in_channels=_base_.swin_l_in_channels, num_queries=_base_.swin_l_num_queries),
    init_cfg=dict(type='Pretrained', checkpoint=_base_.swin_l_coco_mask_init))
test_pipeline = _base_.test_pipeline
test_pipeline[0].transforms[1].scale = (1333, 480)
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader
optim_wrapper = dict(paramwise_cfg=_base_.swin_l_paramwise_cfg)
