"""Class lists from json ``categories`` and their mapping to label indices."""
import logging
from typing import Any, Dict, Mapping, Optional, Sequence, Tuple

from mmengine.logging import print_log

from .annotation_checks import AnnotationError, require_keys


def read_categories(categories: Any, ann_file: str) -> Dict[int, str]:
    """Parse a json ``categories`` list into ``{category_id: name}`` ordered by id.

    Raises:
        AnnotationError: not a list, an entry without ``id``/``name``, or a duplicate id or name.
    """
    if not isinstance(categories, list):
        raise AnnotationError(f"{ann_file}: 'categories' must be a list, got "
                              f'{type(categories).__name__}')
    names_by_id: Dict[int, str] = {}
    for index, category in enumerate(categories):
        require_keys(category, ('id', 'name'), ann_file, f'categories[{index}]')
        cat_id, name = category['id'], category['name']
        if cat_id in names_by_id:
            raise AnnotationError(f'{ann_file}: duplicate category id {cat_id}')
        if name in names_by_id.values():
            raise AnnotationError(f"{ann_file}: duplicate category name '{name}'")
        names_by_id[cat_id] = name
    return dict(sorted(names_by_id.items()))


def select_classes(names_by_id: Mapping[int, str], requested: Optional[Sequence[str]],
                   ann_file: str) -> Tuple[Tuple[str, ...], Dict[int, int]]:
    """Choose the dataset classes and map category ids to label indices.

    Args:
        names_by_id: ``{category_id: name}`` from :func:`read_categories`.
        requested: ``metainfo['classes']``; ``None`` keeps every json category (sorted by id),
            otherwise restricts and orders the classes by name.

    Returns:
        ``(classes, cat2label)``; ids of categories left out by ``requested`` are absent from
        ``cat2label`` (their annotations are dropped and counted by the caller).
    """
    if requested is None:
        classes = tuple(names_by_id.values())
    else:
        classes = tuple(requested)
        unknown = [name for name in classes if name not in names_by_id.values()]
        if unknown:
            raise AnnotationError(f'{ann_file}: metainfo classes {unknown} are not among the '
                                  f"json categories {list(names_by_id.values())}")
    label_by_name = {name: label for label, name in enumerate(classes)}
    cat2label = {cat_id: label_by_name[name] for cat_id, name in names_by_id.items()
                 if name in label_by_name}
    return classes, cat2label


def map_categories(names_by_id: Mapping[int, str], target_classes: Sequence[str],
                   class_mapping: Optional[Mapping[str, str]], ann_file: str) -> Dict[int, int]:
    """Map source category ids to label indices of another dataset's classes.

    Args:
        names_by_id: Source ``{category_id: name}``.
        target_classes: The classes labels index into (e.g. the video dataset's).
        class_mapping: ``{source_name: target_name}``; ``None`` maps equal names.

    Returns:
        ``{category_id: label}`` for the mapped categories only.

    Mapping keys that are no source category are logged (a generic table such as
    ``COCO_TO_YTVIS_2019`` may meet a filtered json); if none matches, it is an error.

    Raises:
        AnnotationError: no mapping key is a source category, or a value is no target class.
    """
    label_by_name = {name: label for label, name in enumerate(target_classes)}
    if class_mapping is None:
        return {cat_id: label_by_name[name] for cat_id, name in names_by_id.items()
                if name in label_by_name}
    source_names = set(names_by_id.values())
    unused_keys = [name for name in class_mapping if name not in source_names]
    if len(unused_keys) == len(class_mapping):
        raise AnnotationError(f'{ann_file}: no class_mapping key is among the json categories '
                              f'{sorted(source_names)}')
    if unused_keys:
        print_log(f'{ann_file}: class_mapping keys without a json category (unused): '
                  f'{unused_keys}', logger='current', level=logging.WARNING)
    bad_values = [name for name in class_mapping.values() if name not in label_by_name]
    if bad_values:
        raise AnnotationError(f'class_mapping values {bad_values} are not among the target '
                              f'classes {list(target_classes)}')
    return {cat_id: label_by_name[class_mapping[name]] for cat_id, name in names_by_id.items()
            if name in class_mapping}
