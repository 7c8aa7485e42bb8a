# (c) MaskFreeVIS + COCO pseudo-videos, Swin-L (released on YouTube-VIS 2019: 56.0 AP): 200
# queries, total batch 8 and lr 5e-5 for 140k iterations (x0.1 at 75k), test short side 480.
# The release ran 8 GPUs x 1 clip; the 1:1 COCO/video mix needs 2 clips per GPU, so 4 GPUs x 2.
_base_ = [
    './maskfreevis-cocojoint_r50_8xb2-70k_ovis.py',
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

optim_wrapper = dict(optimizer=dict(lr=5e-5), paramwise_cfg=_base_.swin_l_paramwise_cfg)
max_iters = 140000
param_scheduler = dict(end=max_iters, milestones=[75000])
train_cfg = dict(max_iters=max_iters, val_interval=max_iters + 1)
