# Upper bound of the supervision comparison: the demo (maskfreevis_mobilenetv2_...) trained with
# FULL mask supervision in both stages (train json with masks: the stock Mask2Former-VIS losses and
# matching for every clip). Same classes, sizes, schedules and data. Not a mask-free model.
_base_ = './maskfreevis_mobilenetv2_1xb4-200iter_realimagery.py'
# the last checkpoint of its image stage, where tools/train.py leaves it by default
load_from = (
    'work_dirs/maskfreevis-imagestage-masksup_mobilenetv2_1xb8-300iter_realimagery/iter_300.pth'
)
train_dataloader = dict(
    dataset=dict(ann_file='annotations/train_with_masks.json', pipeline=_base_.mask_train_pipeline)
)
