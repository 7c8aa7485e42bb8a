# (a) MaskFreeVIS without any mask (R101) on OVIS, boxes only.
_base_ = [
    '../_base_/recipes/maskfreevis_r101_8xb2-6k.py',
    '../_base_/datasets/ovis_box.py',
]
model = dict(track_head=dict(num_classes=25))
