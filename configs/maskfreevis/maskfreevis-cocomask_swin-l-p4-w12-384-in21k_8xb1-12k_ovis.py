# (b) MaskFreeVIS from a COCO *mask*-trained Mask2Former (Swin-L) on OVIS, video boxes only.
_base_ = './maskfreevis_swin-l-p4-w12-384-in21k_8xb1-12k_ovis.py'
model = dict(init_cfg=_base_.coco_mask_init_swin_l)
