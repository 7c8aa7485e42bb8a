# Upper bound of the supervision comparison: the demo model trained with FULL mask supervision.
# Same classes, sizes, schedule and data as the MaskFreeVIS demo config; the train json carries
# masks, so MaskFreeTrackHead uses the stock Mask2Former-VIS losses (point-sampled mask BCE + Dice,
# matching on class + mask BCE + mask Dice) for every clip. Not a mask-free model.
_base_ = './maskfreevis_r18_1xb4-800iter_synthetic.py'

train_pipeline = [
    dict(type='SampleClipFrames', num_frames={{_base_.num_frames}}, frame_range=5, shuffle=True),
    dict(
        type='TransformBroadcaster',
        share_random_params=True,
        transforms=[
            dict(type='LoadImageFromFile'),
            dict(type='LoadTrackAnnotations', with_mask=True),
            dict(type='Resize', scale={{_base_.image_scale}}, keep_ratio=True),
            dict(type='RandomFlip', prob=0.5),
            dict(type='ClipBoxesToImage'),
        ]),
    dict(type='PackTrackInputs')
]
train_dataloader = dict(
    dataset=dict(ann_file='annotations/train_with_masks.json', pipeline=train_pipeline))
