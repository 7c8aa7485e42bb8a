# OVIS (Occluded Video Instance Segmentation) from its ORIGINAL json, boxes only; 25 classes.
_base_ = './youtube_vis_2019_box.py'

data_root = 'data/ovis/'
num_classes = 25
model = dict(
    track_head=dict(
        num_classes=num_classes,
        loss_cls=dict(class_weight=[1.0] * num_classes + [0.1])))
train_dataloader = dict(
    dataset=dict(
        data_root=data_root,
        ann_file='annotations_train.json',
        data_prefix=dict(img_path='train')))
val_dataloader = dict(
    dataset=dict(
        data_root=data_root,
        ann_file='annotations_valid.json',
        data_prefix=dict(img_path='valid')))
test_dataloader = val_dataloader
val_evaluator = dict(outfile_prefix='./ovis_results')
test_evaluator = val_evaluator
