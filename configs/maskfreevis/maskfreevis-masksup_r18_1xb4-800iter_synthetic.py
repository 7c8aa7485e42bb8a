# Upper bound of the supervision comparison: the demo model trained with FULL mask supervision.
# Same classes, sizes, schedule and data as the MaskFreeVIS demo config; the train json carries
# masks, so MaskFreeTrackHead uses the stock Mask2Former-VIS losses (point-sampled mask BCE + Dice,
# matching on class + mask BCE + mask Dice) for every clip. Not a mask-free model.
_base_ = './maskfreevis_r18_1xb4-800iter_synthetic.py'
train_dataloader = dict(
    dataset=dict(ann_file='annotations/train_with_masks.json', pipeline=_base_.mask_train_pipeline)
)
