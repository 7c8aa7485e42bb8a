# (c) MaskFreeVIS jointly trained with COCO pseudo-videos (Swin-L) on OVIS, test short side 480.
_base_ = [
    '../_base_/recipes/maskfreevis-cocojoint_swin-l-p4-w12-384-in21k_4xb2-140k.py',
    '../_base_/datasets/ovis_coco_joint.py',
]
model = dict(track_head=dict(num_classes=25))
val_dataloader = test_dataloader = dict(dataset=dict(pipeline=_base_.test_pipeline_480))
