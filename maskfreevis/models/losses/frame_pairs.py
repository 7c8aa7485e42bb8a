"""Frame pairings of a clip for the temporal (TK) loss."""

from typing import List, Sequence, Tuple, Union

__all__ = ['all_frame_pairs', 'cyclic_frame_pairs', 'build_frame_pairs']

FramePair = Tuple[int, int]


def all_frame_pairs(num_frames: int) -> List[FramePair]:
    """Every unordered frame pair once, ``(a, b)`` with ``a < b``.

    The released T = 3 setting: ``[(0, 1), (0, 2), (1, 2)]``.

    Args:
        num_frames: T, frames per clip (>= 0).

    Returns:
        ``T * (T - 1) / 2`` pairs in lexicographic order; ``[]`` for T <= 1.
    """
    _check_num_frames(num_frames)
    return [(a, b) for a in range(num_frames) for b in range(a + 1, num_frames)]


def cyclic_frame_pairs(num_frames: int) -> List[FramePair]:
    """The cyclic tube ``(0, 1), (1, 2), ..., (T - 1, 0)``.

    For T = 2 the closing pair ``(1, 0)`` would connect the same two frames a
    second time (only the roles swap), so just ``[(0, 1)]`` is returned, the
    same as :func:`all_frame_pairs`; T <= 1 gives ``[]``.

    Args:
        num_frames: T, frames per clip (>= 0).

    Returns:
        T pairs for T >= 3, one pair for T = 2, none otherwise.
    """
    _check_num_frames(num_frames)
    if num_frames <= 2:
        return all_frame_pairs(num_frames)
    return [(t, (t + 1) % num_frames) for t in range(num_frames)]


def build_frame_pairs(
    pairing: Union[str, Sequence[Sequence[int]]], num_frames: int
) -> List[FramePair]:
    """Resolve a pairing mode for a clip of ``num_frames`` frames.

    Args:
        pairing: ``'all'``, ``'cyclic'`` or an explicit sequence of
            ``(a, b)`` frame indices (candidates in frame a, targets in b).
        num_frames: T, frames per clip.

    Returns:
        List of ``(a, b)`` int pairs, each index in ``[0, T)``, ``a != b``.
    """
    if isinstance(pairing, str):
        if pairing == 'all':
            return all_frame_pairs(num_frames)
        if pairing == 'cyclic':
            return cyclic_frame_pairs(num_frames)
        raise ValueError(
            f"pairing must be 'all', 'cyclic' or a list of (a, b) pairs, got {pairing!r}"
        )
    return check_frame_pairs(pairing, num_frames)


def check_frame_pairs(pairs: Sequence[Sequence[int]], num_frames: int) -> List[FramePair]:
    """Validate explicit ``(a, b)`` pairs against T; returns them as tuples."""
    checked = []
    for pair in pairs:
        if len(pair) != 2:
            raise ValueError(f'a frame pair must be (a, b), got {pair!r}')
        a, b = int(pair[0]), int(pair[1])
        if not (0 <= a < num_frames and 0 <= b < num_frames):
            raise ValueError(
                f'frame pair {pair!r} is out of range for a clip of {num_frames} frames'
            )
        if a == b:
            raise ValueError(f'frame pair {pair!r} pairs a frame with itself')
        checked.append((a, b))
    return checked


def _check_num_frames(num_frames: int) -> None:
    if num_frames < 0:
        raise ValueError(f'num_frames must be >= 0, got {num_frames}')
