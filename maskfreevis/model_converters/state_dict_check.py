"""Checking a converted state dict against the keys and shapes the target model expects."""

from dataclasses import dataclass, field
from typing import List, Mapping, Sequence, Tuple

from torch import Tensor

__all__ = [
    'StateDictMismatchError',
    'StateDictComparison',
    'compare_state_dicts',
    'require_exact_match',
]


class StateDictMismatchError(ValueError):
    """A converted state dict does not fit the target model; the message lists every difference."""


@dataclass
class StateDictComparison:
    """Differences between a converted state dict and the target model's.

    Attributes:
        unconverted: source keys no conversion rule covers (not in the converted dict).
        missing: target keys the converted dict lacks.
        unexpected: converted keys the target model does not have.
        wrong_shape: ``(key, converted shape, target shape)`` for keys in both.
    """

    unconverted: List[str] = field(default_factory=list)
    missing: List[str] = field(default_factory=list)
    unexpected: List[str] = field(default_factory=list)
    wrong_shape: List[Tuple[str, Tuple[int, ...], Tuple[int, ...]]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not (self.unconverted or self.missing or self.unexpected or self.wrong_shape)

    def describe(self) -> str:
        """All differences, one key per line, grouped under headings with counts."""
        lines = []
        if self.unconverted:
            lines.append(f'source keys without a conversion rule ({len(self.unconverted)}):')
            lines += [f'  {key}' for key in self.unconverted]
        if self.missing:
            lines.append(f'missing in the converted checkpoint ({len(self.missing)}):')
            lines += [f'  {key}' for key in self.missing]
        if self.unexpected:
            lines.append(f'left over, not in the target model ({len(self.unexpected)}):')
            lines += [f'  {key}' for key in self.unexpected]
        if self.wrong_shape:
            lines.append(f'shape differs from the target model ({len(self.wrong_shape)}):')
            lines += [
                f'  {key}: converted {list(have)} vs model {list(want)}'
                for key, have, want in self.wrong_shape
            ]
        return '\n'.join(lines) if lines else 'every key present, every shape equal'


def compare_state_dicts(
    converted: Mapping[str, Tensor],
    target_shapes: Mapping[str, Sequence[int]],
    unconverted: Sequence[str] = (),
) -> StateDictComparison:
    """Compare ``converted`` with the target model's ``{key: shape}``.

    Args:
        converted: the converted ``{key: tensor}``.
        target_shapes: ``{key: shape}`` of the target model's ``state_dict()``.
        unconverted: source keys the converter had no rule for, reported with the rest.
    """
    comparison = StateDictComparison(
        unconverted=list(unconverted),
        missing=[key for key in target_shapes if key not in converted],
        unexpected=[key for key in converted if key not in target_shapes],
    )
    for key, tensor in converted.items():
        if key in target_shapes and tuple(tensor.shape) != tuple(target_shapes[key]):
            comparison.wrong_shape.append((key, tuple(tensor.shape), tuple(target_shapes[key])))
    return comparison


def require_exact_match(
    converted: Mapping[str, Tensor],
    target_shapes: Mapping[str, Sequence[int]],
    source: str,
    unconverted: Sequence[str] = (),
) -> None:
    """Raise :class:`StateDictMismatchError` naming ``source`` and listing every difference.

    Args:
        converted: the converted ``{key: tensor}``.
        target_shapes: ``{key: shape}`` of the target model.
        source: the checkpoint file the tensors came from, for the message.
        unconverted: source keys the converter had no rule for (an error too).
    """
    comparison = compare_state_dicts(converted, target_shapes, unconverted)
    if not comparison.ok:
        raise StateDictMismatchError(
            f'{source}: the converted weights do not fit the target model.\n'
            f'{comparison.describe()}\n'
            'Keys of the source that are no model weights can be dropped with --drop PATTERN; '
            'a shape difference usually means the config does not describe the checkpoint '
            '(depth, channels, number of queries or classes).'
        )
