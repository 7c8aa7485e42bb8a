# (b) MaskFreeVIS from a COCO *mask*-trained Mask2Former (Swin-L), video boxes only.
_base_ = './maskfreevis_swin-l-p4-w12-384-in21k_8xb1-12k_youtubevis2019.py'
model = dict(init_cfg=dict(type='Pretrained', checkpoint=_base_.swin_l_coco_mask_init))
