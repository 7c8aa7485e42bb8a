# The demo, stage 1 of 2: the box-supervised image stage
# (../_base_/recipes/maskfreevis-imagestage_mobilenetv2_1xb8-300iter.py) on single frames of the
# generated videos of real photographs, 8 frames per batch, 128 x 192 input (a 64 x 96 mask grid
# at stride 2).
# ./maskfreevis_mobilenetv2_1xb4-200iter_realimagery.py trains the video model from its last
# checkpoint (`python tools/run_demo.py` runs both stages).
_base_ = [
    '../_base_/recipes/maskfreevis-imagestage_mobilenetv2_1xb8-300iter.py',
    '../_base_/datasets/real_imagery_vis.py',
]
model = dict(track_head=dict(num_classes=6))  # the real-imagery categories
train_dataloader = dict(batch_size=8, dataset=dict(pipeline=_base_.image_train_pipeline))
