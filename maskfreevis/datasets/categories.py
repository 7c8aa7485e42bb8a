"""Class lists from json ``categories``, their mapping to label indices, and the named class tables.

The tables are facts of the datasets: the classes of YouTube-VIS 2019 / 2021 and OVIS in
category-id order, and which COCO category stands for which of those classes when COCO images
join video training (configs name a table, e.g. ``class_mapping='youtube_vis_2019'``).
"""

import logging
from typing import Any, Dict, Mapping, Optional, Sequence, Tuple

from mmengine.logging import print_log

from .annotation_checks import AnnotationError, require_keys

# Classes of each video dataset in category-id order (= label order of its original json).
VIDEO_CLASSES: Dict[str, Tuple[str, ...]] = {
    'youtube_vis_2019': (
        'person',
        'giant_panda',
        'lizard',
        'parrot',
        'skateboard',
        'sedan',
        'ape',
        'dog',
        'snake',
        'monkey',
        'hand',
        'rabbit',
        'duck',
        'cat',
        'cow',
        'fish',
        'train',
        'horse',
        'turtle',
        'bear',
        'motorbike',
        'giraffe',
        'leopard',
        'fox',
        'deer',
        'owl',
        'surfboard',
        'airplane',
        'truck',
        'zebra',
        'tiger',
        'elephant',
        'snowboard',
        'boat',
        'shark',
        'mouse',
        'frog',
        'eagle',
        'earless_seal',
        'tennis_racket',
    ),
    'youtube_vis_2021': (
        'airplane',
        'bear',
        'bird',
        'boat',
        'car',
        'cat',
        'cow',
        'deer',
        'dog',
        'duck',
        'earless_seal',
        'elephant',
        'fish',
        'flying_disc',
        'fox',
        'frog',
        'giant_panda',
        'giraffe',
        'horse',
        'leopard',
        'lizard',
        'monkey',
        'motorbike',
        'mouse',
        'parrot',
        'person',
        'rabbit',
        'shark',
        'skateboard',
        'snake',
        'snowboard',
        'squirrel',
        'surfboard',
        'tennis_racket',
        'tiger',
        'train',
        'truck',
        'turtle',
        'whale',
        'zebra',
    ),
    'ovis': (
        'Person',
        'Bird',
        'Cat',
        'Dog',
        'Horse',
        'Sheep',
        'Cow',
        'Elephant',
        'Bear',
        'Zebra',
        'Giraffe',
        'Poultry',
        'Giant_panda',
        'Lizard',
        'Parrot',
        'Monkey',
        'Rabbit',
        'Tiger',
        'Fish',
        'Turtle',
        'Bicycle',
        'Motorcycle',
        'Airplane',
        'Boat',
        'Vehicle',
    ),
}

# COCO -> video class correspondences of the released joint-training recipe (its
# COCO_TO_YTVIS_2019/2021 id tables, written here with the class names of both datasets).
COCO_TO_YTVIS_2019: Dict[str, str] = {
    'person': 'person',
    'bicycle': 'motorbike',
    'car': 'sedan',
    'motorcycle': 'motorbike',
    'airplane': 'airplane',
    'train': 'train',
    'truck': 'truck',
    'boat': 'boat',
    'cat': 'cat',
    'dog': 'dog',
    'horse': 'horse',
    'cow': 'cow',
    'elephant': 'elephant',
    'bear': 'bear',
    'zebra': 'zebra',
    'giraffe': 'giraffe',
    'skis': 'snowboard',
    'snowboard': 'snowboard',
    'skateboard': 'skateboard',
    'surfboard': 'surfboard',
    'tennis racket': 'tennis_racket',
}
COCO_TO_YTVIS_2021: Dict[str, str] = {
    'person': 'person',
    'bicycle': 'motorbike',
    'car': 'car',
    'motorcycle': 'motorbike',
    'airplane': 'airplane',
    'train': 'train',
    'truck': 'truck',
    'boat': 'boat',
    'bird': 'bird',
    'cat': 'cat',
    'dog': 'dog',
    'horse': 'horse',
    'cow': 'cow',
    'elephant': 'elephant',
    'bear': 'bear',
    'zebra': 'zebra',
    'giraffe': 'giraffe',
    'frisbee': 'flying_disc',
    'skis': 'snowboard',
    'snowboard': 'snowboard',
    'skateboard': 'skateboard',
    'surfboard': 'surfboard',
    'tennis racket': 'tennis_racket',
}
# The release had no working OVIS table (its COCO_TO_OVIS is undefined): COCO classes map onto
# the OVIS class of the same name, car / bus / truck onto Vehicle.
COCO_TO_OVIS: Dict[str, str] = {
    'person': 'Person',
    'bird': 'Bird',
    'cat': 'Cat',
    'dog': 'Dog',
    'horse': 'Horse',
    'sheep': 'Sheep',
    'cow': 'Cow',
    'elephant': 'Elephant',
    'bear': 'Bear',
    'zebra': 'Zebra',
    'giraffe': 'Giraffe',
    'bicycle': 'Bicycle',
    'motorcycle': 'Motorcycle',
    'airplane': 'Airplane',
    'boat': 'Boat',
    'car': 'Vehicle',
    'bus': 'Vehicle',
    'truck': 'Vehicle',
}
COCO_TO_VIDEO_CLASSES: Dict[str, Dict[str, str]] = {
    'youtube_vis_2019': COCO_TO_YTVIS_2019,
    'youtube_vis_2021': COCO_TO_YTVIS_2021,
    'ovis': COCO_TO_OVIS,
}


def coco_class_table(name: str) -> Tuple[Tuple[str, ...], Dict[str, str]]:
    """The named COCO -> video class table.

    Args:
        name: A key of :data:`COCO_TO_VIDEO_CLASSES` (``'youtube_vis_2019'``,
            ``'youtube_vis_2021'``, ``'ovis'``).

    Returns:
        ``(video classes in category-id order, {COCO category name: video class name})``.

    Raises:
        ValueError: an unknown name (the message lists the known ones).
    """
    if name not in COCO_TO_VIDEO_CLASSES:
        raise ValueError(
            f'unknown class table {name!r}; known tables: {sorted(COCO_TO_VIDEO_CLASSES)}'
        )
    return VIDEO_CLASSES[name], dict(COCO_TO_VIDEO_CLASSES[name])


def read_categories(categories: Any, ann_file: str) -> Dict[int, str]:
    """Parse a json ``categories`` list into ``{category_id: name}`` ordered by id.

    Raises:
        AnnotationError: not a list, an entry without ``id``/``name``, or a duplicate id or name.
    """
    if not isinstance(categories, list):
        raise AnnotationError(
            f"{ann_file}: 'categories' must be a list, got {type(categories).__name__}"
        )
    names_by_id: Dict[int, str] = {}
    for index, category in enumerate(categories):
        require_keys(category, ('id', 'name'), ann_file, f'categories[{index}]')
        cat_id, name = category['id'], category['name']
        if not isinstance(name, str) or not name:
            raise AnnotationError(
                f"{ann_file}: categories[{index}] (id {cat_id!r}): 'name' must be a non-empty "
                f'string, got {name!r}'
            )
        if cat_id in names_by_id:
            raise AnnotationError(f'{ann_file}: duplicate category id {cat_id}')
        if name in names_by_id.values():
            raise AnnotationError(f"{ann_file}: duplicate category name '{name}'")
        names_by_id[cat_id] = name
    return dict(sorted(names_by_id.items()))


def check_class_names(requested: Any, ann_file: str) -> Optional[Tuple[str, ...]]:
    """``metainfo['classes']`` as a tuple of names, or None when not given.

    Raises:
        AnnotationError: a string instead of a sequence of names (it would be read one
            character per class), names that are not non-empty strings, or a name twice.
    """
    if requested is None:
        return None
    if isinstance(requested, str):
        raise AnnotationError(
            f'{ann_file}: metainfo classes must be a tuple or list of class names, got the '
            f'string {requested!r} (it would be read one character per class); for one class '
            f'write classes=({requested!r},)'
        )
    if not isinstance(requested, Sequence) or not requested:
        raise AnnotationError(
            f'{ann_file}: metainfo classes must be a non-empty tuple or list of class names, '
            f'got {requested!r}'
        )
    bad = [name for name in requested if not isinstance(name, str) or not name]
    if bad:
        raise AnnotationError(
            f'{ann_file}: metainfo classes must be class names (non-empty strings), got '
            f'{bad[0]!r} in {tuple(requested)!r}'
        )
    twice = sorted({name for name in requested if list(requested).count(name) > 1})
    if twice:
        raise AnnotationError(f'{ann_file}: metainfo classes name {twice} more than once')
    return tuple(requested)


def select_classes(
    names_by_id: Mapping[int, str], requested: Optional[Sequence[str]], ann_file: str
) -> Tuple[Tuple[str, ...], Dict[int, int]]:
    """Choose the dataset classes and map category ids to label indices.

    Args:
        names_by_id: ``{category_id: name}`` from :func:`read_categories`.
        requested: ``metainfo['classes']``; ``None`` keeps every json category (sorted by id),
            otherwise restricts and orders the classes by name.

    Returns:
        ``(classes, cat2label)``; ids of categories left out by ``requested`` are absent from
        ``cat2label`` (their annotations are dropped and counted by the caller).
    """
    requested = check_class_names(requested, ann_file)
    if requested is None:
        classes = tuple(names_by_id.values())
    else:
        classes = requested
        unknown = [name for name in classes if name not in names_by_id.values()]
        if unknown:
            raise AnnotationError(
                f'{ann_file}: metainfo classes {unknown} are not among the '
                f'json categories {list(names_by_id.values())}'
            )
    label_by_name = {name: label for label, name in enumerate(classes)}
    cat2label = {
        cat_id: label_by_name[name] for cat_id, name in names_by_id.items() if name in label_by_name
    }
    return classes, cat2label


def map_categories(
    names_by_id: Mapping[int, str],
    target_classes: Sequence[str],
    class_mapping: Optional[Mapping[str, str]],
    ann_file: str,
) -> Dict[int, int]:
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
        return {
            cat_id: label_by_name[name]
            for cat_id, name in names_by_id.items()
            if name in label_by_name
        }
    source_names = set(names_by_id.values())
    unused_keys = [name for name in class_mapping if name not in source_names]
    if len(unused_keys) == len(class_mapping):
        raise AnnotationError(
            f'{ann_file}: no class_mapping key is among the json categories {sorted(source_names)}'
        )
    if unused_keys:
        print_log(
            f'{ann_file}: class_mapping keys without a json category (unused): {unused_keys}',
            logger='current',
            level=logging.WARNING,
        )
    bad_values = [name for name in class_mapping.values() if name not in label_by_name]
    if bad_values:
        raise AnnotationError(
            f'class_mapping values {bad_values} are not among the target '
            f'classes {list(target_classes)}'
        )
    return {
        cat_id: label_by_name[class_mapping[name]]
        for cat_id, name in names_by_id.items()
        if name in class_mapping
    }
