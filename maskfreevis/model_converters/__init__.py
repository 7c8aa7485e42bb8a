"""Converters from other implementations' checkpoints to this package's ``MaskFreeVIS`` weights.

One module per source format (:mod:`.detectron2_maskfreevis`, :mod:`.mmdet_mask2former`), all
pure functions on state dicts; :func:`convert_state_dict` runs a whole conversion against the
model a config describes and fails with every key that does not fit. The command lines are
``tools/model_converters/detectron2_to_maskfreevis.py`` and ``mmdet_to_maskfreevis.py``.
"""

from .checkpoint_files import CheckpointFormatError, load_state_dict_file, save_converted_checkpoint
from .class_head import ClassHeadResult, map_class_head, reinitialise_class_head
from .class_tables import class_list, class_table
from .conversion import ClassHeadOptions, ConversionResult, convert_state_dict, fit_class_head
from .detectron2_maskfreevis import (
    DETECTRON2_CHANNEL_ORDER,
    DETECTRON2_NON_MODEL_KEYS,
    convert_detectron2_state_dict,
    reverse_input_channels,
)
from .imagenet_mobilenet_v2 import (
    bundled_mobilenet_v2_path,
    convert_mobilenet_v2_state_dict,
    load_bundled_mobilenet_v2,
    mobilenet_v2_key_map,
    register_bundled_imagenet_scheme,
)
from .key_rules import KeyRule, RenameResult, drop_keys, rename_state_dict
from .mmdet_mask2former import convert_mmdet_state_dict
from .state_dict_check import (
    StateDictComparison,
    StateDictMismatchError,
    compare_state_dicts,
    require_exact_match,
)
from .target_model import TargetModel, target_from_config_file, target_from_model_config

__all__ = [
    'CheckpointFormatError',
    'load_state_dict_file',
    'save_converted_checkpoint',
    'ClassHeadResult',
    'map_class_head',
    'reinitialise_class_head',
    'class_list',
    'class_table',
    'ClassHeadOptions',
    'ConversionResult',
    'convert_state_dict',
    'fit_class_head',
    'DETECTRON2_CHANNEL_ORDER',
    'DETECTRON2_NON_MODEL_KEYS',
    'convert_detectron2_state_dict',
    'reverse_input_channels',
    'bundled_mobilenet_v2_path',
    'convert_mobilenet_v2_state_dict',
    'load_bundled_mobilenet_v2',
    'mobilenet_v2_key_map',
    'register_bundled_imagenet_scheme',
    'KeyRule',
    'RenameResult',
    'drop_keys',
    'rename_state_dict',
    'convert_mmdet_state_dict',
    'StateDictComparison',
    'StateDictMismatchError',
    'compare_state_dicts',
    'require_exact_match',
    'TargetModel',
    'target_from_config_file',
    'target_from_model_config',
]
