"""detectron2 -> MaskFreeVIS: names, strict loading and the same outputs as the detectron2 layers.

Every comparison runs a detectron2-style reference module (``detectron2_reference.py``, released
key names) and the converted mmdet/mmcv module on the same input.
"""

import pytest
import torch
from mmdet.models.backbones import ResNet, SwinTransformer
from mmdet.models.layers import PatchMerging

from maskfreevis.model_converters import (
    DETECTRON2_NON_MODEL_KEYS,
    convert_detectron2_state_dict,
    convert_state_dict,
)
from maskfreevis.model_converters.detectron2_maskfreevis import (
    concat_to_unfold_order,
    reverse_input_channels,
)
from tests.model_converters import detectron2_reference as d2
from tests.model_converters.small_targets import (
    DIM,
    NUM_QUERIES,
    RESNET18_CHANNELS,
    SWIN_TINY,
    SWIN_TINY_CHANNELS,
    build_small_video_model,
    small_detectron2_reference,
    target_of,
)

ATOL = 1e-4


@pytest.fixture(scope='module')
def converted_pair():
    """(detectron2 reference R18 model, mmdet model loaded strictly with its converted weights)."""
    torch.manual_seed(0)
    reference = small_detectron2_reference()
    model = build_small_video_model()
    result = convert_state_dict(
        reference.state_dict(),
        convert_detectron2_state_dict,
        target_of(model),
        'reference.pth',
        drop_patterns=DETECTRON2_NON_MODEL_KEYS,
    )
    model.load_state_dict(result.state_dict, strict=True)
    return reference, model, result


def test_released_names_convert_and_load_strictly(converted_pair):
    reference, model, result = converted_pair
    assert sorted(result.dropped) == ['criterion._iter', 'criterion.empty_weight']
    assert set(result.state_dict) == set(model.state_dict())
    assert any(line.startswith('class head kept') for line in result.report)
    # FrozenBN has no counter; BatchNorm gets num_batches_tracked = 0
    assert result.state_dict['backbone.bn1.num_batches_tracked'].item() == 0
    assert torch.equal(
        result.state_dict['track_head.mask_embed.4.weight'],
        reference.sem_seg_head.predictor.mask_embed.layers[2].weight,
    )


@torch.no_grad()
def test_resnet_frozen_bn_backbone_same_features(converted_pair):
    reference, model, _ = converted_pair
    images = torch.randn(2, 3, 64, 96)
    for expected, actual in zip(reference.backbone(images), model.backbone(images)):
        torch.testing.assert_close(actual, expected, atol=ATOL, rtol=1e-4)


@torch.no_grad()
def test_resnet50_bottleneck_backbone_same_features():
    reference = d2.randomise_(d2.ResNet(50), seed=1).eval()
    converted = convert_detectron2_state_dict(
        {f'backbone.{key}': value for key, value in reference.state_dict().items()}
    )
    assert not converted.unmatched
    assert len(converted.created) == 53  # one counter per BatchNorm of ResNet-50
    backbone = ResNet(
        depth=50, norm_cfg=dict(type='BN', requires_grad=False), norm_eval=True, style='pytorch'
    )
    backbone.eval()  # mmdet's ResNet.train() returns None
    backbone.load_state_dict(
        {key[len('backbone.') :]: value for key, value in converted.state_dict.items()}, strict=True
    )
    images = torch.randn(1, 3, 64, 64, generator=torch.Generator().manual_seed(0))
    for expected, actual in zip(reference(images), backbone(images)):
        # float32 through 50 layers: the two orders of summation differ by up to 1.6e-6 of the
        # largest feature (measured on seeds 0-5, features up to ~240); 1e-5 of it is the bound.
        tolerance = 1e-5 * expected.abs().max().item()
        torch.testing.assert_close(actual, expected, atol=tolerance, rtol=0)


@torch.no_grad()
def test_pixel_decoder_same_outputs(converted_pair):
    """Input projections + GroupNorm, level embeddings, deformable encoder, FPN level, mask
    features: same level order and layouts."""
    reference, model, _ = converted_pair
    features = [
        torch.randn(2, channels, 32 // 2**level, 48 // 2**level)
        for level, channels in enumerate(RESNET18_CHANNELS)
    ]
    expected_mask, expected_maps = reference.sem_seg_head.pixel_decoder(features)
    mask_feature, maps = model.track_head.pixel_decoder(features)
    torch.testing.assert_close(mask_feature, expected_mask, atol=ATOL, rtol=1e-4)
    for expected, actual in zip(expected_maps, maps):
        torch.testing.assert_close(actual, expected, atol=ATOL, rtol=1e-4)


@torch.no_grad()
def test_decoder_layers_same_outputs_with_attention_mask(converted_pair):
    """Cross-attention -> self-attention -> FFN with post-norms; in-projections unchanged."""
    reference, model, _ = converted_pair
    predictor = reference.sem_seg_head.predictor
    batch, keys, heads = 2, 30, 8
    query = torch.randn(batch, NUM_QUERIES, DIM)
    query_pos = torch.randn(batch, NUM_QUERIES, DIM)
    memory = torch.randn(batch, keys, DIM)
    pos = torch.randn(batch, keys, DIM)
    mask = torch.rand(batch * heads, NUM_QUERIES, keys) > 0.6
    mask[..., 0] = False  # every query sees at least one key
    for index, layer in enumerate(model.track_head.transformer_decoder.layers):
        expected = predictor.decoder_layer(
            index,
            query.transpose(0, 1),
            memory.transpose(0, 1),
            mask,
            pos.transpose(0, 1),
            query_pos.transpose(0, 1),
        )
        actual = layer(
            query=query,
            key=memory,
            value=memory,
            query_pos=query_pos,
            key_pos=pos,
            cross_attn_mask=mask,
            self_attn_mask=None,
        )
        torch.testing.assert_close(actual, expected.transpose(0, 1), atol=ATOL, rtol=1e-4)


@torch.no_grad()
def test_prediction_heads_same_outputs(converted_pair):
    """decoder_norm, class_embed and the 3-layer mask MLP (layers.{0,1,2} -> mask_embed.{0,2,4})
    give the same outputs."""
    reference, model, _ = converted_pair
    predictor, head = reference.sem_seg_head.predictor, model.track_head
    queries = torch.randn(2, NUM_QUERIES, DIM)
    normed = predictor.decoder_norm(queries)
    torch.testing.assert_close(head.transformer_decoder.post_norm(queries), normed)
    torch.testing.assert_close(head.cls_embed(normed), predictor.class_embed(normed))
    torch.testing.assert_close(head.mask_embed(normed), predictor.mask_embed(normed))
    for name in ('query_feat', 'query_embed', 'level_embed'):
        assert torch.equal(getattr(head, name).weight, getattr(predictor, name).weight)


@torch.no_grad()
def test_swin_backbone_same_features():
    """Patch embedding, window attention (qkv, relative position bias and index), shifted windows,
    MLP, patch merging (neighbour order) and the per-stage norms."""
    reference = d2.randomise_(
        d2.SwinTransformer(
            SWIN_TINY['dim'], SWIN_TINY['depths'], SWIN_TINY['heads'], SWIN_TINY['window']
        ),
        seed=2,
    ).eval()
    converted = convert_detectron2_state_dict(
        {f'backbone.{key}': value for key, value in reference.state_dict().items()}
    )
    assert not converted.unmatched and not converted.created
    backbone = SwinTransformer(
        embed_dims=SWIN_TINY['dim'],
        depths=list(SWIN_TINY['depths']),
        num_heads=list(SWIN_TINY['heads']),
        window_size=SWIN_TINY['window'],
        drop_path_rate=0.0,
        out_indices=(0, 1, 2, 3),
    )
    backbone.eval()
    own_index = backbone.stages[0].blocks[0].attn.w_msa.relative_position_index.clone()
    backbone.load_state_dict(
        {key[len('backbone.') :]: value for key, value in converted.state_dict.items()}, strict=True
    )
    # detectron2's relative position index is the one mmdet computes itself
    assert torch.equal(backbone.stages[0].blocks[0].attn.w_msa.relative_position_index, own_index)
    images = torch.randn(1, 3, 128, 128)
    features = backbone(images)
    assert [feature.shape[1] for feature in features] == list(SWIN_TINY_CHANNELS)
    for expected, actual in zip(reference(images), features):
        torch.testing.assert_close(actual, expected, atol=1e-4, rtol=1e-4)


@torch.no_grad()
def test_patch_merging_neighbour_order():
    reference = d2.randomise_(d2.PatchMerging(8), seed=3)
    merging = PatchMerging(in_channels=8, out_channels=16)
    merging.reduction.weight.copy_(concat_to_unfold_order(reference.reduction.weight, dim=1))
    merging.norm.weight.copy_(concat_to_unfold_order(reference.norm.weight, dim=0))
    merging.norm.bias.copy_(concat_to_unfold_order(reference.norm.bias, dim=0))
    tokens = torch.randn(2, 6 * 4, 8)
    actual, shape = merging(tokens, (6, 4))
    assert shape == (3, 2)
    torch.testing.assert_close(actual, reference(tokens, 6, 4), atol=ATOL, rtol=1e-4)


@torch.no_grad()
def test_first_conv_reversed_for_a_bgr_source():
    """A conv trained on BGR input, reversed, gives on RGB input what it gave on BGR input."""
    conv = torch.nn.Conv2d(3, 4, 3)
    bgr = torch.randn(1, 3, 8, 8)
    weights = {'backbone.conv1.weight': conv.weight.clone()}
    assert reverse_input_channels(weights) == ('backbone.conv1.weight',)
    rgb = bgr.flip(1)
    torch.testing.assert_close(
        torch.nn.functional.conv2d(rgb, weights['backbone.conv1.weight'], conv.bias), conv(bgr)
    )


def test_conversion_reverses_first_conv_only_when_orders_differ(converted_pair):
    reference, model, _ = converted_pair
    source = reference.state_dict()
    target = target_of(model)
    same = convert_state_dict(
        source,
        convert_detectron2_state_dict,
        target,
        'r.pth',
        drop_patterns=DETECTRON2_NON_MODEL_KEYS,
        source_channel_order='RGB',
    )
    flipped = convert_state_dict(
        source,
        convert_detectron2_state_dict,
        target,
        'r.pth',
        drop_patterns=DETECTRON2_NON_MODEL_KEYS,
        source_channel_order='BGR',
    )
    assert torch.equal(
        same.state_dict['backbone.conv1.weight'], source['backbone.stem.conv1.weight']
    )
    assert torch.equal(
        flipped.state_dict['backbone.conv1.weight'], source['backbone.stem.conv1.weight'].flip(1)
    )
    assert any(
        'input channels reversed (BGR source, RGB target)' in line for line in flipped.report
    )
