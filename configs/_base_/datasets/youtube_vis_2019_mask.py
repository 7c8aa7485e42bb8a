# YouTube-VIS 2019 with its video masks, in the clips of the Mask2Former-VIS recipe (2 ordered
# frames within +-20 frames): the data of the fully supervised baseline.
_base_ = './youtube_vis_2019_box.py'
train_dataloader = dict(dataset=dict(pipeline=_base_.mask_train_pipeline))
