# (b) MaskFreeVIS from a COCO *mask*-trained Mask2Former (R101) on YouTube-VIS 2019, video boxes
# only.
_base_ = './maskfreevis_r101_8xb2-6k_youtubevis2019.py'
model = dict(init_cfg=_base_.coco_mask_init_r101)
