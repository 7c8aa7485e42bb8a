# The demo's video stage, from the image stage's checkpoint: the same optimiser and schedule shape
# as ./schedule_300iter_image_stage.py over 200 iterations.
_base_ = './schedule_300iter_image_stage.py'

max_iters = 200
train_cfg = dict(max_iters=max_iters, val_interval=max_iters)
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0, end=50),
    dict(type='MultiStepLR', by_epoch=False, begin=0, end=max_iters, milestones=[160], gamma=0.1),
]
