# (c) MaskFreeVIS jointly trained with COCO pseudo-videos (Swin-L) on YouTube-VIS 2021, test
# short side 480.
_base_ = [
    '../_base_/recipes/maskfreevis-cocojoint_swin-l-p4-w12-384-in21k_4xb2-140k.py',
    '../_base_/datasets/youtube_vis_2021_coco_joint.py',
]
val_dataloader = test_dataloader = dict(dataset=dict(pipeline=_base_.test_pipeline_480))
