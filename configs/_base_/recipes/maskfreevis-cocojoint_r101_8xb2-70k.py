# (c) MaskFreeVIS + COCO pseudo-videos, R101 (released on YouTube-VIS 2019: 49.1 AP).
_base_ = ['./maskfreevis-cocojoint_r50_8xb2-70k.py', '../models/resnet101.py']
model = dict(_base_.resnet101_model, init_cfg=_base_.coco_mask_init_r101)
