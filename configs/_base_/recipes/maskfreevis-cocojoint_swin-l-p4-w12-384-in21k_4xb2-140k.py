# (c) MaskFreeVIS + COCO pseudo-videos, Swin-L (released on YouTube-VIS 2019: 56.0 AP): total batch
# 8 and lr 5e-5 (of ./maskfreevis_swin-l-p4-w12-384-in21k_8xb1-12k.py) for 140k iterations (x0.1
# at 75k), test short side 480. The release ran 8 GPUs x 1 clip; the 1:1 COCO/video mix needs 2
# clips per GPU, so 4 GPUs x 2.
_base_ = './maskfreevis_swin-l-p4-w12-384-in21k_8xb1-12k.py'
model = dict(
    track_head=dict(criterion=dict(loss_tk=dict(pairing='all'))),
    init_cfg=_base_.coco_mask_init_swin_l,
)
max_iters = 140000
param_scheduler = dict(end=max_iters, milestones=[75000])
train_cfg = dict(max_iters=max_iters, val_interval=max_iters + 1)
