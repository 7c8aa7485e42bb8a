# OVIS (Occluded Video Instance Segmentation) from its ORIGINAL json, boxes only; 25 classes, so
# OVIS configs set `model = dict(track_head=dict(num_classes=25))`.
_base_ = './youtube_vis_2019_box.py'

data_root = 'data/ovis/'
train_dataloader = dict(
    dataset=dict(
        data_root=data_root, ann_file='annotations_train.json', data_prefix=dict(img_path='train')
    )
)
val_dataloader = test_dataloader = dict(
    dataset=dict(
        data_root=data_root, ann_file='annotations_valid.json', data_prefix=dict(img_path='valid')
    )
)
val_evaluator = test_evaluator = dict(outfile_prefix='./ovis_results')
