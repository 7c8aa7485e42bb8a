# Swin-L (patch 4, window 12, 384, ImageNet-21k) in place of the ResNet-50 of a Mask2Former-VIS
# model, with its optimiser settings: `model = dict(_base_.swin_l_model, ...)` and
# `optim_wrapper = dict(paramwise_cfg=_base_.swin_l_paramwise_cfg)`. Values of mmdet's Swin-L
# Mask2Former-VIS config; 200 queries as released (R50 / R101: 100).
swin_l_depths = [2, 2, 18, 2]
swin_l_backbone = dict(
    _delete_=True,
    type='SwinTransformer',
    pretrain_img_size=384,
    embed_dims=192,
    depths=swin_l_depths,
    num_heads=[6, 12, 24, 48],
    window_size=12,
    mlp_ratio=4,
    qkv_bias=True,
    qk_scale=None,
    drop_rate=0.0,
    attn_drop_rate=0.0,
    drop_path_rate=0.3,
    patch_norm=True,
    out_indices=(0, 1, 2, 3),
    with_cp=False,
    convert_weights=True,
    frozen_stages=-1,
    init_cfg=None,
)
swin_l_model = dict(
    backbone=swin_l_backbone, track_head=dict(in_channels=[192, 384, 768, 1536], num_queries=200)
)

# backbone lr x0.1; no weight decay on norms, position and query embeddings
_backbone_norm = dict(lr_mult=0.1, decay_mult=0.0)
_embed = dict(lr_mult=1.0, decay_mult=0.0)
_custom_keys = {
    'backbone': dict(lr_mult=0.1, decay_mult=1.0),
    'backbone.patch_embed.norm': _backbone_norm,
    'backbone.norm': _backbone_norm,
    'absolute_pos_embed': _backbone_norm,
    'relative_position_bias_table': _backbone_norm,
    'query_embed': _embed,
    'query_feat': _embed,
    'level_embed': _embed,
}
_custom_keys.update(
    {
        f'backbone.stages.{stage}.blocks.{block}.norm': _backbone_norm
        for stage, num_blocks in enumerate(swin_l_depths)
        for block in range(num_blocks)
    }
)
_custom_keys.update(
    {
        f'backbone.stages.{stage}.downsample.norm': _backbone_norm
        for stage in range(len(swin_l_depths) - 1)
    }
)
swin_l_paramwise_cfg = dict(custom_keys=_custom_keys, norm_decay_mult=0.0)
del _backbone_norm, _embed, _custom_keys
