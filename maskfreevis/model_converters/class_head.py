"""Fitting a Mask2Former class head (``C + 1`` rows, the last one "no object") to other classes.

Two ways, both keep the no-object row of the source:

* :func:`map_class_head` - each target class takes the row of the source class a class table maps
  to it (the mean of the rows when several source classes map to one target class, e.g. COCO
  ``bicycle`` and ``motorcycle`` -> YouTube-VIS ``motorbike``); target classes nothing maps to get
  freshly initialised rows;
* :func:`reinitialise_class_head` - every class row fresh, as detectron2 and mmengine do when a
  checkpoint's class layer has another shape (what the released recipes did).

Fresh rows follow ``torch.nn.Linear``'s default initialisation (uniform in
``+-1/sqrt(in_features)`` for weight and bias), drawn from a seeded generator so a conversion is
reproducible.
"""

import math
from dataclasses import dataclass, field
from typing import Dict, List, Mapping, Optional, Sequence, Tuple

import torch
from torch import Tensor

__all__ = ['ClassHeadResult', 'map_class_head', 'reinitialise_class_head', 'fresh_linear_rows']


@dataclass
class ClassHeadResult:
    """A fitted class head and what happened to each target class.

    Attributes:
        weight: ``(num_target_classes + 1, in_features)``.
        bias: ``(num_target_classes + 1,)``.
        sources: ``{target class: [source classes whose rows it took]}`` for mapped classes.
        fresh: target classes with freshly initialised rows.
        unused_table_entries: ``source -> target`` entries of the class table whose source or
            target class is not in the class lists (ignored).
    """

    weight: Tensor
    bias: Tensor
    sources: Dict[str, List[str]] = field(default_factory=dict)
    fresh: List[str] = field(default_factory=list)
    unused_table_entries: List[str] = field(default_factory=list)

    def describe(self) -> str:
        """One line per mapped class and one line listing the fresh ones."""
        lines = [f'  {target} <- {" + ".join(names)}' for target, names in self.sources.items()]
        if self.fresh:
            lines.append(f'  freshly initialised ({len(self.fresh)}): {", ".join(self.fresh)}')
        if self.unused_table_entries:
            lines.append(
                f'  class-table entries outside the class lists (unused, '
                f'{len(self.unused_table_entries)}): '
                f'{", ".join(self.unused_table_entries)}'
            )
        lines.append('  no-object row kept from the source')
        return '\n'.join(lines)


def fresh_linear_rows(
    num_rows: int, in_features: int, seed: int, dtype: torch.dtype = torch.float32
) -> Tuple[Tensor, Tensor]:
    """Weight ``(num_rows, in_features)`` and bias ``(num_rows,)`` drawn like ``nn.Linear``'s."""
    generator = torch.Generator().manual_seed(seed)
    bound = 1.0 / math.sqrt(in_features)
    weight = (torch.rand(num_rows, in_features, generator=generator) * 2 - 1) * bound
    bias = (torch.rand(num_rows, generator=generator) * 2 - 1) * bound
    return weight.to(dtype), bias.to(dtype)


def _check_rows(weight: Tensor, bias: Tensor, num_source_classes: int, what: str) -> None:
    if weight.dim() != 2 or bias.shape != weight.shape[:1]:
        raise ValueError(
            f'{what}: a class head needs weight (C + 1, D) and bias (C + 1,), got '
            f'{list(weight.shape)} and {list(bias.shape)}'
        )
    if weight.shape[0] != num_source_classes + 1:
        raise ValueError(
            f'{what}: the class head has {weight.shape[0]} rows but '
            f'{num_source_classes} source classes were named (expected '
            f'{num_source_classes} + 1 rows, the last one "no object")'
        )


def map_class_head(
    weight: Tensor,
    bias: Tensor,
    source_classes: Sequence[str],
    target_classes: Sequence[str],
    class_mapping: Optional[Mapping[str, str]] = None,
    seed: int = 0,
    what: str = 'class head',
) -> ClassHeadResult:
    """Class rows of ``target_classes`` taken from the source rows a class table maps to them.

    Args:
        weight: ``(len(source_classes) + 1, D)`` source class-layer weight.
        bias: ``(len(source_classes) + 1,)`` source bias.
        source_classes: names of the source rows, in row order (no-object excluded).
        target_classes: names of the target rows, in row order.
        class_mapping: ``{source name: target name}``; None maps classes of equal names.
        seed: seed of the fresh rows.
        what: the checkpoint (file) the head comes from, for messages.

    Returns:
        The ``(len(target_classes) + 1, D)`` head and which classes were mapped or fresh.

    Table entries whose source or target class is not in the lists are ignored and reported.

    Raises:
        ValueError: the row count does not fit ``source_classes``, or no target class gets a
            source row.
    """
    _check_rows(weight, bias, len(source_classes), what)
    if class_mapping is None:
        class_mapping = {name: name for name in source_classes if name in target_classes}
    # a generic table (e.g. COCO -> all YouTube-VIS classes) may meet a subset of the classes
    unused = [
        f'{source} -> {target}'
        for source, target in class_mapping.items()
        if source not in source_classes or target not in target_classes
    ]
    class_mapping = {
        source: target
        for source, target in class_mapping.items()
        if source in source_classes and target in target_classes
    }
    if not class_mapping:
        raise ValueError(
            f'{what}: no source class maps to any target class (source classes '
            f'{list(source_classes)[:5]}..., target classes '
            f'{list(target_classes)[:5]}...); pass a class table that links them, '
            'or re-initialise the head'
        )
    fresh_weight, fresh_bias = fresh_linear_rows(
        len(target_classes), weight.shape[1], seed, dtype=weight.dtype
    )
    result = ClassHeadResult(
        weight=torch.cat([fresh_weight, weight[-1:]]),
        bias=torch.cat([fresh_bias, bias[-1:]]),
        unused_table_entries=unused,
    )
    source_row = {name: row for row, name in enumerate(source_classes)}
    for target_row, target in enumerate(target_classes):
        names = [source for source, mapped in class_mapping.items() if mapped == target]
        if not names:
            result.fresh.append(target)
            continue
        rows = torch.tensor([source_row[name] for name in names])
        result.weight[target_row] = weight[rows].mean(dim=0)
        result.bias[target_row] = bias[rows].mean(dim=0)
        result.sources[target] = names
    return result


def reinitialise_class_head(
    weight: Tensor, bias: Tensor, num_target_classes: int, seed: int = 0
) -> ClassHeadResult:
    """A ``(num_target_classes + 1, D)`` head: fresh class rows, the source's no-object row.

    Args:
        weight: ``(C + 1, D)`` source class-layer weight (any C).
        bias: ``(C + 1,)`` source bias.
        num_target_classes: classes of the target model.
        seed: seed of the fresh rows.
    """
    fresh_weight, fresh_bias = fresh_linear_rows(
        num_target_classes, weight.shape[1], seed, dtype=weight.dtype
    )
    return ClassHeadResult(
        weight=torch.cat([fresh_weight, weight[-1:]]),
        bias=torch.cat([fresh_bias, bias[-1:]]),
        fresh=[f'all {num_target_classes} class rows'],
    )
