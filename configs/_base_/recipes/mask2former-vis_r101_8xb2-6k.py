# Fully supervised Mask2Former-VIS baseline (video masks), R101 from mmdet's COCO Mask2Former R101.
_base_ = ['./mask2former-vis_r50_8xb2-6k.py', '../models/resnet101.py']
model = dict(_base_.resnet101_model, init_cfg=_base_.coco_mask_init_r101)
