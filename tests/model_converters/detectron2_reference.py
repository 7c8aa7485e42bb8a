"""detectron2-style reference modules, in plain torch, with the released checkpoints' names.

Written from the structure of the released MaskFreeVIS / Mask2Former(-VIS) detectron2 models (see
``maskfreevis/model_converters/detectron2_maskfreevis.py``): ResNet with FrozenBatchNorm, the
Swin backbone of ``D2SwinTransformer``, the MSDeformAttn pixel decoder and the masked-attention
decoder's layers. Their ``state_dict()`` has exactly the released key names, and their forward
passes are what the converted mmdet modules must reproduce. Not a port of either implementation:
only as much as the conversion tests need (no padding, no dropout, no training paths).
"""

import math
from typing import Callable, List, Optional, Sequence, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor, nn

RESNET_BLOCKS = {18: (2, 2, 2, 2), 50: (3, 4, 6, 3), 101: (3, 4, 23, 3)}


class FrozenBatchNorm2d(nn.Module):
    """Batch norm with fixed statistics and affine parameters, all stored as buffers."""

    def __init__(self, channels: int, eps: float = 1e-5) -> None:
        super().__init__()
        self.eps = eps
        self.register_buffer('weight', torch.ones(channels))
        self.register_buffer('bias', torch.zeros(channels))
        self.register_buffer('running_mean', torch.zeros(channels))
        self.register_buffer('running_var', torch.ones(channels))

    def forward(self, x: Tensor) -> Tensor:
        scale = self.weight * (self.running_var + self.eps).rsqrt()
        shift = self.bias - self.running_mean * scale
        return x * scale[None, :, None, None] + shift[None, :, None, None]


class NormedConv2d(nn.Conv2d):
    """detectron2's ``Conv2d``: a convolution with an optional ``norm`` child and activation."""

    def __init__(
        self,
        *args,
        norm: Optional[nn.Module] = None,
        activation: Optional[Callable[[Tensor], Tensor]] = None,
        **kwargs,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.norm = norm
        self.activation = activation

    def forward(self, x: Tensor) -> Tensor:
        x = super().forward(x)
        if self.norm is not None:
            x = self.norm(x)
        return self.activation(x) if self.activation is not None else x


def _frozen_conv(in_channels: int, out_channels: int, kernel: int, stride: int = 1) -> NormedConv2d:
    return NormedConv2d(
        in_channels,
        out_channels,
        kernel,
        stride=stride,
        padding=kernel // 2,
        bias=False,
        norm=FrozenBatchNorm2d(out_channels),
    )


class BasicBlock(nn.Module):
    """Two 3x3 convolutions (ResNet-18/34)."""

    def __init__(self, in_channels: int, out_channels: int, stride: int) -> None:
        super().__init__()
        self.shortcut = (
            _frozen_conv(in_channels, out_channels, 1, stride)
            if in_channels != out_channels
            else None
        )
        self.conv1 = _frozen_conv(in_channels, out_channels, 3, stride)
        self.conv2 = _frozen_conv(out_channels, out_channels, 3)

    def forward(self, x: Tensor) -> Tensor:
        out = self.conv2(F.relu(self.conv1(x)))
        return F.relu(out + (self.shortcut(x) if self.shortcut is not None else x))


class BottleneckBlock(nn.Module):
    """1x1, 3x3 (strided: ``STRIDE_IN_1X1 False``), 1x1 convolutions (ResNet-50/101)."""

    def __init__(self, in_channels: int, out_channels: int, stride: int) -> None:
        super().__init__()
        inner = out_channels // 4
        self.shortcut = (
            _frozen_conv(in_channels, out_channels, 1, stride)
            if in_channels != out_channels
            else None
        )
        self.conv1 = _frozen_conv(in_channels, inner, 1)
        self.conv2 = _frozen_conv(inner, inner, 3, stride)
        self.conv3 = _frozen_conv(inner, out_channels, 1)

    def forward(self, x: Tensor) -> Tensor:
        out = self.conv3(F.relu(self.conv2(F.relu(self.conv1(x)))))
        return F.relu(out + (self.shortcut(x) if self.shortcut is not None else x))


class BasicStem(nn.Module):
    """7x7 stride-2 convolution, ReLU, 3x3 stride-2 max pooling."""

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = _frozen_conv(3, 64, 7, stride=2)

    def forward(self, x: Tensor) -> Tensor:
        return F.max_pool2d(F.relu(self.conv1(x)), kernel_size=3, stride=2, padding=1)


class ResNet(nn.Module):
    """``build_resnet_backbone`` with FrozenBN; returns res2..res5 ``(B, C_i, H/s_i, W/s_i)``."""

    def __init__(self, depth: int) -> None:
        super().__init__()
        self.stem = BasicStem()
        bottleneck = depth >= 50
        block = BottleneckBlock if bottleneck else BasicBlock
        in_channels = 64
        self.stage_names = []
        for index, num_blocks in enumerate(RESNET_BLOCKS[depth]):
            out_channels = (256 if bottleneck else 64) * 2**index
            blocks = []
            for block_index in range(num_blocks):
                stride = 2 if block_index == 0 and index > 0 else 1
                blocks.append(block(in_channels, out_channels, stride))
                in_channels = out_channels
            self.add_module(f'res{index + 2}', nn.Sequential(*blocks))
            self.stage_names.append(f'res{index + 2}')

    def forward(self, x: Tensor) -> List[Tensor]:
        x = self.stem(x)
        features = []
        for name in self.stage_names:
            x = getattr(self, name)(x)
            features.append(x)
        return features


# ------------------------------------------------------------------------------------- Swin
def window_relative_index(window: int) -> Tensor:
    """``(w^2, w^2)`` index into the ``((2 w - 1)^2, heads)`` relative position bias table."""
    coords = torch.stack(
        torch.meshgrid(torch.arange(window), torch.arange(window), indexing='ij')
    ).flatten(1)
    relative = coords[:, :, None] - coords[:, None, :] + window - 1
    return relative[0] * (2 * window - 1) + relative[1]


class WindowAttention(nn.Module):
    """Multi-head self-attention within a window with a learnt relative position bias."""

    def __init__(self, dim: int, window: int, heads: int) -> None:
        super().__init__()
        self.heads = heads
        self.relative_position_bias_table = nn.Parameter(
            0.02 * torch.randn((2 * window - 1) ** 2, heads)
        )
        self.register_buffer('relative_position_index', window_relative_index(window))
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x: Tensor, mask: Optional[Tensor] = None) -> Tensor:
        """x ``(num_windows * B, N, C)``; mask ``(num_windows, N, N)`` of 0 / -100."""
        batch, tokens, dim = x.shape
        q, k, v = self.qkv(x).view(batch, tokens, 3, self.heads, -1).permute(2, 0, 3, 1, 4)
        attn = (q * (dim // self.heads) ** -0.5) @ k.transpose(-2, -1)
        bias = self.relative_position_bias_table[self.relative_position_index.flatten()]
        attn = attn + bias.view(tokens, tokens, -1).permute(2, 0, 1)[None]
        if mask is not None:
            attn = (
                attn.view(-1, mask.shape[0], self.heads, tokens, tokens) + mask[None, :, None]
            ).view(batch, self.heads, tokens, tokens)
        out = (attn.softmax(-1) @ v).transpose(1, 2).reshape(batch, tokens, dim)
        return self.proj(out)


class Mlp(nn.Module):
    def __init__(self, dim: int, hidden: int) -> None:
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden)
        self.fc2 = nn.Linear(hidden, dim)

    def forward(self, x: Tensor) -> Tensor:
        return self.fc2(F.gelu(self.fc1(x)))


def _windows(x: Tensor, window: int) -> Tensor:
    """``(B, H, W, C)`` -> ``(B * H/w * W/w, w * w, C)``, windows row-major."""
    batch, height, width, channels = x.shape
    x = x.view(batch, height // window, window, width // window, window, channels)
    return x.permute(0, 1, 3, 2, 4, 5).reshape(-1, window * window, channels)


def _unwindow(windows: Tensor, window: int, batch: int, height: int, width: int) -> Tensor:
    x = windows.view(batch, height // window, width // window, window, window, -1)
    return x.permute(0, 1, 3, 2, 4, 5).reshape(batch, height, width, -1)


def shifted_window_mask(height: int, width: int, window: int, shift: int) -> Tensor:
    """``(num_windows, w^2, w^2)``: -100 between tokens from different regions after the shift."""
    regions = torch.zeros(1, height, width, 1)
    cuts = (slice(0, -window), slice(-window, -shift), slice(-shift, None))
    for index, (rows, cols) in enumerate((r, c) for r in cuts for c in cuts):
        regions[:, rows, cols, :] = index
    labels = _windows(regions, window).squeeze(-1)
    differs = labels[:, None, :] != labels[:, :, None]
    return torch.zeros(differs.shape).masked_fill(differs, -100.0)


class SwinBlock(nn.Module):
    def __init__(self, dim: int, heads: int, window: int, shift: int) -> None:
        super().__init__()
        self.window, self.shift = window, shift
        self.norm1 = nn.LayerNorm(dim)
        self.attn = WindowAttention(dim, window, heads)
        self.norm2 = nn.LayerNorm(dim)
        self.mlp = Mlp(dim, 4 * dim)

    def forward(self, x: Tensor, height: int, width: int) -> Tensor:
        """x ``(B, H * W, C)``; H and W multiples of the window."""
        batch, _, dim = x.shape
        y = self.norm1(x).view(batch, height, width, dim)
        mask = None
        if self.shift:
            y = torch.roll(y, shifts=(-self.shift, -self.shift), dims=(1, 2))
            mask = shifted_window_mask(height, width, self.window, self.shift)
        y = _unwindow(self.attn(_windows(y, self.window), mask), self.window, batch, height, width)
        if self.shift:
            y = torch.roll(y, shifts=(self.shift, self.shift), dims=(1, 2))
        x = x + y.reshape(batch, height * width, dim)
        return x + self.mlp(self.norm2(x))


class PatchMerging(nn.Module):
    """2x2 neighbours concatenated as (top-left, bottom-left, top-right, bottom-right)."""

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.reduction = nn.Linear(4 * dim, 2 * dim, bias=False)
        self.norm = nn.LayerNorm(4 * dim)

    def forward(self, x: Tensor, height: int, width: int) -> Tensor:
        """x ``(B, H * W, C)`` -> ``(B, H/2 * W/2, 2 C)``."""
        x = x.view(x.shape[0], height, width, -1)
        x = torch.cat([x[:, 0::2, 0::2], x[:, 1::2, 0::2], x[:, 0::2, 1::2], x[:, 1::2, 1::2]], -1)
        return self.reduction(self.norm(x.flatten(1, 2)))


class SwinStage(nn.Module):
    def __init__(self, dim: int, depth: int, heads: int, window: int, downsample: bool) -> None:
        super().__init__()
        self.blocks = nn.ModuleList(
            SwinBlock(dim, heads, window, shift=window // 2 if index % 2 else 0)
            for index in range(depth)
        )
        self.downsample = PatchMerging(dim) if downsample else None


class PatchEmbed(nn.Module):
    def __init__(self, dim: int, patch: int) -> None:
        super().__init__()
        self.proj = nn.Conv2d(3, dim, patch, stride=patch)
        self.norm = nn.LayerNorm(dim)


class SwinTransformer(nn.Module):
    """``D2SwinTransformer`` (patch 4, no absolute position embedding); returns res2..res5."""

    def __init__(self, dim: int, depths: Sequence[int], heads: Sequence[int], window: int) -> None:
        super().__init__()
        self.patch_embed = PatchEmbed(dim, 4)
        self.layers = nn.ModuleList(
            SwinStage(dim * 2**index, depth, heads[index], window, index < len(depths) - 1)
            for index, depth in enumerate(depths)
        )
        for index in range(len(depths)):
            self.add_module(f'norm{index}', nn.LayerNorm(dim * 2**index))

    def forward(self, x: Tensor) -> List[Tensor]:
        """x ``(B, 3, H, W)`` with H/4 and W/4 multiples of the window at every stage."""
        x = self.patch_embed.proj(x)
        height, width = x.shape[-2:]
        x = self.patch_embed.norm(x.flatten(2).transpose(1, 2))
        features = []
        for index, stage in enumerate(self.layers):
            for block in stage.blocks:
                x = block(x, height, width)
            out = getattr(self, f'norm{index}')(x)
            features.append(out.view(x.shape[0], height, width, -1).permute(0, 3, 1, 2))
            if stage.downsample is not None:
                x = stage.downsample(x, height, width)
                height, width = height // 2, width // 2
        return features


# ----------------------------------------------------------------------------- pixel decoder
def sine_position_embedding(batch: int, height: int, width: int, num_feats: int) -> Tensor:
    """DETR's normalised sine embedding ``(B, 2 num_feats, H, W)``: y features, then x."""
    scale, eps = 2 * math.pi, 1e-6
    y_embed = torch.arange(1, height + 1, dtype=torch.float32) / (height + eps) * scale
    x_embed = torch.arange(1, width + 1, dtype=torch.float32) / (width + eps) * scale
    dim_t = 10000 ** (2 * (torch.arange(num_feats) // 2) / num_feats)

    def encode(values: Tensor) -> Tensor:
        angles = values[:, None] / dim_t
        return torch.stack((angles[:, 0::2].sin(), angles[:, 1::2].cos()), dim=2).flatten(1)

    pos_y = encode(y_embed)[:, None, :].expand(height, width, num_feats)
    pos_x = encode(x_embed)[None, :, :].expand(height, width, num_feats)
    return torch.cat((pos_y, pos_x), dim=-1).permute(2, 0, 1)[None].expand(batch, -1, -1, -1)


def deformable_sampling(
    value: Tensor, shapes: Sequence[Tuple[int, int]], locations: Tensor, weights: Tensor
) -> Tensor:
    """Multi-scale deformable attention core.

    Args:
        value: ``(B, S, heads, D)`` with S = sum of h * w over the levels.
        shapes: ``(h, w)`` per level.
        locations: ``(B, Q, heads, levels, points, 2)`` as (x, y) in [0, 1].
        weights: ``(B, Q, heads, levels, points)`` summing to 1 over levels and points.

    Returns:
        ``(B, Q, heads * D)``.
    """
    batch, _, heads, depth = value.shape
    queries = locations.shape[1]
    sampled = []
    for level, part in enumerate(value.split([h * w for h, w in shapes], dim=1)):
        h, w = shapes[level]
        maps = part.permute(0, 2, 3, 1).reshape(batch * heads, depth, h, w)
        grid = (2 * locations[:, :, :, level] - 1).transpose(1, 2).flatten(0, 1)
        sampled.append(
            F.grid_sample(maps, grid, mode='bilinear', padding_mode='zeros', align_corners=False)
        )  # (B * heads, D, Q, points)
    stacked = torch.stack(sampled, dim=3).flatten(3)  # (B * heads, D, Q, levels * points)
    flat_weights = weights.transpose(1, 2).reshape(batch * heads, 1, queries, -1)
    out = (stacked * flat_weights).sum(-1).view(batch, heads * depth, queries)
    return out.transpose(1, 2)


class MSDeformAttn(nn.Module):
    def __init__(self, dim: int, levels: int, heads: int, points: int) -> None:
        super().__init__()
        self.levels, self.heads, self.points = levels, heads, points
        self.sampling_offsets = nn.Linear(dim, heads * levels * points * 2)
        self.attention_weights = nn.Linear(dim, heads * levels * points)
        self.value_proj = nn.Linear(dim, dim)
        self.output_proj = nn.Linear(dim, dim)

    def forward(
        self, query: Tensor, reference: Tensor, source: Tensor, shapes: Sequence[Tuple[int, int]]
    ) -> Tensor:
        """query ``(B, Q, C)``, reference ``(B, Q, levels, 2)``, source ``(B, S, C)``."""
        batch, queries, _ = query.shape
        value = self.value_proj(source).view(batch, source.shape[1], self.heads, -1)
        offsets = self.sampling_offsets(query).view(
            batch, queries, self.heads, self.levels, self.points, 2
        )
        weights = self.attention_weights(query).view(batch, queries, self.heads, -1)
        weights = weights.softmax(-1).view(batch, queries, self.heads, self.levels, self.points)
        size_xy = torch.tensor([[w, h] for h, w in shapes], dtype=query.dtype)
        locations = (
            reference[:, :, None, :, None, :] + offsets / size_xy[None, None, None, :, None, :]
        )
        return self.output_proj(deformable_sampling(value, shapes, locations, weights))


class EncoderLayer(nn.Module):
    """Deformable self-attention then FFN, each followed by LayerNorm (post-norm)."""

    def __init__(self, dim: int, ffn: int, heads: int, levels: int, points: int) -> None:
        super().__init__()
        self.self_attn = MSDeformAttn(dim, levels, heads, points)
        self.norm1 = nn.LayerNorm(dim)
        self.linear1 = nn.Linear(dim, ffn)
        self.linear2 = nn.Linear(ffn, dim)
        self.norm2 = nn.LayerNorm(dim)

    def forward(
        self, src: Tensor, pos: Tensor, reference: Tensor, shapes: Sequence[Tuple[int, int]]
    ) -> Tensor:
        src = self.norm1(src + self.self_attn(src + pos, reference, src, shapes))
        return self.norm2(src + self.linear2(F.relu(self.linear1(src))))


class PixelDecoder(nn.Module):
    """MSDeformAttn encoder over res5..res3 plus one FPN level at res2, then ``mask_features``."""

    def __init__(
        self,
        in_channels: Sequence[int],
        dim: int,
        num_layers: int,
        ffn: int,
        heads: int = 8,
        points: int = 4,
    ) -> None:
        super().__init__()
        self.input_proj = nn.ModuleList(
            nn.Sequential(nn.Conv2d(channels, dim, 1), nn.GroupNorm(32, dim))
            for channels in reversed(in_channels[1:])
        )
        self.transformer = nn.Module()
        self.transformer.level_embed = nn.Parameter(torch.randn(3, dim))
        self.transformer.encoder = nn.Module()
        self.transformer.encoder.layers = nn.ModuleList(
            EncoderLayer(dim, ffn, heads, 3, points) for _ in range(num_layers)
        )
        self.mask_features = nn.Conv2d(dim, dim, 1)
        self.adapter_1 = NormedConv2d(
            in_channels[0], dim, 1, bias=False, norm=nn.GroupNorm(32, dim)
        )
        self.layer_1 = NormedConv2d(
            dim, dim, 3, padding=1, bias=False, norm=nn.GroupNorm(32, dim), activation=F.relu
        )

    def forward(self, features: Sequence[Tensor]) -> Tuple[Tensor, List[Tensor]]:
        """features res2..res5 -> mask features ``(B, C, H/4, W/4)`` and 3 maps, coarsest first."""
        sources = [proj(feature) for proj, feature in zip(self.input_proj, features[:0:-1])]
        batch, dim = sources[0].shape[:2]
        shapes = [tuple(source.shape[-2:]) for source in sources]
        flat = torch.cat([source.flatten(2).transpose(1, 2) for source in sources], dim=1)
        pos = torch.cat(
            [
                (
                    sine_position_embedding(batch, h, w, dim // 2)
                    + self.transformer.level_embed[level][None, :, None, None]
                )
                .flatten(2)
                .transpose(1, 2)
                for level, (h, w) in enumerate(shapes)
            ],
            dim=1,
        )
        centres = []
        for h, w in shapes:
            y, x = torch.meshgrid(
                (torch.arange(h) + 0.5) / h, (torch.arange(w) + 0.5) / w, indexing='ij'
            )
            centres.append(torch.stack((x.flatten(), y.flatten()), -1))
        reference = torch.cat(centres)[None, :, None, :].expand(batch, -1, len(shapes), -1)
        for layer in self.transformer.encoder.layers:
            flat = layer(flat, pos, reference, shapes)
        outs = [
            part.transpose(1, 2).reshape(batch, dim, h, w)
            for part, (h, w) in zip(flat.split([h * w for h, w in shapes], dim=1), shapes)
        ]
        lateral = self.adapter_1(features[0])
        outs.append(
            self.layer_1(
                lateral
                + F.interpolate(
                    outs[-1], size=lateral.shape[-2:], mode='bilinear', align_corners=False
                )
            )
        )
        return self.mask_features(outs[-1]), outs[:3]


# ------------------------------------------------------------------------------- predictor
class CrossAttentionLayer(nn.Module):
    def __init__(self, dim: int, heads: int) -> None:
        super().__init__()
        self.multihead_attn = nn.MultiheadAttention(dim, heads)
        self.norm = nn.LayerNorm(dim)

    def forward(
        self,
        tgt: Tensor,
        memory: Tensor,
        memory_mask: Optional[Tensor],
        pos: Tensor,
        query_pos: Tensor,
    ) -> Tensor:
        """Sequence-first: tgt ``(Q, B, C)``, memory ``(S, B, C)``, mask ``(B * heads, Q, S)``."""
        out = self.multihead_attn(tgt + query_pos, memory + pos, memory, attn_mask=memory_mask)[0]
        return self.norm(tgt + out)


class SelfAttentionLayer(nn.Module):
    def __init__(self, dim: int, heads: int) -> None:
        super().__init__()
        self.self_attn = nn.MultiheadAttention(dim, heads)
        self.norm = nn.LayerNorm(dim)

    def forward(self, tgt: Tensor, query_pos: Tensor) -> Tensor:
        query = tgt + query_pos
        return self.norm(tgt + self.self_attn(query, query, tgt)[0])


class FFNLayer(nn.Module):
    def __init__(self, dim: int, hidden: int) -> None:
        super().__init__()
        self.linear1 = nn.Linear(dim, hidden)
        self.linear2 = nn.Linear(hidden, dim)
        self.norm = nn.LayerNorm(dim)

    def forward(self, tgt: Tensor) -> Tensor:
        return self.norm(tgt + self.linear2(F.relu(self.linear1(tgt))))


class MLP(nn.Module):
    """Linear layers in ``layers`` with ReLU between them."""

    def __init__(self, dim: int, out_dim: int, num_layers: int) -> None:
        super().__init__()
        self.layers = nn.ModuleList(
            nn.Linear(dim, out_dim if index == num_layers - 1 else dim)
            for index in range(num_layers)
        )

    def forward(self, x: Tensor) -> Tensor:
        for index, layer in enumerate(self.layers):
            x = layer(x) if index == len(self.layers) - 1 else F.relu(layer(x))
        return x


class Predictor(nn.Module):
    """The (video) masked-attention decoder's parameters; ``decoder_layer`` runs layer i."""

    def __init__(
        self,
        dim: int,
        num_layers: int,
        ffn: int,
        num_queries: int,
        num_classes: int,
        heads: int = 8,
    ) -> None:
        super().__init__()
        self.transformer_self_attention_layers = nn.ModuleList(
            SelfAttentionLayer(dim, heads) for _ in range(num_layers)
        )
        self.transformer_cross_attention_layers = nn.ModuleList(
            CrossAttentionLayer(dim, heads) for _ in range(num_layers)
        )
        self.transformer_ffn_layers = nn.ModuleList(FFNLayer(dim, ffn) for _ in range(num_layers))
        self.decoder_norm = nn.LayerNorm(dim)
        self.query_feat = nn.Embedding(num_queries, dim)
        self.query_embed = nn.Embedding(num_queries, dim)
        self.level_embed = nn.Embedding(3, dim)
        self.input_proj = nn.ModuleList(nn.Sequential() for _ in range(3))  # no tensors
        self.class_embed = nn.Linear(dim, num_classes + 1)
        self.mask_embed = MLP(dim, dim, 3)

    def decoder_layer(
        self,
        index: int,
        tgt: Tensor,
        memory: Tensor,
        memory_mask: Optional[Tensor],
        pos: Tensor,
        query_pos: Tensor,
    ) -> Tensor:
        """Cross-attention, self-attention, FFN of layer ``index`` (sequence-first tensors)."""
        tgt = self.transformer_cross_attention_layers[index](
            tgt, memory, memory_mask, pos, query_pos
        )
        tgt = self.transformer_self_attention_layers[index](tgt, query_pos)
        return self.transformer_ffn_layers[index](tgt)


class Criterion(nn.Module):
    """The loss's buffers saved with the released models."""

    def __init__(self, num_classes: int) -> None:
        super().__init__()
        self.register_buffer('empty_weight', torch.ones(num_classes + 1))
        self.register_buffer('_iter', torch.zeros(1))


class VideoMaskFormer(nn.Module):
    """``backbone`` + ``sem_seg_head.{pixel_decoder, predictor}`` + ``criterion``."""

    def __init__(
        self,
        backbone: nn.Module,
        in_channels: Sequence[int],
        dim: int = 256,
        encoder_layers: int = 6,
        encoder_ffn: int = 1024,
        decoder_layers: int = 9,
        decoder_ffn: int = 2048,
        num_queries: int = 100,
        num_classes: int = 40,
    ) -> None:
        super().__init__()
        self.backbone = backbone
        self.sem_seg_head = nn.Module()
        self.sem_seg_head.pixel_decoder = PixelDecoder(
            in_channels, dim, encoder_layers, encoder_ffn
        )
        self.sem_seg_head.predictor = Predictor(
            dim, decoder_layers, decoder_ffn, num_queries, num_classes
        )
        self.criterion = Criterion(num_classes)


def randomise_(module: nn.Module, seed: int = 0) -> nn.Module:
    """Fill every parameter and float buffer with random values.

    Matrices and kernels get a standard deviation of ``1 / sqrt(fan_in)`` so activations keep their
    scale through deep stacks; norm scales lie near 1, variances stay positive.
    """
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, tensor in list(module.named_parameters()) + list(module.named_buffers()):
            if not tensor.is_floating_point():
                continue
            std = 0.2 if tensor.dim() < 2 else tensor[0].numel() ** -0.5
            values = torch.randn(tensor.shape, generator=generator) * std
            if name.endswith('running_var'):
                values = values.abs() + 0.5
            elif tensor.dim() == 1 and name.split('.')[-1] == 'weight':  # norm scales near 1
                values = values + 1.0
            tensor.copy_(values)
    return module
