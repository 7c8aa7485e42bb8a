"""A small MaskFreeVIS built from the shipped R50 config, for fast model tests.

Same classes, losses, match costs and data preprocessor as
``configs/maskfreevis/maskfreevis_r50_8xb2-6k_youtubevis2019.py``; only the sizes shrink
(ResNet-18, 64 channels, 8 queries, 1 encoder and 3 decoder layers, 5 classes).
"""
import copy
import functools
import os.path as osp

from mmdet.registry import MODELS
from mmengine.config import Config, ConfigDict
from mmengine.registry import init_default_scope

import maskfreevis  # noqa: F401  (registers the plugin classes)

# what the Runner does with a config's `default_scope`: nested builds (e.g. the data
# preprocessor, built through mmengine's root registry) then find mmdet's classes
init_default_scope('mmdet')

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIG_DIR = osp.join(REPO_ROOT, 'configs', 'maskfreevis')
R50_CONFIG = osp.join(CONFIG_DIR, 'maskfreevis_r50_8xb2-6k_youtubevis2019.py')


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


def small_model_cfg(num_classes: int = 5, tk_warmup_iters: int = 0) -> ConfigDict:
    """Shrunk copy of the R50 MaskFreeVIS model config (see module docstring)."""
    cfg = model_cfg_of(R50_CONFIG)
    channels = 64
    cfg.backbone.depth = 18
    head = cfg.track_head
    head.in_channels = [64, 128, 256, 512]
    head.feat_channels = channels
    head.out_channels = channels
    head.num_classes = num_classes
    head.num_queries = 8
    head.loss_cls.class_weight = [1.0] * num_classes + [0.1]
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
    head.loss_tk.warmup_iters = tk_warmup_iters
    head.train_cfg.num_points = 256
    return cfg


def build_small_model(**kwargs):
    """Built (random weights) small MaskFreeVIS in training mode."""
    model = MODELS.build(small_model_cfg(**kwargs))
    model.train()
    return model
