# Fully supervised baseline on the same data: stock mmdet Mask2FormerVideo + Mask2FormerTrackHead
# trained with the video *masks*, Mask2Former-VIS recipe (2-frame clips within +-20 frames,
# ordered), from mmdet's COCO Mask2Former R50; same data pipeline, AMP and evaluation as the
# MaskFreeVIS configs.
_base_ = '../_base_/datasets/youtube_vis_2021_box.py'

num_frames = 2
model = dict(track_head=dict(num_frames=num_frames))  # the stock head needs T in its config
train_pipeline = _base_.train_pipeline
train_pipeline[0].num_frames = num_frames
train_pipeline[0].frame_range = 20
train_pipeline[0].shuffle = False
train_pipeline[1].transforms[1].with_mask = True
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
# mmdet's YouTube-VIS 2021 schedule: 8k iterations, lr x0.1 at 5.5k
max_iters = 8000
param_scheduler = dict(end=max_iters, milestones=[5500])
train_cfg = dict(max_iters=max_iters, val_interval=max_iters + 1)
