"""A small MaskFreeVIS for fast model tests, in the model schema of the shipped configs.

mmdet's Mask2Former-VIS R50 model (``mmdet::mask2former_vis/...youtubevis2019``) turned into
MaskFreeVIS the way the R50 recipe does it (same classes, criterion, losses, match costs and data
preprocessor), then shrunk: ResNet-18, 64 channels, 8 queries, 1 encoder and 3 decoder layers,
5 classes. Built from mmdet's config, not from ``configs/``, so these tests do not depend on the
recipes' files (``test_maskfreevis_configs.py`` builds those).
"""

import copy
import functools
import os.path as osp

import mmdet
from mmdet.registry import MODELS
from mmengine.config import Config, ConfigDict
from mmengine.registry import init_default_scope

import maskfreevis  # noqa: F401  (registers the plugin classes)

# what the Runner does with a config's `default_scope`: nested builds (e.g. the data
# preprocessor, built through mmengine's root registry) then find mmdet's classes
init_default_scope('mmdet')

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIG_DIR = osp.join(REPO_ROOT, 'configs', 'maskfreevis')
MMDET_VIS_CONFIG = osp.join(
    osp.dirname(mmdet.__file__),
    '.mim',
    'configs',
    'mask2former_vis',
    'mask2former_r50_8xb2-8e_youtubevis2019.py',
)


@functools.lru_cache(maxsize=None)
def _parsed_config(config_path: str) -> Config:
    return Config.fromfile(config_path)


def load_config(config_path: str) -> Config:
    """A private copy of a parsed config file (parsed once per test session)."""
    return copy.deepcopy(_parsed_config(config_path))


def model_cfg_of(config_path: str) -> ConfigDict:
    """The ``model`` part of a config file, without any pretrained weights."""
    model_cfg = load_config(config_path).model
    model_cfg.init_cfg = None
    model_cfg.backbone.init_cfg = None
    return model_cfg


def maskfreevis_criterion(tk_warmup_iters: int = 0) -> ConfigDict:
    """The R50 recipe's criterion (released weights, 5-frame cyclic TK tube)."""
    return ConfigDict(
        type='MaskFreeCriterion',
        loss_cls=dict(
            type='CrossEntropyLoss', use_sigmoid=False, loss_weight=2.0, reduction='mean'
        ),
        loss_proj=dict(type='BoxProjectionLoss', loss_weight=5.0),
        loss_pair=dict(
            type='PairwiseColourLoss', kernel_size=3, dilation=2, threshold=0.3, loss_weight=5.0
        ),
        loss_tk=dict(
            type='TemporalKNNPatchLoss',
            patch_size=3,
            grid_size=3,
            dilation=3,
            topk=5,
            threshold=0.05,
            pairing='cyclic',
            loss_weight=0.5,
        ),
        loss_mask=dict(
            type='CrossEntropyLoss', use_sigmoid=True, reduction='mean', loss_weight=5.0
        ),
        loss_dice=dict(
            type='DiceLoss',
            use_sigmoid=True,
            activate=True,
            reduction='mean',
            naive_dice=True,
            eps=1.0,
            loss_weight=5.0,
        ),
        warmup_iters=dict(loss_tk=tk_warmup_iters),
        assigner=dict(
            type='HungarianAssigner',
            match_costs=[
                dict(type='ClassificationCost', weight=2.0),
                dict(type='BoxMaskDiceCost', weight=5.0),
            ],
        ),
        mask_assigner=None,
        num_points=256,
        oversample_ratio=3.0,
        importance_sample_ratio=0.75,
    )


def small_model_cfg(num_classes: int = 5, tk_warmup_iters: int = 0) -> ConfigDict:
    """Shrunk MaskFreeVIS model config (see module docstring)."""
    cfg = model_cfg_of(MMDET_VIS_CONFIG)
    cfg.type = 'MaskFreeVIS'
    cfg.data_preprocessor.type = 'MaskFreeDataPreprocessor'
    cfg.data_preprocessor.mask_stride = 4
    del cfg.data_preprocessor['pad_mask']
    channels = 64
    cfg.backbone.depth = 18
    head = cfg.track_head
    for key in ('loss_cls', 'loss_mask', 'loss_dice', 'train_cfg', 'num_frames'):
        del head[key]
    head.type = 'MaskFreeTrackHead'
    head.criterion = maskfreevis_criterion(tk_warmup_iters)
    head.in_channels = [64, 128, 256, 512]
    head.feat_channels = channels
    head.out_channels = channels
    head.num_classes = num_classes
    head.num_queries = 8
    encoder = head.pixel_decoder.encoder
    encoder.num_layers = 1
    encoder.layer_cfg.self_attn_cfg.embed_dims = channels
    encoder.layer_cfg.ffn_cfg.embed_dims = channels
    encoder.layer_cfg.ffn_cfg.feedforward_channels = 128
    head.pixel_decoder.positional_encoding.num_feats = channels // 2
    head.positional_encoding.num_feats = channels // 2
    decoder = head.transformer_decoder
    decoder.num_layers = 3
    decoder.layer_cfg.self_attn_cfg.embed_dims = channels
    decoder.layer_cfg.cross_attn_cfg.embed_dims = channels
    decoder.layer_cfg.ffn_cfg.embed_dims = channels
    decoder.layer_cfg.ffn_cfg.feedforward_channels = 128
    return cfg


def build_small_model(**kwargs):
    """Built (random weights) small MaskFreeVIS in training mode."""
    model = MODELS.build(small_model_cfg(**kwargs))
    model.train()
    return model


LOSS_KEYS = ('loss_cls', 'loss_proj', 'loss_pair', 'loss_tk', 'loss_mask', 'loss_dice')


def loss_keys(num_outputs: int) -> set:
    """Every loss key of a MaskFreeVIS model whose head has ``num_outputs`` decoder outputs."""
    keys = set(LOSS_KEYS)
    for layer in range(num_outputs - 1):
        keys |= {f'd{layer}.{key}' for key in LOSS_KEYS}
    return keys
