# YouTube-VIS 2019 from its ORIGINAL json, boxes only, on top of mmdet's Mask2Former-VIS R50
# config. mmengine forbids two sibling bases that define the same key, and mmdet's Mask2Former-VIS
# config defines model, data and runtime at once; so the data bases chain on it, the MaskFreeVIS
# model comes from `../models/maskfreevis_r50.py` as the named fragment `maskfreevis_model`, and
# the runtime settings every config shares (plugin import, hooks, AMP, seed) live here.
_base_ = 'mmdet::mask2former_vis/mask2former_r50_8xb2-8e_youtubevis2019.py'

custom_imports = dict(imports=['maskfreevis'], allow_failed_imports=False)
custom_hooks = [dict(type='CheckpointTrustHook')]
randomness = dict(seed=29118357)  # the release's seed

dataset_type = 'BoxVISDataset'
data_root = 'data/youtube_vis_2019/'
backend_args = None
num_frames = 5  # clip length T of the mask-free recipe (5-frame cyclic tube)
test_short_side = 360  # 480 for Swin-L

train_pipeline = [
    # T frames within +-5 of a random reference frame, shuffled (the release's sampler)
    dict(type='SampleClipFrames', num_frames=num_frames, frame_range=5, shuffle=True),
    dict(
        type='TransformBroadcaster',
        share_random_params=True,  # one scale and one flip per clip
        transforms=[
            dict(type='LoadImageFromFile', backend_args=backend_args),
            dict(type='LoadTrackAnnotations', with_mask=False),
            dict(
                type='RandomChoiceResize',
                scales=[(1333, 360), (1333, 480)],
                keep_ratio=True),
            dict(type='RandomFlip', prob=0.5),
            dict(type='ClipBoxesToImage'),
        ]),
    dict(type='PackTrackInputs')
]
test_pipeline = [
    dict(
        type='TransformBroadcaster',
        transforms=[
            dict(type='LoadImageFromFile', backend_args=backend_args),
            dict(type='Resize', scale=(1333, test_short_side), keep_ratio=True),
            dict(type='LoadTrackAnnotations', with_mask=False),
        ]),
    dict(type='PackTrackInputs')
]

train_dataloader = dict(
    batch_size=2,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    batch_sampler=dict(type='TrackAspectRatioBatchSampler'),
    dataset=dict(
        _delete_=True,
        type=dataset_type,
        data_root=data_root,
        ann_file='train.json',
        data_prefix=dict(img_path='train/JPEGImages'),
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=1,
    num_workers=2,
    persistent_workers=True,
    drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False, round_up=False),
    dataset=dict(
        _delete_=True,
        type=dataset_type,
        data_root=data_root,
        ann_file='valid.json',
        data_prefix=dict(img_path='valid/JPEGImages'),
        test_mode=True,
        pipeline=test_pipeline))
test_dataloader = val_dataloader

# The official valid split has no annotations: write the CodaLab submission. On a split whose
# json carries `segmentations`, set format_only=False to get mask AP locally.
val_evaluator = dict(
    _delete_=True,
    type='YouTubeVISLocalMetric',
    metric='youtube_vis_ap',
    outfile_prefix='./youtube_vis_2019_results',
    format_only=True)
test_evaluator = val_evaluator

# AdamW 1e-4, wd 0.05, backbone lr x0.1, grad-norm clip 0.01 come from the base; AMP as released.
# AmpOptimWrapper needs a GPU: on CPU pass --cfg-options optim_wrapper.type=OptimWrapper
optim_wrapper = dict(type='AmpOptimWrapper', loss_scale='dynamic')
