"""Named class tables: the video classes and the COCO -> video correspondences."""

import pytest
from mmdet.datasets import CocoDataset, YouTubeVISDataset

from maskfreevis.datasets import AnnotationError
from maskfreevis.datasets.categories import (
    COCO_TO_VIDEO_CLASSES,
    VIDEO_CLASSES,
    check_class_names,
    coco_class_table,
)


@pytest.fixture
def youtube_vis_classes(monkeypatch):
    """mmdet's own YouTube-VIS class lists (set_dataset_classes rewrites a class attribute)."""
    monkeypatch.setattr(YouTubeVISDataset, 'METAINFO', YouTubeVISDataset.METAINFO)
    classes = {}
    for version in ('2019', '2021'):
        YouTubeVISDataset.set_dataset_classes(version)
        classes[f'youtube_vis_{version}'] = tuple(YouTubeVISDataset.METAINFO['classes'])
    return classes


def test_video_classes_are_the_datasets_in_id_order(youtube_vis_classes):
    for name, classes in youtube_vis_classes.items():
        assert VIDEO_CLASSES[name] == classes, name
    assert len(VIDEO_CLASSES['ovis']) == 25
    assert (VIDEO_CLASSES['ovis'][0], VIDEO_CLASSES['ovis'][-1]) == ('Person', 'Vehicle')


def test_coco_tables_use_real_class_names():
    coco_classes = set(CocoDataset.METAINFO['classes'])
    assert set(COCO_TO_VIDEO_CLASSES) == set(VIDEO_CLASSES)
    for name, mapping in COCO_TO_VIDEO_CLASSES.items():
        assert set(mapping) <= coco_classes, name
        assert set(mapping.values()) <= set(VIDEO_CLASSES[name]), name
    # 21 and 23 COCO categories in the released id tables; car, bus and truck are OVIS vehicles
    sizes = [
        len(COCO_TO_VIDEO_CLASSES[name])
        for name in ('youtube_vis_2019', 'youtube_vis_2021', 'ovis')
    ]
    assert sizes == [21, 23, 18]
    assert {COCO_TO_VIDEO_CLASSES['ovis'][c] for c in ('car', 'bus', 'truck')} == {'Vehicle'}


def test_coco_class_table_by_name():
    classes, mapping = coco_class_table('youtube_vis_2019')
    assert classes == VIDEO_CLASSES['youtube_vis_2019']
    assert mapping['car'] == 'sedan'
    mapping['car'] = 'changed'  # a copy: the table itself stays as released
    assert coco_class_table('youtube_vis_2019')[1]['car'] == 'sedan'
    with pytest.raises(ValueError, match=r"unknown class table 'ytvis'.*'ovis'"):
        coco_class_table('ytvis')


@pytest.mark.parametrize(
    'requested, message',
    [
        ('ellipse', "got the string 'ellipse' .*; for one class write classes=\\('ellipse',\\)"),
        ((), 'must be a non-empty tuple or list'),
        (('cat', 3), 'must be class names \\(non-empty strings\\), got 3'),
        (('cat', ''), "got '' in"),
        (('cat', 'dog', 'cat'), "name \\['cat'\\] more than once"),
    ],
)
def test_class_names_that_are_not_a_list_of_names_are_refused(requested, message):
    with pytest.raises(AnnotationError, match=f'a.json: metainfo classes .*{message}'):
        check_class_names(requested, 'a.json')
    assert check_class_names(['cat'], 'a.json') == ('cat',)
    assert check_class_names(None, 'a.json') is None
