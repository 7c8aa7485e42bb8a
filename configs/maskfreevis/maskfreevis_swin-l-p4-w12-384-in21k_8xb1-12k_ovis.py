# (a) MaskFreeVIS without any mask (Swin-L) on OVIS: one clip per GPU, test short side 480.
_base_ = [
    '../_base_/recipes/maskfreevis_swin-l-p4-w12-384-in21k_8xb1-12k.py',
    '../_base_/datasets/ovis_box.py',
]
model = dict(track_head=dict(num_classes=25))
train_dataloader = dict(batch_size=1)
val_dataloader = test_dataloader = dict(dataset=dict(pipeline=_base_.test_pipeline_480))
