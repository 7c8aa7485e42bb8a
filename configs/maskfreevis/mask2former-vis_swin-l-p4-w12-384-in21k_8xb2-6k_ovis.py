# Fully supervised Mask2Former-VIS baseline (Swin-L, video masks) on OVIS, test short side 480.
_base_ = [
    '../_base_/recipes/mask2former-vis_swin-l-p4-w12-384-in21k_8xb2-6k.py',
    '../_base_/datasets/ovis_mask.py',
]
model = dict(track_head=dict(num_classes=25, loss_cls=dict(class_weight=[1.0] * 25 + [0.1])))
val_dataloader = test_dataloader = dict(dataset=dict(pipeline=_base_.test_pipeline_480))
