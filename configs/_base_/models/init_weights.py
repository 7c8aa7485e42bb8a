# Whole-model initialisations (`model.init_cfg`), picked by the recipes; the class layer does not
# match and is re-initialised, as in mmdet.

# COCO *mask*-trained Mask2Former of mmdet (instance R50 / R101, panoptic Swin-L: the checkpoints
# mmdet's Mask2Former-VIS configs start from). The release started from detectron2's
# model_final_{3c8ec9, eba159, e5f453}.pkl.
_mmdet_mask2former = 'https://download.openmmlab.com/mmdetection/v3.0/mask2former/'
coco_mask_init_r50 = dict(
    type='Pretrained',
    checkpoint=_mmdet_mask2former + 'mask2former_r50_8xb2-lsj-50e_coco/'
    'mask2former_r50_8xb2-lsj-50e_coco_20220506_191028-41b088b6.pth',
)
coco_mask_init_r101 = dict(
    type='Pretrained',
    checkpoint=_mmdet_mask2former + 'mask2former_r101_8xb2-lsj-50e_coco/'
    'mask2former_r101_8xb2-lsj-50e_coco_20220426_100250-ecf181e2.pth',
)
coco_mask_init_swin_l = dict(
    type='Pretrained',
    checkpoint=_mmdet_mask2former
    + 'mask2former_swin-l-p4-w12-384-in21k_16xb1-lsj-100e_coco-panoptic/'
    'mask2former_swin-l-p4-w12-384-in21k_16xb1-lsj-100e_coco-panoptic_20220407_104949-82f8d28d.pth',
)
del _mmdet_mask2former

# COCO *box*-supervised Mask2Former: the release's box-init weight `model_final_proj.pth`
# (detectron2 format, Google Drive id 1qiFBqFK0VEgdj0ulylEqNKGExSguGc8V) converted to mmdet keys;
# see docs/en/user_guides/configs.md "Init weights". The release published it for R50 only: train
# or convert an R101 / Swin-L one first.
coco_box_init_r50 = dict(
    type='Pretrained', checkpoint='checkpoints/maskfreevis_r50_coco-box-init.pth'
)
coco_box_init_r101 = dict(
    type='Pretrained', checkpoint='checkpoints/maskfreevis_r101_coco-box-init.pth'
)
coco_box_init_swin_l = dict(
    type='Pretrained', checkpoint='checkpoints/maskfreevis_swin-l_coco-box-init.pth'
)
