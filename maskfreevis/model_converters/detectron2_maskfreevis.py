"""detectron2 MaskFreeVIS / Mask2Former(-VIS) weights -> this package's ``MaskFreeVIS`` names.

Covers the released detectron2 models of MaskFreeVIS and Mask2Former-VIS (``VideoMaskFormer``) and
the image Mask2Formers they start from (COCO instance ``model_final_*.pkl``, the COCO box-supervised
``model_final_proj.pth``): ResNet (``build_resnet_backbone``) or Swin (``D2SwinTransformer``)
backbone, ``sem_seg_head.pixel_decoder`` (``MSDeformAttnPixelDecoder``) and
``sem_seg_head.predictor`` (the video or image masked-attention decoder; both use the same names).

What changes besides names (each checked numerically against a detectron2-style reference in
``tests/model_converters``):

* ResNet ``FrozenBatchNorm2d`` -> ``BatchNorm2d``: same four tensors, plus the BatchNorm counter
  ``num_batches_tracked`` (0) that the frozen layer does not have. Both normalise with
  eps 1e-5 and, as the configs keep BatchNorm in eval mode with frozen parameters, compute the same.
* Swin patch merging: detectron2 concatenates the 2 x 2 neighbours as (top-left, bottom-left,
  top-right, bottom-right) blocks of C channels; mmdet's ``PatchMerging`` unfolds them channel by
  channel in (top-left, top-right, bottom-left, bottom-right) order. The ``reduction`` weight's
  input columns and the ``norm`` parameters are permuted accordingly.
* Nothing else: the decoder's attention in-projections (``in_proj_weight`` = q, k, v rows) stay
  as they are because mmcv's ``MultiheadAttention`` keeps a ``torch.nn.MultiheadAttention`` as
  ``attn``; the decoder layer order (cross-attention, self-attention, FFN, each followed by its
  LayerNorm) is the same in both, so ``norm`` of those three sub-layers becomes ``norms.0/1/2``.

Released detectron2 Mask2Former(-VIS) models read RGB input (``INPUT.FORMAT: "RGB"``, mean
``[123.675, 116.28, 103.53]``, std ``[58.395, 57.12, 57.375]``), as the configs'
data preprocessors feed it (``bgr_to_rgb=True``); :func:`reverse_input_channels` exists for a
checkpoint trained on BGR input.
"""

import re
from typing import List, Mapping, MutableMapping, Tuple

import torch
from torch import Tensor

from .key_rules import KeyRule, RenameResult, rename_state_dict

__all__ = [
    'DETECTRON2_NON_MODEL_KEYS',
    'DETECTRON2_CHANNEL_ORDER',
    'DETECTRON2_PIXEL_MEAN',
    'DETECTRON2_PIXEL_STD',
    'RESNET_RULES',
    'SWIN_RULES',
    'PIXEL_DECODER_RULES',
    'PREDICTOR_RULES',
    'DETECTRON2_RULES',
    'FIRST_CONV_KEYS',
    'concat_to_unfold_order',
    'add_batch_norm_counters',
    'convert_detectron2_state_dict',
    'reverse_input_channels',
]

# Tensors in detectron2 checkpoints that are no weights of our model, dropped by default:
# the loss's no-object class weight (ours is `class_weight` of the config's classification loss)
# and the release's warm-up counter of loss calls (our warm-up follows the runner's iteration);
# older checkpoints also store the normalisation constants (ours sit in the data preprocessor).
DETECTRON2_NON_MODEL_KEYS = ('criterion.empty_weight', 'criterion._iter', 'pixel_mean', 'pixel_std')

# Input colour order and normalisation of the released detectron2 Mask2Former(-VIS) / MaskFreeVIS
# models (INPUT.FORMAT, MODEL.PIXEL_MEAN, MODEL.PIXEL_STD).
DETECTRON2_CHANNEL_ORDER = 'RGB'
DETECTRON2_PIXEL_MEAN = (123.675, 116.28, 103.53)
DETECTRON2_PIXEL_STD = (58.395, 57.12, 57.375)

# First convolutions (ResNet, Swin) whose input channels follow the colour order.
FIRST_CONV_KEYS = ('backbone.conv1.weight', 'backbone.patch_embed.projection.weight')

_NORM = r'(weight|bias|running_mean|running_var|num_batches_tracked)'


def _resnet_layer(match: re.Match) -> str:
    """``res2`` .. ``res5`` of detectron2 are ``layer1`` .. ``layer4`` of torchvision/mmdet."""
    return f'backbone.layer{int(match[1]) - 1}.{match[2]}'


RESNET_RULES = (
    KeyRule(r'backbone\.stem\.conv1\.weight', 'backbone.conv1.weight'),
    KeyRule(rf'backbone\.stem\.conv1\.norm\.{_NORM}', r'backbone.bn1.\1'),
    KeyRule(
        r'backbone\.res([2-5])\.(\d+)\.conv(\d)\.weight',
        lambda m: f'{_resnet_layer(m)}.conv{m[3]}.weight',
    ),
    KeyRule(
        rf'backbone\.res([2-5])\.(\d+)\.conv(\d)\.norm\.{_NORM}',
        lambda m: f'{_resnet_layer(m)}.bn{m[3]}.{m[4]}',
    ),
    KeyRule(
        r'backbone\.res([2-5])\.(\d+)\.shortcut\.weight',
        lambda m: f'{_resnet_layer(m)}.downsample.0.weight',
    ),
    KeyRule(
        rf'backbone\.res([2-5])\.(\d+)\.shortcut\.norm\.{_NORM}',
        lambda m: f'{_resnet_layer(m)}.downsample.1.{m[3]}',
    ),
)

# Unfold position (dy * 2 + dx) -> detectron2's concatenation slot of that neighbour: the slots are
# (dy, dx) = (0, 0), (1, 0), (0, 1), (1, 1).
_CONCAT_SLOT_OF_UNFOLD_POSITION = (0, 2, 1, 3)


def concat_to_unfold_order(tensor: Tensor, dim: int) -> Tensor:
    """Permute a ``4 C`` patch-merging axis from slot-major concatenation to unfold order.

    Args:
        tensor: ``reduction.weight`` ``(2 C, 4 C)`` with ``dim=1``, or ``norm.weight`` /
            ``norm.bias`` ``(4 C,)`` with ``dim=0``; index ``slot * C + c`` along ``dim``.

    Returns:
        The same values with index ``c * 4 + (dy * 2 + dx)`` along ``dim``.
    """
    dim = dim % tensor.dim()
    slots = tensor.unflatten(dim, (4, tensor.shape[dim] // 4))
    positions = slots.index_select(dim, torch.tensor(_CONCAT_SLOT_OF_UNFOLD_POSITION))
    return positions.transpose(dim, dim + 1).flatten(dim, dim + 1).contiguous()


_SWIN_BLOCK = r'backbone\.layers\.(\d+)\.blocks\.(\d+)\.'
_OUR_SWIN_BLOCK = r'backbone.stages.\1.blocks.\2.'

SWIN_RULES = (
    KeyRule(r'backbone\.patch_embed\.proj\.(weight|bias)', r'backbone.patch_embed.projection.\1'),
    KeyRule(r'backbone\.patch_embed\.norm\.(weight|bias)', r'backbone.patch_embed.norm.\1'),
    KeyRule(_SWIN_BLOCK + r'(norm[12])\.(weight|bias)', _OUR_SWIN_BLOCK + r'\3.\4'),
    KeyRule(
        _SWIN_BLOCK + r'attn\.(qkv\.weight|qkv\.bias|proj\.weight|proj\.bias|'
        r'relative_position_bias_table|relative_position_index)',
        _OUR_SWIN_BLOCK + r'attn.w_msa.\3',
    ),
    KeyRule(_SWIN_BLOCK + r'mlp\.fc1\.(weight|bias)', _OUR_SWIN_BLOCK + r'ffn.layers.0.0.\3'),
    KeyRule(_SWIN_BLOCK + r'mlp\.fc2\.(weight|bias)', _OUR_SWIN_BLOCK + r'ffn.layers.1.\3'),
    KeyRule(
        r'backbone\.layers\.(\d+)\.downsample\.reduction\.weight',
        r'backbone.stages.\1.downsample.reduction.weight',
        transform=lambda weight: concat_to_unfold_order(weight, dim=1),
    ),
    KeyRule(
        r'backbone\.layers\.(\d+)\.downsample\.norm\.(weight|bias)',
        r'backbone.stages.\1.downsample.norm.\2',
        transform=lambda vector: concat_to_unfold_order(vector, dim=0),
    ),
    KeyRule(r'backbone\.norm(\d)\.(weight|bias)', r'backbone.norm\1.\2'),
)

_PD = r'sem_seg_head\.pixel_decoder\.'
_OUR_PD = 'track_head.pixel_decoder.'
_ENC = _PD + r'transformer\.encoder\.layers\.(\d+)\.'
_OUR_ENC = _OUR_PD + r'encoder.layers.\1.'

PIXEL_DECODER_RULES = (
    # input_proj.i: (Conv2d 1x1, GroupNorm) of level i, lowest resolution first in both
    KeyRule(_PD + r'input_proj\.(\d+)\.0\.(weight|bias)', _OUR_PD + r'input_convs.\1.conv.\2'),
    KeyRule(_PD + r'input_proj\.(\d+)\.1\.(weight|bias)', _OUR_PD + r'input_convs.\1.gn.\2'),
    KeyRule(_PD + r'transformer\.level_embed', _OUR_PD + 'level_encoding.weight'),
    KeyRule(
        _ENC + r'self_attn\.(sampling_offsets|attention_weights|value_proj|output_proj)\.'
        r'(weight|bias)',
        _OUR_ENC + r'self_attn.\2.\3',
    ),
    KeyRule(_ENC + r'norm1\.(weight|bias)', _OUR_ENC + r'norms.0.\2'),
    KeyRule(_ENC + r'linear1\.(weight|bias)', _OUR_ENC + r'ffn.layers.0.0.\2'),
    KeyRule(_ENC + r'linear2\.(weight|bias)', _OUR_ENC + r'ffn.layers.1.\2'),
    KeyRule(_ENC + r'norm2\.(weight|bias)', _OUR_ENC + r'norms.1.\2'),
    KeyRule(_PD + r'mask_features\.(weight|bias)', _OUR_PD + r'mask_feature.\1'),
    # adapter_k / layer_k serve the k-th finest backbone level, lateral/output_convs[k - 1] too
    KeyRule(
        _PD + r'adapter_(\d+)\.(weight|bias)',
        lambda m: f'{_OUR_PD}lateral_convs.{int(m[1]) - 1}.conv.{m[2]}',
    ),
    KeyRule(
        _PD + r'adapter_(\d+)\.norm\.(weight|bias)',
        lambda m: f'{_OUR_PD}lateral_convs.{int(m[1]) - 1}.gn.{m[2]}',
    ),
    KeyRule(
        _PD + r'layer_(\d+)\.(weight|bias)',
        lambda m: f'{_OUR_PD}output_convs.{int(m[1]) - 1}.conv.{m[2]}',
    ),
    KeyRule(
        _PD + r'layer_(\d+)\.norm\.(weight|bias)',
        lambda m: f'{_OUR_PD}output_convs.{int(m[1]) - 1}.gn.{m[2]}',
    ),
)

_PR = r'sem_seg_head\.predictor\.'
_OUR_LAYER = r'track_head.transformer_decoder.layers.\1.'
_ATTN_TENSORS = r'(in_proj_weight|in_proj_bias|out_proj\.weight|out_proj\.bias)'

PREDICTOR_RULES = (
    KeyRule(_PR + r'(query_feat|query_embed|level_embed)\.weight', r'track_head.\1.weight'),
    # name of the query features before detectron2's decoder format version 2
    KeyRule(_PR + r'static_query\.weight', 'track_head.query_feat.weight'),
    KeyRule(
        _PR + r'transformer_cross_attention_layers\.(\d+)\.multihead_attn\.' + _ATTN_TENSORS,
        _OUR_LAYER + r'cross_attn.attn.\2',
    ),
    KeyRule(
        _PR + r'transformer_cross_attention_layers\.(\d+)\.norm\.(weight|bias)',
        _OUR_LAYER + r'norms.0.\2',
    ),
    KeyRule(
        _PR + r'transformer_self_attention_layers\.(\d+)\.self_attn\.' + _ATTN_TENSORS,
        _OUR_LAYER + r'self_attn.attn.\2',
    ),
    KeyRule(
        _PR + r'transformer_self_attention_layers\.(\d+)\.norm\.(weight|bias)',
        _OUR_LAYER + r'norms.1.\2',
    ),
    KeyRule(
        _PR + r'transformer_ffn_layers\.(\d+)\.linear1\.(weight|bias)',
        _OUR_LAYER + r'ffn.layers.0.0.\2',
    ),
    KeyRule(
        _PR + r'transformer_ffn_layers\.(\d+)\.linear2\.(weight|bias)',
        _OUR_LAYER + r'ffn.layers.1.\2',
    ),
    KeyRule(
        _PR + r'transformer_ffn_layers\.(\d+)\.norm\.(weight|bias)', _OUR_LAYER + r'norms.2.\2'
    ),
    KeyRule(_PR + r'decoder_norm\.(weight|bias)', r'track_head.transformer_decoder.post_norm.\1'),
    KeyRule(_PR + r'class_embed\.(weight|bias)', r'track_head.cls_embed.\1'),
    # MLP(hidden, hidden, mask_dim, 3): Linear i is item 2 i of mmdet's Sequential (ReLUs between)
    KeyRule(
        _PR + r'mask_embed\.layers\.(\d+)\.(weight|bias)',
        lambda m: f'track_head.mask_embed.{2 * int(m[1])}.{m[2]}',
    ),
    # only with ENFORCE_INPUT_PROJ or backbone-level channels != hidden dim
    KeyRule(_PR + r'input_proj\.(\d+)\.(weight|bias)', r'track_head.decoder_input_projs.\1.\2'),
)

DETECTRON2_RULES = RESNET_RULES + SWIN_RULES + PIXEL_DECODER_RULES + PREDICTOR_RULES


def add_batch_norm_counters(state_dict: MutableMapping[str, Tensor]) -> List[str]:
    """Add ``num_batches_tracked = 0`` beside every ``running_var`` that has none (in place).

    detectron2's ``FrozenBatchNorm2d`` stores no counter; ``BatchNorm2d`` expects one.

    Returns:
        The added keys.
    """
    added = []
    for key in [key for key in state_dict if key.endswith('.running_var')]:
        counter = key[: -len('running_var')] + 'num_batches_tracked'
        if counter not in state_dict:
            state_dict[counter] = torch.tensor(0, dtype=torch.long)
            added.append(counter)
    return added


def convert_detectron2_state_dict(state_dict: Mapping[str, Tensor]) -> RenameResult:
    """Rename (and re-lay-out where needed) detectron2 weights to this package's model names.

    Args:
        state_dict: the detectron2 ``model`` state dict (keys ``backbone.*``, ``sem_seg_head.*``).

    Returns:
        Converted tensors; keys no rule covers are listed in ``unmatched``, the added BatchNorm
        counters in ``created``.
    """
    result = rename_state_dict(state_dict, DETECTRON2_RULES)
    result.created = add_batch_norm_counters(result.state_dict)
    return result


def reverse_input_channels(state_dict: MutableMapping[str, Tensor]) -> Tuple[str, ...]:
    """Reverse the colour channels of the first convolution (RGB <-> BGR), in place.

    Returns:
        The keys changed (one of :data:`FIRST_CONV_KEYS`).

    Raises:
        KeyError: no first convolution among the keys.
    """
    changed = tuple(key for key in FIRST_CONV_KEYS if key in state_dict)
    if not changed:
        raise KeyError(f'none of the first-convolution keys {FIRST_CONV_KEYS} is in the weights')
    for key in changed:
        state_dict[key] = state_dict[key].flip(1).contiguous()
    return changed
