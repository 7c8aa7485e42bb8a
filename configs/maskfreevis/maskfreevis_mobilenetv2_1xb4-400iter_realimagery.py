# The MaskFreeVIS demo config (`make demo`, `python tools/run_demo.py`), stage 2 of 2: the video
# model - 3-frame clips, box projection + colour pairwise + Temporal KNN-patch (ramped in over 100
# iterations) - starting from the last checkpoint of its box-supervised image stage
# (`pretraining_stage_config`; run_demo trains that first). The same model classes as the full
# configs (MaskFreeVIS + MaskFreeTrackHead, box-mask matching), only smaller.
#
# Without run_demo: train the image stage, then this one from its checkpoint:
#   python tools/train.py configs/maskfreevis/maskfreevis-imagestage_mobilenetv2_1xb8-600iter_realimagery.py
#   python tools/train.py configs/maskfreevis/maskfreevis_mobilenetv2_1xb4-400iter_realimagery.py \
#     --cfg-options load_from=work_dirs/maskfreevis-imagestage_mobilenetv2_1xb8-600iter_realimagery/iter_600.pth
# Data paths are the standard fields, so both stages train on any box-only YouTube-VIS-format
# dataset (see the README: `train_dataloader.dataset.data_root=...`, `ann_file=...`,
# `model.track_head.num_classes=...`).
_base_ = './maskfreevis-imagestage_mobilenetv2_1xb8-600iter_realimagery.py'
pretraining_stage_config = './maskfreevis-imagestage_mobilenetv2_1xb8-600iter_realimagery.py'
model = dict(
    track_head=dict(
        criterion=dict(
            loss_tk=dict(loss_weight=0.5),
            warmup_iters=dict(loss_pair=0, loss_tk=100),
        )
    )
)
train_dataloader = dict(batch_size=4, dataset=dict(pipeline=_base_.train_pipeline))

max_iters = 400
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
