# Image stage of the supervision comparison's upper bound: the demo's image stage
# (maskfreevis-imagestage_mobilenetv2_...) trained with FULL mask supervision (the train json with
# masks: the stock point-sampled mask BCE + Dice and mask-cost matching). Not a mask-free model.
_base_ = './maskfreevis-imagestage_mobilenetv2_1xb8-300iter_realimagery.py'
train_dataloader = dict(
    dataset=dict(
        ann_file='annotations/train_with_masks.json', pipeline=_base_.image_mask_train_pipeline
    )
)
