"""Class lists and class tables by name (or from a json file) for fitting class heads.

Class lists are the row order of a model's class head: ``coco`` (80 COCO instance classes in
category-id order, what detectron2's and mmdet's COCO instance Mask2Formers predict),
``coco-panoptic`` (mmdet's 133 panoptic classes: the 80 things first, then 53 stuff classes),
``youtubevis2019`` / ``youtubevis2021`` (40 classes each, category-id order), or the
``categories`` of a COCO / YouTube-VIS / OVIS json file ordered by id - the order in which this
package's datasets number their labels.

Class tables map source class names to target class names: ``coco-to-youtubevis2019`` and
``coco-to-youtubevis2021`` (the release's joint-training tables), or a json object file
``{"source name": "target name"}``.
"""

import json
import os.path as osp
from typing import Dict, Optional, Tuple

from mmdet.datasets import CocoDataset, CocoPanopticDataset, YouTubeVISDataset

from maskfreevis.datasets import COCO_TO_YTVIS_2019, COCO_TO_YTVIS_2021
from maskfreevis.datasets.categories import read_categories

__all__ = [
    'CLASS_LIST_NAMES',
    'CLASS_TABLE_NAMES',
    'class_list',
    'class_table',
    'default_class_table_name',
]

CLASS_LIST_NAMES = ('coco', 'coco-panoptic', 'youtubevis2019', 'youtubevis2021')
CLASS_TABLE_NAMES = ('coco-to-youtubevis2019', 'coco-to-youtubevis2021')

_CLASS_TABLES = {
    'coco-to-youtubevis2019': COCO_TO_YTVIS_2019,
    'coco-to-youtubevis2021': COCO_TO_YTVIS_2021,
}


def _youtube_vis_classes(version: str) -> Tuple[str, ...]:
    # mmdet keeps both YouTube-VIS class lists inside a classmethod that sets them as the class's
    # METAINFO; read them that way and put the previous METAINFO back.
    had_own = 'METAINFO' in vars(YouTubeVISDataset)
    previous = vars(YouTubeVISDataset).get('METAINFO')
    YouTubeVISDataset.set_dataset_classes(version)
    classes = tuple(YouTubeVISDataset.METAINFO['classes'])
    if had_own:
        YouTubeVISDataset.METAINFO = previous
    else:
        del YouTubeVISDataset.METAINFO
    return classes


def class_list(name_or_json: str) -> Tuple[str, ...]:
    """Class names in head-row order, by name (:data:`CLASS_LIST_NAMES`) or from a json file.

    Raises:
        ValueError: neither a known name nor an existing file.
    """
    if name_or_json == 'coco':
        return tuple(CocoDataset.METAINFO['classes'])
    if name_or_json == 'coco-panoptic':
        return tuple(CocoPanopticDataset.METAINFO['classes'])
    if name_or_json in ('youtubevis2019', 'youtubevis2021'):
        return _youtube_vis_classes(name_or_json[-4:])
    if not osp.isfile(name_or_json):
        raise ValueError(
            f'class list {name_or_json!r} is neither one of {CLASS_LIST_NAMES} nor '
            'an existing json file with "categories"'
        )
    with open(name_or_json) as handle:
        data = json.load(handle)
    if not isinstance(data, dict) or 'categories' not in data:
        raise ValueError(f'{name_or_json}: a class list file needs a top-level "categories" list')
    return tuple(read_categories(data['categories'], name_or_json).values())


def class_table(name_or_json: str) -> Dict[str, str]:
    """``{source class: target class}`` by name (:data:`CLASS_TABLE_NAMES`) or from a json file.

    Raises:
        ValueError: neither a known name nor a json file holding one object of strings.
    """
    if name_or_json in _CLASS_TABLES:
        return dict(_CLASS_TABLES[name_or_json])
    if not osp.isfile(name_or_json):
        raise ValueError(
            f'class table {name_or_json!r} is neither one of {CLASS_TABLE_NAMES} '
            'nor an existing json file'
        )
    with open(name_or_json) as handle:
        table = json.load(handle)
    if not isinstance(table, dict) or not all(
        isinstance(key, str) and isinstance(value, str) for key, value in table.items()
    ):
        raise ValueError(
            f'{name_or_json}: a class table file must hold one json object '
            '{"source class": "target class", ...}'
        )
    return table


def default_class_table_name(source_list: str, target_list: str) -> Optional[str]:
    """The release's table between two named class lists, or None (classes of equal names map).

    Args:
        source_list: a class-list name or json path (see :func:`class_list`).
        target_list: the same for the target.
    """
    if source_list in ('coco', 'coco-panoptic') and target_list in (
        'youtubevis2019',
        'youtubevis2021',
    ):
        return f'coco-to-{target_list}'
    return None
