# (b) MaskFreeVIS from a COCO *mask*-trained Mask2Former (R50), video boxes only, 5-frame
# cyclic tube, 6k iterations (released on YouTube-VIS 2019: 43.8 AP). The release started from
# detectron2's model_final_3c8ec9.pkl; this is mmdet's COCO instance Mask2Former R50.
_base_ = './maskfreevis_r50_8xb2-6k_ovis.py'
model = dict(
    init_cfg=dict(
        type='Pretrained',
        checkpoint=(
            'https://download.openmmlab.com/mmdetection/v3.0/mask2former/'
            'mask2former_r50_8xb2-lsj-50e_coco/'
            'mask2former_r50_8xb2-lsj-50e_coco_20220506_191028-41b088b6.pth')))
