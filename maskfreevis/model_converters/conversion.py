"""One conversion from source weights to a state dict that loads strictly into the target model.

Steps: drop the source keys named as non-model tensors, rename (per source format), fit the class
head, match the colour order of the first convolution, then check the result against the target
model - every source key converted, every target key present, every shape equal - or raise with
all differences listed.
"""

from dataclasses import dataclass, field
from typing import Callable, Dict, List, Mapping, Optional, Sequence, Tuple

import torch
from torch import Tensor

from .class_head import ClassHeadResult, map_class_head, reinitialise_class_head
from .class_tables import class_list, class_table, default_class_table_name
from .detectron2_maskfreevis import FIRST_CONV_KEYS, reverse_input_channels
from .key_rules import RenameResult, drop_keys
from .state_dict_check import require_exact_match
from .target_model import TargetModel

__all__ = [
    'CLASS_HEAD_KEYS',
    'ClassHeadOptions',
    'ConversionResult',
    'fit_class_head',
    'convert_state_dict',
    'normalisation_warning',
]

CLASS_HEAD_KEYS = ('track_head.cls_embed.weight', 'track_head.cls_embed.bias')

# Source class lists recognised by the number of class-head rows (classes + no-object).
_CLASS_LIST_BY_ROWS = {81: 'coco', 134: 'coco-panoptic'}


@dataclass
class ClassHeadOptions:
    """How to fit the class head when source and target classes differ.

    Attributes:
        target_classes: class list of the target (a name of
            :data:`~.class_tables.CLASS_LIST_NAMES` or a json with ``categories``); given, the
            rows are mapped by a class table; None keeps a head of the right size and
            re-initialises one of another size.
        source_classes: class list of the source; None infers ``coco`` (81 rows) or
            ``coco-panoptic`` (134 rows).
        class_table: ``{source: target}`` table name or json; None uses the release's table
            between COCO and YouTube-VIS, else maps equal class names.
        reinitialise: re-initialise the class rows even when the sizes agree.
        seed: seed of freshly initialised rows.
    """

    target_classes: Optional[str] = None
    source_classes: Optional[str] = None
    class_table: Optional[str] = None
    reinitialise: bool = False
    seed: int = 0


@dataclass
class ConversionResult:
    """A converted state dict and what the conversion did, as lines for the user.

    Attributes:
        state_dict: loads with ``strict=True`` into the target model.
        dropped: source keys dropped as non-model tensors.
        report: what was done (dropped, created, class head, colour order), one item per line.
    """

    state_dict: Dict[str, Tensor]
    dropped: List[str] = field(default_factory=list)
    report: List[str] = field(default_factory=list)


def fit_class_head(
    state_dict: Dict[str, Tensor], target_rows: int, options: ClassHeadOptions, source: str
) -> str:
    """Give ``track_head.cls_embed`` ``target_rows`` rows (in place); returns what was done.

    Args:
        state_dict: converted weights holding :data:`CLASS_HEAD_KEYS`.
        target_rows: the target model's class-head rows (classes + no-object).
        options: how to fit it.
        source: the source file, for messages.

    Raises:
        ValueError: a class list does not fit its head, or the source classes are unknown.
    """
    weight, bias = (state_dict[key] for key in CLASS_HEAD_KEYS)
    source_rows = weight.shape[0]
    result: ClassHeadResult
    if options.target_classes is not None:
        source_name = options.source_classes or _CLASS_LIST_BY_ROWS.get(source_rows)
        if source_name is None:
            raise ValueError(
                f'{source}: the class head has {source_rows} rows; name its classes '
                '(--source-classes) to map them onto the target classes'
            )
        target_classes = class_list(options.target_classes)
        if len(target_classes) + 1 != target_rows:
            raise ValueError(
                f'{options.target_classes} lists {len(target_classes)} classes but '
                f'the target model predicts {target_rows - 1}'
            )
        table_name = options.class_table or default_class_table_name(
            source_name, options.target_classes
        )
        table = class_table(table_name) if table_name else None
        result = map_class_head(
            weight,
            bias,
            class_list(source_name),
            target_classes,
            table,
            seed=options.seed,
            what=source,
        )
        how = (
            f'class head mapped from {source_name} ({source_rows - 1} classes) to '
            f'{options.target_classes} ({target_rows - 1}) by '
            f'{table_name or "equal class names"}:\n{result.describe()}'
        )
    elif source_rows == target_rows and not options.reinitialise:
        return (
            f'class head kept ({source_rows - 1} classes + no-object): the target dataset '
            'must number its classes as the source model did'
        )
    else:
        result = reinitialise_class_head(weight, bias, target_rows - 1, seed=options.seed)
        reason = (
            'as asked'
            if source_rows == target_rows
            else f'the source predicts {source_rows - 1} classes, the target {target_rows - 1}'
        )
        how = (
            f'class head re-initialised ({reason}; seed {options.seed}); the no-object row '
            'is kept. Pass --target-classes to map the rows of shared classes instead.'
        )
    state_dict[CLASS_HEAD_KEYS[0]], state_dict[CLASS_HEAD_KEYS[1]] = result.weight, result.bias
    return how


def convert_state_dict(
    source_weights: Mapping[str, Tensor],
    rename: Callable[[Mapping[str, Tensor]], RenameResult],
    target: TargetModel,
    source: str,
    drop_patterns: Sequence[str] = (),
    source_channel_order: str = 'RGB',
    class_head: Optional[ClassHeadOptions] = None,
    source_normalisation: Optional[Tuple[Sequence[float], Sequence[float]]] = None,
) -> ConversionResult:
    """Convert ``source_weights`` into a state dict that loads strictly into ``target``.

    Args:
        source_weights: the source checkpoint's ``{key: tensor}``.
        rename: the source format's converter (e.g. ``convert_detectron2_state_dict``).
        target: keys, shapes and colour order of the target model.
        source: the source file, for messages.
        drop_patterns: shell-style patterns of source keys that are no model weights.
        source_channel_order: ``'RGB'`` or ``'BGR'``, the colour order the source was trained on.
        class_head: how to fit the class head; None: :class:`ClassHeadOptions` defaults.
        source_normalisation: ``(mean, std)`` the source model was trained with (in
            ``source_channel_order``); the report warns when the target normalises otherwise.

    Raises:
        StateDictMismatchError: a source key without a rule, a target key without a tensor, a
            left-over key or a shape difference (all listed).
        ValueError: the class head cannot be fitted as asked.
    """
    kept, dropped = drop_keys(source_weights, drop_patterns)
    renamed = rename(kept)
    converted = dict(renamed.state_dict)
    result = ConversionResult(state_dict=converted, dropped=dropped)
    if dropped:
        result.report.append(f'dropped as no model weights ({len(dropped)}): {", ".join(dropped)}')
    if renamed.created:
        result.report.append(
            f'created without a source tensor ({len(renamed.created)}, BatchNorm counters set to 0)'
        )
    head_rows = target.shapes.get(CLASS_HEAD_KEYS[0], (None,))[0]
    if all(key in converted for key in CLASS_HEAD_KEYS) and head_rows is not None:
        result.report.append(
            fit_class_head(converted, head_rows, class_head or ClassHeadOptions(), source)
        )
    if source_channel_order != target.channel_order and any(
        key in converted for key in FIRST_CONV_KEYS
    ):
        changed = reverse_input_channels(converted)
        result.report.append(
            f'first convolution {", ".join(changed)}: input channels reversed '
            f'({source_channel_order} source, {target.channel_order} target)'
        )
    else:
        result.report.append(
            f'colour order {source_channel_order} in source and target: the '
            'first convolution is unchanged'
        )
    if source_normalisation is not None:
        warning = normalisation_warning(source_normalisation, source_channel_order, target)
        if warning:
            result.report.append(warning)
    require_exact_match(converted, target.shapes, source, renamed.unmatched)
    return result


def normalisation_warning(
    source_normalisation: Tuple[Sequence[float], Sequence[float]],
    source_channel_order: str,
    target: TargetModel,
) -> Optional[str]:
    """A warning when the target's data preprocessor normalises otherwise than the source did.

    Args:
        source_normalisation: ``(mean, std)`` per channel in ``source_channel_order``.
        source_channel_order: ``'RGB'`` or ``'BGR'``.
        target: carries the target's mean, std and channel order.

    Returns:
        None when they agree (to 1e-3) or the target sets no mean/std.
    """
    if target.mean is None or target.std is None:
        return None
    mean, std = (torch.tensor(values, dtype=torch.float64) for values in source_normalisation)
    if source_channel_order != target.channel_order:
        mean, std = mean.flip(0), std.flip(0)
    target_mean = torch.tensor(target.mean, dtype=torch.float64)
    target_std = torch.tensor(target.std, dtype=torch.float64)
    if torch.allclose(mean, target_mean, atol=1e-3) and torch.allclose(std, target_std, atol=1e-3):
        return None
    return (
        f'WARNING: {target.name} normalises with mean {list(target.mean)}, std '
        f'{list(target.std)}; the source model was trained with mean {mean.tolist()}, std '
        f'{std.tolist()} ({target.channel_order}). Its features will be off unless the '
        'config uses the source values.'
    )
