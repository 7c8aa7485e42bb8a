# Fully supervised Mask2Former-VIS baseline (Swin-L, video masks) on YouTube-VIS 2019, test short
# side 480.
_base_ = [
    '../_base_/recipes/mask2former-vis_swin-l-p4-w12-384-in21k_8xb2-6k.py',
    '../_base_/datasets/youtube_vis_2019_mask.py',
]
val_dataloader = test_dataloader = dict(dataset=dict(pipeline=_base_.test_pipeline_480))
