# Fully supervised Mask2Former-VIS baseline (R50, video masks) on YouTube-VIS 2021. mmdet's
# YouTube-VIS 2021 schedule (8k iterations).
_base_ = [
    '../_base_/recipes/mask2former-vis_r50_8xb2-8k.py',
    '../_base_/datasets/youtube_vis_2021_mask.py',
]
