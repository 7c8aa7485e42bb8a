# (a) MaskFreeVIS without any mask, R101 (no R101 box-init weight was released).
_base_ = ['./maskfreevis_r50_8xb2-6k.py', '../models/resnet101.py']
model = dict(_base_.resnet101_model, init_cfg=_base_.coco_box_init_r101)
