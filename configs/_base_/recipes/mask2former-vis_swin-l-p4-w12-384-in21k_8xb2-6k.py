# Fully supervised Mask2Former-VIS baseline (video masks), Swin-L with 200 queries (mmdet's Swin-L
# Mask2Former-VIS settings); the configs test at short side 480 (`_base_.test_pipeline_480`).
_base_ = ['./mask2former-vis_r50_8xb2-6k.py', '../models/swin-l-p4-w12-384-in21k.py']
model = dict(_base_.swin_l_model, init_cfg=_base_.coco_mask_init_swin_l)
optim_wrapper = dict(paramwise_cfg=_base_.swin_l_paramwise_cfg)
