# (c) MaskFreeVIS jointly trained with COCO pseudo-videos (R50) on OVIS.
_base_ = [
    '../_base_/recipes/maskfreevis-cocojoint_r50_8xb2-70k.py',
    '../_base_/datasets/ovis_coco_joint.py',
]
model = dict(track_head=dict(num_classes=25))
