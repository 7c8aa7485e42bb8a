# YouTube-VIS 2021 from its ORIGINAL json (train/instances.json), boxes only.
_base_ = './youtube_vis_2019_box.py'

data_root = 'data/youtube_vis_2021/'
train_dataloader = dict(
    dataset=dict(
        data_root=data_root,
        ann_file='train/instances.json',
        data_prefix=dict(img_path='train/JPEGImages'),
    )
)
val_dataloader = test_dataloader = dict(
    dataset=dict(
        data_root=data_root,
        ann_file='valid/instances.json',
        data_prefix=dict(img_path='valid/JPEGImages'),
    )
)
val_evaluator = test_evaluator = dict(outfile_prefix='./youtube_vis_2021_results')
