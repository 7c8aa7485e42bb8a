# (b) MaskFreeVIS from a COCO *mask*-trained Mask2Former (R101), video boxes only (released on
# YouTube-VIS 2019: 47.3 AP; release init: detectron2's model_final_eba159.pkl).
_base_ = './maskfreevis_r101_8xb2-6k_ovis.py'
model = dict(
    init_cfg=dict(
        type='Pretrained',
        checkpoint=(
            'https://download.openmmlab.com/mmdetection/v3.0/mask2former/'
            'mask2former_r101_8xb2-lsj-50e_coco/'
            'mask2former_r101_8xb2-lsj-50e_coco_20220426_100250-ecf181e2.pth')))
