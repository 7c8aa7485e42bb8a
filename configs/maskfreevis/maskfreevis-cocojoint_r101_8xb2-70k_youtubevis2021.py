# (c) MaskFreeVIS jointly trained with COCO pseudo-videos (R101) on YouTube-VIS 2021.
_base_ = [
    '../_base_/recipes/maskfreevis-cocojoint_r101_8xb2-70k.py',
    '../_base_/datasets/youtube_vis_2021_coco_joint.py',
]
