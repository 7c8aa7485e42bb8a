# (a) MaskFreeVIS without any mask (R50, COCO box init) on YouTube-VIS 2019, boxes only.
_base_ = [
    '../_base_/recipes/maskfreevis_r50_8xb2-6k.py',
    '../_base_/datasets/youtube_vis_2019_box.py',
]
