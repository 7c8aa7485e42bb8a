# YouTube-VIS 2019 from its ORIGINAL json, boxes only (`BoxVISDataset`); pipelines from
# ./vis_clip_pipelines.py. A new dataset in the same json layout: inherit this file and set the
# paths, as ./youtube_vis_2021_box.py does.
_base_ = './vis_clip_pipelines.py'

dataset_type = 'BoxVISDataset'
data_root = 'data/youtube_vis_2019/'

train_dataloader = dict(
    batch_size=2,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    batch_sampler=dict(type='TrackAspectRatioBatchSampler'),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file='train.json',
        data_prefix=dict(img_path='train/JPEGImages'),
        pipeline=_base_.train_pipeline,
    ),
)
val_dataloader = test_dataloader = dict(
    batch_size=1,
    num_workers=2,
    persistent_workers=True,
    drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False, round_up=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file='valid.json',
        data_prefix=dict(img_path='valid/JPEGImages'),
        test_mode=True,
        pipeline=_base_.test_pipeline,
    ),
)

# The official valid split has no annotations: write the CodaLab submission. On a split whose
# json carries `segmentations`, set format_only=False to get mask AP locally.
val_evaluator = test_evaluator = dict(
    type='YouTubeVISLocalMetric',
    metric='youtube_vis_ap',
    outfile_prefix='./youtube_vis_2019_results',
    format_only=True,
)
