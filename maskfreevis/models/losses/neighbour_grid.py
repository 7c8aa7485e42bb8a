"""Pixel-pair geometry shared by the pairwise and temporal losses.

A pixel pair is a target pixel ``p`` of frame b and its partner ``q = p + (dy, dx)`` in frame a
(a = b within a frame); offsets come from a dilated square grid. Every pair of every offset and
frame pair is reached with one indexed copy from strided windows of the zero-extended frames
(:func:`gather_partners`), and the backward's way home is another (:func:`return_to_partners`),
so the work is a few large ops whatever the number of offsets and frame pairs: on a GPU every
op is a kernel launch. The small index tensors involved are built once per grid shape and
device (:func:`pair_geometry`).

Shape letters (one meaning across ``maskfreevis.models``): S groups of pixels sharing the
result (clips or frames), T frames, P frame pairs, K offsets, h, w the grid; ``r`` is the reach
of the offsets (the largest ``|dy|`` or ``|dx|``).
"""

import functools
import math
from dataclasses import dataclass
from typing import List, Optional, Sequence, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor

__all__ = [
    'PADDING_MODES',
    'check_padding_mode',
    'grid_offsets',
    'overlap_slices',
    'PairGeometry',
    'pair_geometry',
    'gather_partners',
    'return_to_partners',
    'pair_validity',
    'pack_pair_bits',
    'unpack_pair_bits',
]

Offset = Tuple[int, int]
GridSlices = Tuple[slice, slice]
FramePair = Tuple[int, int]

# What lies outside the image, and on the batch padding, for the colour losses: 'exclude' (pairs
# reaching there do not exist), 'zeros' (the release's zero padding: pixels of Lab 0 whose
# log-probabilities are 0, so their terms are 0 but they count in the normaliser).
PADDING_MODES = ('exclude', 'zeros')


def check_padding_mode(padding_mode: str) -> str:
    """``padding_mode`` if it is one of :data:`PADDING_MODES`, else a ValueError naming them."""
    if padding_mode not in PADDING_MODES:
        raise ValueError(
            "padding_mode must be 'exclude' (out-of-image and padded pixels do not exist) or "
            f"'zeros' (the release: they are Lab 0 with log-probabilities 0), got {padding_mode!r}"
        )
    return padding_mode


def grid_offsets(grid_size: int, dilation: int, include_centre: bool) -> List[Offset]:
    """Offsets ``dilation * (dy, dx)`` of a ``grid_size x grid_size`` grid.

    Raster order (dy outer, dx inner), i.e. ``F.unfold``'s kernel order.

    Args:
        grid_size: odd side length of the grid (3 -> offsets in {-1, 0, 1}).
        dilation: spacing between grid points in pixels (>= 1).
        include_centre: keep ``(0, 0)``.

    Returns:
        ``grid_size**2`` (or ``grid_size**2 - 1``) ``(dy, dx)`` tuples.
    """
    if grid_size < 1 or grid_size % 2 == 0:
        raise ValueError(f'grid/kernel size must be a positive odd number, got {grid_size}')
    if dilation < 1:
        raise ValueError(f'dilation must be >= 1, got {dilation}')
    radius = grid_size // 2
    return [
        (dilation * dy, dilation * dx)
        for dy in range(-radius, radius + 1)
        for dx in range(-radius, radius + 1)
        if include_centre or (dy, dx) != (0, 0)
    ]


def overlap_slices(
    offset: Offset, height: int, width: int
) -> Optional[Tuple[GridSlices, GridSlices]]:
    """Slices of the pixels p (and their q = p + offset) with both in-image.

    Returns:
        ``((p_rows, p_cols), (q_rows, q_cols))`` of equal extent, or ``None``
        when no pixel has its partner inside an ``height x width`` image.
    """
    dy, dx = offset
    if abs(dy) >= height or abs(dx) >= width:
        return None
    p_rows = slice(max(0, -dy), height - max(0, dy))
    p_cols = slice(max(0, -dx), width - max(0, dx))
    q_rows = slice(p_rows.start + dy, p_rows.stop + dy)
    q_cols = slice(p_cols.start + dx, p_cols.stop + dx)
    return (p_rows, p_cols), (q_rows, q_cols)


@dataclass(frozen=True)
class PairGeometry:
    """Where the partners of P frame pairs and K offsets lie on an ``(h, w)`` grid.

    Every offset is a point ``(i, j)`` of one dilated ``g x g`` square grid (``grid_offsets(g,
    d, True)``, reach ``r = d * (g // 2)``): in a frame zero-extended by r on every side, to
    ``(h + 2r, w + 2r)``, the partners ``p + offset`` of all pixels p form the ``h x w`` window
    at row ``d * i``, column ``d * j``. A strided view holds every window, so gathering the
    partners of all pairs and offsets is one indexed copy with a few small index tensors.

    Attributes:
        reach: ``r``.
        dilation: ``d``.
        grid_size: ``g``.
        partner_windows: ``(P, 1)``, ``(1, K)``, ``(1, K)`` long, frame a of pair j and the
            window of offset k, indexing the ``(T, g, g)`` windows of the frames.
        return_windows: ``(K,)``, ``(K,)``, ``(K,)`` long, indexing the ``(K, g, g)`` windows of
            per-offset maps on the target grid: map k read at ``q - offset_k``.
        target_frames: ``(P,)`` long, frame b of every pair.
        in_image: ``(K, h, w)`` bool, whether ``p + offset_k`` lies in the grid.
        frame_incidence: ``(T, 2P)`` float32; column j marks frame b of pair j and column
            ``P + j`` its frame a (to sum per-pair maps into their frames with one product).
    """

    reach: int
    dilation: int
    grid_size: int
    partner_windows: Tuple[Tensor, Tensor, Tensor]
    return_windows: Tuple[Tensor, Tensor, Tensor]
    target_frames: Tensor
    in_image: Tensor
    frame_incidence: Tensor


def pair_geometry(
    offsets: Sequence[Offset],
    frame_pairs: Sequence[FramePair],
    num_frames: int,
    height: int,
    width: int,
    device: torch.device,
) -> PairGeometry:
    """The :class:`PairGeometry` of these offsets and frame pairs on an ``(h, w)`` grid.

    Built once per distinct argument set (the 32 most recent are kept), on the CPU and copied to
    ``device``, so training pays the host-to-device copy once per grid shape.

    Args:
        offsets: K ``(dy, dx)`` offsets.
        frame_pairs: P ``(a, b)`` pairs of frames in ``[0, T)``: partners in a, targets in b.
        num_frames: T.
        height, width: the grid.
        device: where the tensors live.
    """
    return _cached_geometry(
        tuple((int(dy), int(dx)) for dy, dx in offsets),
        tuple((int(a), int(b)) for a, b in frame_pairs),
        int(num_frames),
        int(height),
        int(width),
        torch.device(device),
    )


@functools.lru_cache(maxsize=32)
def _cached_geometry(
    offsets: Tuple[Offset, ...],
    frame_pairs: Tuple[FramePair, ...],
    num_frames: int,
    height: int,
    width: int,
    device: torch.device,
) -> PairGeometry:
    reach = max((max(abs(dy), abs(dx)) for dy, dx in offsets), default=0)
    dilation = functools.reduce(math.gcd, [abs(v) for offset in offsets for v in offset], 0) or 1
    grid_size = 2 * (reach // dilation) + 1
    offset_y = torch.tensor([dy for dy, _ in offsets], dtype=torch.long)
    offset_x = torch.tensor([dx for _, dx in offsets], dtype=torch.long)
    window_y, window_x = (offset_y + reach) // dilation, (offset_x + reach) // dilation
    frames_a = torch.tensor([a for a, _ in frame_pairs], dtype=torch.long)
    partner_rows = torch.arange(height).view(1, -1, 1) + offset_y.view(-1, 1, 1)
    partner_cols = torch.arange(width).view(1, 1, -1) + offset_x.view(-1, 1, 1)
    in_image = (
        (partner_rows >= 0) & (partner_rows < height) & (partner_cols >= 0) & (partner_cols < width)
    )
    num_pairs = len(frame_pairs)
    incidence = torch.zeros((num_frames, 2 * num_pairs))
    for pair, (frame_a, frame_b) in enumerate(frame_pairs):
        incidence[frame_b, pair] = 1.0
        incidence[frame_a, num_pairs + pair] = 1.0
    last = grid_size - 1
    return PairGeometry(
        reach=reach,
        dilation=dilation,
        grid_size=grid_size,
        partner_windows=tuple(
            index.to(device)
            for index in (frames_a.view(-1, 1), window_y.view(1, -1), window_x.view(1, -1))
        ),
        return_windows=tuple(
            index.to(device)
            for index in (torch.arange(len(offsets)), last - window_y, last - window_x)
        ),
        target_frames=torch.tensor([b for _, b in frame_pairs], dtype=torch.long).to(device),
        in_image=in_image.expand(len(offsets), height, width).contiguous().to(device),
        frame_incidence=incidence.to(device),
    )


def _windows(maps: Tensor, geometry: PairGeometry) -> Tensor:
    """``(..., h, w)`` -> the ``(..., g, g, h, w)`` strided view of their zero-extended copy:
    window ``(i, j)`` is the extended map from row ``d * i``, column ``d * j``."""
    reach, dilation, grid = geometry.reach, geometry.dilation, geometry.grid_size
    height, width = maps.shape[-2:]
    extended = F.pad(maps, (reach,) * 4)
    *lead, row, col = extended.stride()
    return extended.as_strided(
        (*extended.shape[:-2], grid, grid, height, width),
        (*lead, dilation * row, dilation * col, row, col),
        extended.storage_offset(),
    )


def gather_partners(frames: Tensor, geometry: PairGeometry) -> Tensor:
    """The value at the partner of every pixel pair: one indexed copy for all pairs and offsets.

    Args:
        frames: ``(..., T, h, w)``; outside the grid reads as 0 (False for bool).
        geometry: :func:`pair_geometry` of this grid.

    Returns:
        ``(..., P, K, h, w)``: at ``[..., j, k, p]`` the value of frame a of pair j at
        ``p + offset_k``.
    """
    frame, window_y, window_x = geometry.partner_windows
    return _windows(frames, geometry)[..., frame, window_y, window_x, :, :]


def return_to_partners(values: Tensor, geometry: PairGeometry) -> Tensor:
    """Sum, at every pixel q, the values that pairs ``(q - offset_k, q)`` hold at their target.

    The adjoint of :func:`gather_partners` for one frame: a gather and a sum, not a scatter,
    so it is deterministic on every device.

    Args:
        values: ``(..., K, h, w)`` per pair, on the target (p) grid.

    Returns:
        ``(..., h, w)``: at q, ``sum_k values[..., k, q - offset_k]`` over the in-grid
        ``q - offset_k``.
    """
    plane, window_y, window_x = geometry.return_windows
    return _windows(values, geometry)[..., plane, window_y, window_x, :, :].sum(dim=-3)


def pair_validity(valid_p: Tensor, valid_q: Tensor, offsets: Sequence[Offset]) -> Tensor:
    """Which pixel pairs (p, p + offset_k) exist: both in-image and valid.

    Args:
        valid_p: ``(S, h, w)`` bool, pixels allowed as p.
        valid_q: ``(S, h, w)`` bool, pixels allowed as q.
        offsets: K offsets.

    Returns:
        ``(S, K, h, w)`` bool on the p grid.
    """
    height, width = valid_p.shape[-2:]
    geometry = pair_geometry(offsets, [(0, 0)], 1, height, width, valid_p.device)
    partners = gather_partners(valid_q.bool().unsqueeze(1), geometry)[:, 0]
    return partners & valid_p.bool().unsqueeze(1)


def _bit_dtype(num_offsets: int) -> torch.dtype:
    """The narrowest integer type with a bit for each of K offsets."""
    for dtype, bits in ((torch.uint8, 8), (torch.int16, 15), (torch.int32, 31), (torch.int64, 63)):
        if num_offsets <= bits:
            return dtype
    raise ValueError(f'at most 63 offsets can be packed into bits, got {num_offsets}')


@functools.lru_cache(maxsize=16)
def _bit_values(num_offsets: int, device: torch.device) -> Tensor:
    """``(K, 1, 1)``: ``2**k`` in :func:`_bit_dtype`."""
    dtype = _bit_dtype(num_offsets)
    return (2 ** torch.arange(num_offsets, dtype=torch.int64)).to(dtype).view(-1, 1, 1).to(device)


def pack_pair_bits(weights: Tensor) -> Tensor:
    """``(..., K, h, w)`` bool pair weights -> ``(..., h, w)`` integers, bit k for offset k.

    K bools of a pixel take one byte for K <= 8 (two for K <= 15): what autograd keeps of
    weights a loss built itself.
    """
    values = _bit_values(weights.shape[-3], weights.device)
    return (weights * values).sum(dim=-3, dtype=values.dtype)


def unpack_pair_bits(bits: Tensor, num_offsets: int) -> Tensor:
    """The inverse of :func:`pack_pair_bits`: ``(..., h, w)`` -> ``(..., K, h, w)`` bool."""
    return (bits.unsqueeze(-3) & _bit_values(num_offsets, bits.device)) != 0
