# Fully supervised Mask2Former-VIS baseline (R101, video masks) on YouTube-VIS 2019.
_base_ = [
    '../_base_/recipes/mask2former-vis_r101_8xb2-6k.py',
    '../_base_/datasets/youtube_vis_2019_mask.py',
]
