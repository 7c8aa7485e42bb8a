# COCO images as 3-frame pseudo-videos that keep their masks (the release's joint-training
# recipe), as fragments: ./*_coco_joint.py put `coco_pseudo_video_dataset`, with the class table of
# their video dataset, next to that dataset in a ConcatDataset loaded by
# `coco_joint_train_dataloader`.
coco_pseudo_video_pipeline = [
    dict(type='SampleClipFrames', num_frames=3),
    dict(
        type='TransformBroadcaster',
        share_random_params=True,
        transforms=[
            # in their stored pixel grid, as COCO's width, height, boxes and masks are
            dict(
                type='LoadImageFromFile', color_type='color_ignore_orientation', backend_args=None
            ),
            dict(type='LoadTrackAnnotations', with_mask=True),
            dict(
                type='RandomChoiceResize',
                scales=[(1333, 400), (1333, 500), (1333, 600)],
                keep_ratio=True,
            ),
        ],
    ),
    # a crop whose offset drifts from the first to the last frame, and a per-frame rotation
    # (|angle| <= 15 degrees, sorted so the clip turns one way)
    dict(type='RandomPseudoVideoWarp', crop_prob=0.5, crop_size=(384, 600), max_rotate_degree=15),
    dict(
        type='TransformBroadcaster',
        share_random_params=True,
        transforms=[
            dict(
                type='RandomChoiceResize',
                scales=[(768, short) for short in range(288, 513, 32)],
                keep_ratio=True,
            ),
            dict(type='RandomFlip', prob=0.5),
            dict(type='ClipBoxesToImage'),
        ],
    ),
    dict(type='PackTrackInputs'),
]
coco_pseudo_video_dataset = dict(
    type='CocoPseudoVideoDataset',
    data_root='data/coco/',
    ann_file='annotations/instances_train2017.json',
    data_prefix=dict(img_path='train2017'),
    pipeline=coco_pseudo_video_pipeline,
)

# Consecutive index pairs of ConcatDataset([COCO, video]) = one COCO clip + one video clip per
# GPU batch of 2 (the release mixed 4:3 with single-source GPU batches); no aspect-ratio grouping.
coco_joint_train_dataloader = dict(
    batch_size=2,
    sampler=dict(_delete_=True, type='MultiSourceSampler', batch_size=2, source_ratio=[1, 1]),
    batch_sampler=None,
)
