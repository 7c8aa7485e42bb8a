"""What a converted checkpoint must fit: the state-dict keys, shapes and input colour order of the
model a config describes."""

from dataclasses import dataclass
from typing import Dict, Optional, Sequence, Tuple

import torch
from mmengine.config import Config, ConfigDict
from mmengine.registry import init_default_scope

__all__ = ['TargetModel', 'target_from_model_config', 'target_from_config_file']


@dataclass
class TargetModel:
    """Keys and shapes of the target model's ``state_dict()`` and the colour order it is fed.

    Attributes:
        shapes: ``{key: shape}``.
        channel_order: ``'RGB'`` or ``'BGR'``: the order of the images the backbone sees.
        name: what the target is (the config file), for messages.
        mean, std: the data preprocessor's normalisation (in ``channel_order``), None if unset.
    """

    shapes: Dict[str, Tuple[int, ...]]
    channel_order: str
    name: str
    mean: Optional[Sequence[float]] = None
    std: Optional[Sequence[float]] = None


def _channel_order(model_cfg: ConfigDict) -> str:
    # images are read BGR (mmcv); the data preprocessor may swap them to RGB
    preprocessor = model_cfg.get('data_preprocessor') or {}
    swapped = preprocessor.get('bgr_to_rgb', False) or preprocessor.get('rgb_to_bgr', False)
    return 'RGB' if swapped else 'BGR'


def target_from_model_config(
    model_cfg: ConfigDict, name: str, default_scope: str = 'mmdet'
) -> TargetModel:
    """Build the model of ``model_cfg`` (random weights, CPU) and read its state-dict layout.

    Args:
        model_cfg: the config's ``model`` dict.
        name: the config's name, for messages.
        default_scope: the registry scope to build in (the config's ``default_scope``).
    """
    from mmdet.registry import MODELS

    import maskfreevis  # noqa: F401  (registers the model classes)

    init_default_scope(default_scope)
    model_cfg = model_cfg.copy()
    model_cfg.pop('init_cfg', None)  # never download or read pretrained weights here
    with torch.no_grad():
        model = MODELS.build(model_cfg)
    shapes = {key: tuple(tensor.shape) for key, tensor in model.state_dict().items()}
    preprocessor = model_cfg.get('data_preprocessor') or {}
    return TargetModel(
        shapes=shapes,
        channel_order=_channel_order(model_cfg),
        name=name,
        mean=preprocessor.get('mean'),
        std=preprocessor.get('std'),
    )


def target_from_config_file(config_file: str, cfg_options: Optional[dict] = None) -> TargetModel:
    """:func:`target_from_model_config` for the ``model`` of a config file.

    Args:
        config_file: path of the config.
        cfg_options: ``--cfg-options`` overrides merged into the config first.
    """
    cfg = Config.fromfile(config_file)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    return target_from_model_config(cfg.model, config_file, cfg.get('default_scope', 'mmdet'))
