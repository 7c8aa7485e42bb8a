# The demo, stage 1 of 2 - the release's recipe, which never trains the mask-free losses from
# random weights: a box-supervised IMAGE model first (single frames, box projection + colour
# pairwise, the pairwise term at the release's image weight 5.0 x 0.25 and ramped in over its
# first 100 iterations, as the release's image stage does), then
# ./maskfreevis_mobilenetv2_1xb4-400iter_realimagery.py trains the video model from its last
# checkpoint. ImageNet MobileNetV2, a 128 x 192 input (32 x 48 mask grid), 8 frames per batch,
# the generated videos of real photographs (`python tools/run_demo.py` runs both stages).
_base_ = [
    '../_base_/models/maskfreevis_mobilenetv2_small.py',
    '../_base_/datasets/real_imagery_vis.py',
    '../_base_/schedules/schedule_800iter_from_scratch.py',
    '../_base_/default_runtime.py',
]
model = dict(
    track_head=dict(
        num_classes=6,  # the real-imagery categories
        criterion=dict(loss_tk=dict(loss_weight=0.0), warmup_iters=dict(loss_pair=100)),
    )
)
train_dataloader = dict(batch_size=8, dataset=dict(pipeline=_base_.image_train_pipeline))

max_iters = 600
train_cfg = dict(max_iters=max_iters, val_interval=max_iters)
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0, end=50),
    dict(
        type='MultiStepLR',
        by_epoch=False,
        begin=0,
        end=max_iters,
        milestones=[int(max_iters * 0.8)],
        gamma=0.1,
    ),
]
default_hooks = dict(logger=dict(interval=10), checkpoint=dict(interval=100, max_keep_ckpts=1))
log_processor = dict(window_size=10)
randomness = dict(seed=0)
