# Fully supervised Mask2Former-VIS baseline (R101, video masks) on OVIS.
_base_ = [
    '../_base_/recipes/mask2former-vis_r101_8xb2-6k.py',
    '../_base_/datasets/ovis_mask.py',
]
model = dict(track_head=dict(num_classes=25, loss_cls=dict(class_weight=[1.0] * 25 + [0.1])))
