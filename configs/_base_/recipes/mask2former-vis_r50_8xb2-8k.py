# mmdet's YouTube-VIS 2021 schedule for the r50 baseline: 8k iterations, lr x0.1 at 5.5k.
_base_ = './mask2former-vis_r50_8xb2-6k.py'
max_iters = 8000
param_scheduler = dict(end=max_iters, milestones=[5500])
train_cfg = dict(max_iters=max_iters, val_interval=max_iters + 1)
