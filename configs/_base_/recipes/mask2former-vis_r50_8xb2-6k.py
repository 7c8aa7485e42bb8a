# Fully supervised baseline: stock mmdet Mask2FormerVideo + Mask2FormerTrackHead trained with the
# video *masks* (the configs use the data of ../datasets/*_mask.py: 2-frame clips within
# +-20 frames, ordered), from mmdet's COCO Mask2Former R50; same optimiser, AMP and evaluation as
# the MaskFreeVIS recipes.
_base_ = [
    '../models/mask2former-vis_r50.py',
    '../models/init_weights.py',
    '../schedules/schedule_6k.py',
    '../default_runtime.py',
]
model = dict(init_cfg=_base_.coco_mask_init_r50)
