# The released optimiser and the mask-free video schedule: AdamW lr 1e-4, weight decay 0.05 (none
# on norms and embeddings), backbone lr x0.1, gradient-norm clip 0.01, mixed precision (as
# released); 6k iterations, lr x0.1 at 4k. AmpOptimWrapper needs a GPU: on the CPU pass
# --cfg-options optim_wrapper.type=OptimWrapper
max_iters = 6000
embed_multi = dict(lr_mult=1.0, decay_mult=0.0)
optim_wrapper = dict(
    type='AmpOptimWrapper',
    loss_scale='dynamic',
    optimizer=dict(type='AdamW', lr=0.0001, weight_decay=0.05, eps=1e-8, betas=(0.9, 0.999)),
    paramwise_cfg=dict(
        custom_keys={
            'backbone': dict(lr_mult=0.1, decay_mult=1.0),
            'query_embed': embed_multi,
            'query_feat': embed_multi,
            'level_embed': embed_multi,
        },
        norm_decay_mult=0.0,
    ),
    clip_grad=dict(max_norm=0.01, norm_type=2),
)
param_scheduler = dict(
    type='MultiStepLR', begin=0, end=max_iters, by_epoch=False, milestones=[4000], gamma=0.1
)
# mmengine's IterBasedTrainLoop that stops cleanly on Ctrl-C / SIGTERM (maskfreevis.engine)
train_cfg = dict(
    type='InterruptibleIterBasedTrainLoop', max_iters=max_iters, val_interval=max_iters + 1
)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
