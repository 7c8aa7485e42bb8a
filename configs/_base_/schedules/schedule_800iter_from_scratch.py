# The demo schedule: training from scratch, so a larger step than the released fine-tuning LR
# (1e-4, backbone x0.1) and no backbone multiplier (3e-4 was chosen, not tuned); the rest follows
# the release (AdamW, wd 0.05, grad clip 0.01). 800 iterations, a 50-iteration warm-up, lr x0.1
# at 80 %; no mixed precision (CPU).
max_iters = 800
embed_multi = dict(lr_mult=1.0, decay_mult=0.0)
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(
        type='AdamW', lr=3e-4, weight_decay=0.05, eps=1e-8, betas=(0.9, 0.999), foreach=True
    ),  # one fused update for all tensors: faster on CPU
    paramwise_cfg=dict(
        custom_keys={
            'query_embed': embed_multi,
            'query_feat': embed_multi,
            'level_embed': embed_multi,
        },
        norm_decay_mult=0.0,
    ),
    clip_grad=dict(max_norm=0.01, norm_type=2),
)
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
# mmengine's IterBasedTrainLoop that stops cleanly on Ctrl-C / SIGTERM (maskfreevis.engine)
train_cfg = dict(
    type='InterruptibleIterBasedTrainLoop', max_iters=max_iters, val_interval=max_iters
)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
