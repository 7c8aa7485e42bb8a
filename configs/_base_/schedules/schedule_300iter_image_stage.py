# The demo's box-supervised image stage: ./schedule_800iter_from_scratch.py (AdamW 3e-4,
# 50-iteration warm-up, x0.1 at 80 %) over 300 iterations.
_base_ = './schedule_800iter_from_scratch.py'

max_iters = 300
train_cfg = dict(max_iters=max_iters, val_interval=max_iters)
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0, end=50),
    dict(type='MultiStepLR', by_epoch=False, begin=0, end=max_iters, milestones=[240], gamma=0.1),
]
