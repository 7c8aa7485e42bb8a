# OVIS box clips (3 frames) next to COCO pseudo-videos with masks, mapped onto its classes by the
# named table of maskfreevis.datasets.categories.
_base_ = ['./ovis_box.py', './coco_pseudo_video.py']
coco_clips = dict(_base_.coco_pseudo_video_dataset, class_mapping='ovis')
video_clips = dict(_base_.train_dataloader.dataset, pipeline=_base_.three_frame_train_pipeline)
joint_dataset = dict(_delete_=True, type='ConcatDataset', datasets=[coco_clips, video_clips])
train_dataloader = dict(_base_.coco_joint_train_dataloader, dataset=joint_dataset)
