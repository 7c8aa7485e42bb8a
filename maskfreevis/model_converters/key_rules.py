"""Renaming a state dict by a table of key rules, and dropping keys by name pattern.

A rule names a family of source keys with a regular expression (matched against the whole key)
and says what each becomes: a template for ``re.Match.expand`` (``r'backbone.\\1'``) or a function
of the match (for index arithmetic such as ``res2`` -> ``layer1``), and optionally a function that
rewrites the tensor (for layouts that differ between the two implementations). Keys no rule
matches are returned, never silently passed through, so a converter can list them.
"""

import fnmatch
import re
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Mapping, Optional, Sequence, Tuple, Union

from torch import Tensor

__all__ = ['KeyRule', 'RenameResult', 'rename_state_dict', 'drop_keys']

KeyTarget = Union[str, Callable[[re.Match], str]]


@dataclass(frozen=True)
class KeyRule:
    """One family of source keys and what it becomes.

    Args:
        pattern: regular expression that must match the whole source key.
        target: ``re.Match.expand`` template, or a function of the match returning the new key.
        transform: optional function of the source tensor returning the tensor to store (same
            number of elements, another layout); None keeps the tensor as it is.
    """

    pattern: str
    target: KeyTarget
    transform: Optional[Callable[[Tensor], Tensor]] = None

    def apply(self, key: str) -> Optional[str]:
        """The new name of ``key``, or None when the rule does not match it."""
        match = re.fullmatch(self.pattern, key)
        if match is None:
            return None
        return match.expand(self.target) if isinstance(self.target, str) else self.target(match)


@dataclass
class RenameResult:
    """What :func:`rename_state_dict` produced.

    Attributes:
        state_dict: renamed tensors, in source order.
        renamed_from: ``{new_key: source_key}`` for every renamed tensor.
        unmatched: source keys no rule matched (not in ``state_dict``).
        created: keys a converter added that have no source tensor (e.g. BatchNorm counters).
    """

    state_dict: 'OrderedDict[str, Tensor]' = field(default_factory=OrderedDict)
    renamed_from: Dict[str, str] = field(default_factory=dict)
    unmatched: List[str] = field(default_factory=list)
    created: List[str] = field(default_factory=list)


def rename_state_dict(state_dict: Mapping[str, Tensor], rules: Sequence[KeyRule]) -> RenameResult:
    """Rename every key by the first rule that matches it.

    Args:
        state_dict: source ``{key: tensor}``.
        rules: tried in order for each key.

    Returns:
        The renamed tensors and the keys no rule matched.

    Raises:
        ValueError: two source keys would become the same key (naming both).
    """
    result = RenameResult()
    for key, tensor in state_dict.items():
        for rule in rules:
            new_key = rule.apply(key)
            if new_key is None:
                continue
            if new_key in result.state_dict:
                raise ValueError(
                    f'source keys {result.renamed_from[new_key]!r} and {key!r} '
                    f'both convert to {new_key!r}'
                )
            result.state_dict[new_key] = rule.transform(tensor) if rule.transform else tensor
            result.renamed_from[new_key] = key
            break
        else:
            result.unmatched.append(key)
    return result


def drop_keys(
    state_dict: Mapping[str, Tensor], patterns: Sequence[str]
) -> Tuple['OrderedDict[str, Tensor]', List[str]]:
    """Remove the keys matching any shell-style pattern (e.g. ``criterion.*``).

    Returns:
        ``(kept, dropped_keys)``.
    """
    kept: 'OrderedDict[str, Tensor]' = OrderedDict()
    dropped = []
    for key, tensor in state_dict.items():
        if any(fnmatch.fnmatchcase(key, pattern) for pattern in patterns):
            dropped.append(key)
        else:
            kept[key] = tensor
    return kept, dropped
