# The generated demo videos (`python -m maskfreevis_demo.datasets.synthetic` ->
# data/synthetic_vis/): 64 x 96 frames, 4 shape categories, YouTube-VIS json layout.
# annotations/train.json carries boxes only (`segmentations: null`); train_with_masks.json (for
# `mask_train_pipeline`) and val.json carry masks, so the metric computes mask AP locally.
data_root = 'data/synthetic_vis/'
image_scale = (96, 64)  # (w, h)

# frames load in their stored pixel grid, where the json's boxes and masks are (the YouTube-VIS
# convention); OpenCV's default decoding would turn frames that carry an EXIF orientation tag
load_frame = dict(type='LoadImageFromFile', color_type='color_ignore_orientation')
clip_augment = [
    dict(type='Resize', scale=image_scale, keep_ratio=True),
    dict(type='RandomFlip', prob=0.5),
    dict(type='ClipBoxesToImage'),
]
box_clip_transforms = dict(
    type='TransformBroadcaster',
    share_random_params=True,
    transforms=[load_frame, dict(type='LoadTrackAnnotations', with_mask=False), *clip_augment],
)
# T = 3 frames within +-5 frames of a random reference frame, shuffled
train_pipeline = [
    dict(type='SampleClipFrames', num_frames=3, frame_range=5, shuffle=True),
    box_clip_transforms,
    dict(type='PackTrackInputs'),
]
mask_train_pipeline = [
    dict(type='SampleClipFrames', num_frames=3, frame_range=5, shuffle=True),
    dict(
        box_clip_transforms,
        transforms=[load_frame, dict(type='LoadTrackAnnotations', with_mask=True), *clip_augment],
    ),
    dict(type='PackTrackInputs'),
]
# ground truth for the metric comes from the annotation file (metainfo `instances`), so the
# test pipeline loads no annotations
test_pipeline = [
    dict(
        type='TransformBroadcaster',
        transforms=[load_frame, dict(type='Resize', scale=image_scale, keep_ratio=True)],
    ),
    dict(type='PackTrackInputs'),
]

train_dataloader = dict(
    batch_size=4,
    num_workers=0,  # frames are tiny; a worker process would only compete for the 2 cores
    persistent_workers=False,
    sampler=dict(type='InfiniteSampler', shuffle=True),  # iteration-based training
    batch_sampler=dict(type='TrackAspectRatioBatchSampler'),
    dataset=dict(
        type='BoxVISDataset',
        data_root=data_root,
        ann_file='annotations/train.json',
        data_prefix=dict(img_path='train/JPEGImages'),
        pipeline=train_pipeline,
    ),
)
val_dataloader = test_dataloader = dict(
    batch_size=1,
    num_workers=0,
    persistent_workers=False,
    drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False, round_up=False),
    dataset=dict(
        train_dataloader['dataset'],
        ann_file='annotations/val.json',
        data_prefix=dict(img_path='val/JPEGImages'),
        test_mode=True,
        pipeline=test_pipeline,
    ),
)

val_evaluator = test_evaluator = dict(
    type='YouTubeVISLocalMetric', metric='youtube_vis_ap', format_only=False
)
