# (a) MaskFreeVIS without any mask, Swin-L (not released): 200 queries, one clip per GPU with half
# the learning rate and twice the iterations (the release's Swin-L convention), test short side
# 480 - the two data settings are set by the configs (`train_dataloader = dict(batch_size=1)`,
# `_base_.test_pipeline_480`). No Swin-L box-init weight was released.
_base_ = ['./maskfreevis_r50_8xb2-6k.py', '../models/swin-l-p4-w12-384-in21k.py']
model = dict(_base_.swin_l_model, init_cfg=_base_.coco_box_init_swin_l)
optim_wrapper = dict(optimizer=dict(lr=5e-5), paramwise_cfg=_base_.swin_l_paramwise_cfg)
max_iters = 12000
param_scheduler = dict(end=max_iters, milestones=[8000])
train_cfg = dict(max_iters=max_iters, val_interval=max_iters + 1)
