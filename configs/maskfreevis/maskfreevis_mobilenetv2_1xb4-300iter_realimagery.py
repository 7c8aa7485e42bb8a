# The MaskFreeVIS demo config (`make demo`, `python tools/run_demo.py`), stage 2 of 2: the video
# model (../_base_/recipes/maskfreevis_mobilenetv2_1xb4-300iter.py: 3-frame clips, projection +
# pairwise + Temporal KNN-patch) starting from the last checkpoint of its box-supervised image
# stage (`pretraining_stage_config`; run_demo trains that first). The same model classes as the
# full configs (MaskFreeVIS + MaskFreeTrackHead, box-mask matching), only smaller: ImageNet
# MobileNetV2, 128 channels, 3 decoder layers, 10 queries, 128 x 192 input, 4 clips per batch.
#
# Without run_demo: train the image stage (the config that `pretraining_stage_config` names)
# with tools/train.py, then this one with `--cfg-options load_from=<its work dir>/iter_400.pth`
# (README, "Your own data").
# Data paths are the standard fields, so both stages train on any box-only YouTube-VIS-format
# dataset (README, "Your own data": data_root, ann_file, data_prefix, num_classes).
_base_ = [
    '../_base_/recipes/maskfreevis_mobilenetv2_1xb4-300iter.py',
    '../_base_/datasets/real_imagery_vis.py',
]
pretraining_stage_config = './maskfreevis-imagestage_mobilenetv2_1xb8-400iter_realimagery.py'
model = dict(track_head=dict(num_classes=6))  # the real-imagery categories
