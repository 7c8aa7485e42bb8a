# (a) MaskFreeVIS without any mask: R50 initialised from a COCO *box*-supervised Mask2Former,
# YouTube-VIS 2019 boxes only, 5-frame cyclic TK tube, 6k iterations (released: 42.5 AP).
_base_ = [
    '../_base_/datasets/youtube_vis_2019_box.py',
    '../_base_/models/maskfreevis_r50.py',
]
model = _base_.maskfreevis_model
# The release's box-init weight `model_final_proj.pth` (detectron2 format, Google Drive id
# 1qiFBqFK0VEgdj0ulylEqNKGExSguGc8V) converted to mmdet keys; see README.md "Init weights".
model.init_cfg = dict(
    type='Pretrained', checkpoint='checkpoints/maskfreevis_r50_coco-box-init.pth')
