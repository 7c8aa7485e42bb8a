# (a) MaskFreeVIS without any mask on OVIS: R50 from a COCO *box*-supervised Mask2Former, boxes
# only, 5-frame cyclic TK tube, 6k iterations (the YouTube-VIS 2019 recipe; the release shipped no
# OVIS config).
_base_ = [
    '../_base_/datasets/ovis_box.py',
    '../_base_/models/maskfreevis_r50.py',
]
model = _base_.maskfreevis_model
model.init_cfg = dict(
    type='Pretrained', checkpoint='checkpoints/maskfreevis_r50_coco-box-init.pth')
