# (a) MaskFreeVIS without any mask (R50, COCO box init) on OVIS, boxes only.
_base_ = [
    '../_base_/recipes/maskfreevis_r50_8xb2-6k.py',
    '../_base_/datasets/ovis_box.py',
]
model = dict(track_head=dict(num_classes=25))
