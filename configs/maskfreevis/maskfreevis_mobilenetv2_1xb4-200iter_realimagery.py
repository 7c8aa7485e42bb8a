# The MaskFreeVIS demo config (`make demo`, `python tools/run_demo.py`), stage 2 of 2: the video
# model (../_base_/recipes/maskfreevis_mobilenetv2_1xb4-200iter.py: 3-frame clips, projection +
# pairwise + Temporal KNN-patch) starting from the last checkpoint of its box-supervised image
# stage, ./maskfreevis-imagestage_mobilenetv2_1xb8-300iter_realimagery.py. The same model classes
# as the full configs (MaskFreeVIS + MaskFreeTrackHead, box-mask matching), only smaller: ImageNet
# MobileNetV2, 128 channels, 3 decoder layers, 10 queries, 128 x 192 input, 4 clips per batch.
#
# `load_from` is where tools/train.py leaves the image stage's last checkpoint by default
# (work_dirs/<config name>/iter_<its max_iters>.pth), so from the repository root the two stages
# train with `python tools/train.py` on the image stage's config, then on this one.
# tools/run_demo.py reads the image stage from this `load_from`, trains it first and starts from
# the checkpoint of that run.
# Data paths are the standard fields, so both stages train on any box-only YouTube-VIS-format
# dataset (docs/en/user_guides/own_data.md: data_root, ann_file, data_prefix, num_classes).
_base_ = [
    '../_base_/recipes/maskfreevis_mobilenetv2_1xb4-200iter.py',
    '../_base_/datasets/real_imagery_vis.py',
]
load_from = 'work_dirs/maskfreevis-imagestage_mobilenetv2_1xb8-300iter_realimagery/iter_300.pth'
model = dict(track_head=dict(num_classes=6))  # the real-imagery categories
