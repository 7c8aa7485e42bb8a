# (a) MaskFreeVIS without any mask, Swin-L: 200 queries, one clip per GPU with half the
# learning rate and twice the iterations (the release's Swin-L convention), test short side 480.
# No Swin-L box-init weight was released: train or convert one first.
_base_ = [
    './maskfreevis_r50_8xb2-6k_youtubevis2019.py',
    '../_base_/models/swin-l-p4-w12-384-in21k.py',
]
model = dict(
    backbone=_base_.swin_l_backbone,
    track_head=dict(
        in_channels=_base_.swin_l_in_channels, num_queries=_base_.swin_l_num_queries),
    init_cfg=dict(
        type='Pretrained', checkpoint='checkpoints/maskfreevis_swin-l_coco-box-init.pth'))
train_dataloader = dict(batch_size=1)
test_pipeline = _base_.test_pipeline
test_pipeline[0].transforms[1].scale = (1333, 480)
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader

optim_wrapper = dict(optimizer=dict(lr=5e-5), paramwise_cfg=_base_.swin_l_paramwise_cfg)
max_iters = 12000
param_scheduler = dict(end=max_iters, milestones=[8000])
train_cfg = dict(max_iters=max_iters, val_interval=max_iters + 1)
