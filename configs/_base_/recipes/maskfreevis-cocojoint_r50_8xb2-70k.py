# (c) MaskFreeVIS jointly trained with COCO pseudo-videos (R50; released on YouTube-VIS 2019:
# 46.6 AP), on the data of ../datasets/*_coco_joint.py: video clips carry boxes only (projection
# + pairwise + TK losses on a 3-frame all-pairs tube); COCO images become 3-frame pseudo-videos
# that keep their COCO masks (point-sampled BCE + Dice); no video mask anywhere. From the COCO
# mask-trained Mask2Former; released joint schedule: 70k iterations, lr x0.1 at 37.5k.
_base_ = './maskfreevis_r50_8xb2-6k.py'
model = dict(
    track_head=dict(criterion=dict(loss_tk=dict(pairing='all'))), init_cfg=_base_.coco_mask_init_r50
)
max_iters = 70000
param_scheduler = dict(end=max_iters, milestones=[37500])
train_cfg = dict(max_iters=max_iters, val_interval=max_iters + 1)
