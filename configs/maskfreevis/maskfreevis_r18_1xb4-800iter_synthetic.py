# MaskFreeVIS demo config: the same model classes as the full configs (MaskFreeVIS detector +
# MaskFreeTrackHead, box projection + colour pairwise + Temporal KNN-patch losses, box-mask
# matching), only smaller: ResNet-18 from scratch, 3 decoder layers, 10 queries, 128 channels,
# 64 x 96 input, 3-frame clips, 4 clips per batch, 800 iterations on 1 CPU process
# (`python tools/run_demo.py`, or `make demo`).
#
# Data paths are the standard fields, so the same config trains on any box-only YouTube-VIS-format
# dataset (original json: videos[file_names], annotations[bboxes, segmentations null]), e.g.
#   python tools/train.py configs/maskfreevis/maskfreevis_r18_1xb4-800iter_synthetic.py \
#     --cfg-options train_dataloader.dataset.data_root=data/my_vis/ \
#       train_dataloader.dataset.ann_file=annotations/train.json \
#       train_dataloader.dataset.data_prefix.img_path=train/JPEGImages \
#       val_dataloader.dataset.data_root=data/my_vis/ \
#       val_dataloader.dataset.ann_file=annotations/valid_with_masks.json \
#       val_dataloader.dataset.data_prefix.img_path=valid/JPEGImages \
#       test_dataloader.dataset.data_root=data/my_vis/ ... \
#       model.track_head.num_classes=<classes in the json>
# Mask AP needs a validation json with masks; without one set val_evaluator.format_only=True.
_base_ = [
    '../_base_/models/maskfreevis_r18_small.py',
    '../_base_/datasets/synthetic_vis.py',
    '../_base_/schedules/schedule_800iter_from_scratch.py',
    '../_base_/demo_runtime.py',
]
