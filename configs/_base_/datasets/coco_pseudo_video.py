# COCO images as 3-frame pseudo-videos that keep their masks (the release's joint-training
# recipe), as the fragment `coco_pseudo_video_dataset`; a config sets its `metainfo` (the video
# dataset's classes) and `class_mapping` (COCO name -> video class name) and puts it next to the
# video dataset in a ConcatDataset. A fragment, because a sibling base may not redefine the
# dataloaders of the mmdet chain (see ./youtube_vis_2019_box.py).
coco_pseudo_video_frames = 3
coco_pseudo_video_pipeline = [
    dict(type='SampleClipFrames', num_frames=coco_pseudo_video_frames),
    dict(
        type='TransformBroadcaster',
        share_random_params=True,
        transforms=[
            dict(type='LoadImageFromFile', backend_args=None),
            dict(type='LoadTrackAnnotations', with_mask=True),
            dict(
                type='RandomChoiceResize',
                scales=[(1333, 400), (1333, 500), (1333, 600)],
                keep_ratio=True),
        ]),
    # a crop whose offset drifts from the first to the last frame, and a per-frame rotation
    # (|angle| <= 15 degrees, sorted so the clip turns one way)
    dict(
        type='RandomPseudoVideoWarp',
        crop_prob=0.5,
        crop_size=(384, 600),
        max_rotate_degree=15),
    dict(
        type='TransformBroadcaster',
        share_random_params=True,
        transforms=[
            dict(
                type='RandomChoiceResize',
                scales=[(768, short) for short in range(288, 513, 32)],
                keep_ratio=True),
            dict(type='RandomFlip', prob=0.5),
            dict(type='ClipBoxesToImage'),
        ]),
    dict(type='PackTrackInputs')
]
coco_pseudo_video_dataset = dict(
    type='CocoPseudoVideoDataset',
    data_root='data/coco/',
    ann_file='annotations/instances_train2017.json',
    data_prefix=dict(img_path='train2017'),
    pipeline=coco_pseudo_video_pipeline)
