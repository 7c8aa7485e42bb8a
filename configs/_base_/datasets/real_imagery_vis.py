# The demo's generated videos of real photographs
# (`python -m maskfreevis_demo.datasets.real_imagery` -> data/real_imagery_vis/): real objects with
# their true masks moved over real backgrounds, 128 x 192 frames. Same json layout as
# ./synthetic_vis.py (train.json boxes only, train_with_masks.json and val.json with masks); only
# the location and the input size differ.
_base_ = './synthetic_vis.py'

data_root = 'data/real_imagery_vis/'
image_scale = (192, 128)  # (w, h): a 64 x 96 mask grid at the demo model's stride 2
resize = dict(type='Resize', scale=image_scale, keep_ratio=True)
clip_augment = [resize, dict(type='RandomFlip', prob=0.5), dict(type='ClipBoxesToImage')]


def clip_pipeline(num_frames, with_mask=False):
    """T frames within +-5 frames of a random reference frame, shuffled, one augmentation."""
    load_annotations = dict(type='LoadTrackAnnotations', with_mask=with_mask)
    return [
        dict(type='SampleClipFrames', num_frames=num_frames, frame_range=5, shuffle=True),
        dict(
            type='TransformBroadcaster',
            share_random_params=True,
            transforms=[_base_.load_frame, load_annotations, *clip_augment],
        ),
        dict(type='PackTrackInputs'),
    ]


train_pipeline = clip_pipeline(3)
mask_train_pipeline = clip_pipeline(3, with_mask=True)
# the box-supervised image stage: single frames
image_train_pipeline = clip_pipeline(1)
image_mask_train_pipeline = clip_pipeline(1, with_mask=True)
test_pipeline = [
    dict(type='TransformBroadcaster', transforms=[_base_.load_frame, resize]),
    dict(type='PackTrackInputs'),
]
del clip_pipeline

train_dataloader = dict(dataset=dict(data_root=data_root, pipeline=train_pipeline))
val_dataloader = test_dataloader = dict(dataset=dict(data_root=data_root, pipeline=test_pipeline))
