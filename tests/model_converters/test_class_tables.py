"""Class lists and class tables by name or from json files."""

import json

import pytest
from mmdet.datasets import YouTubeVISDataset

from maskfreevis.datasets import COCO_TO_YTVIS_2019
from maskfreevis.model_converters import class_list, class_table
from maskfreevis.model_converters.class_tables import default_class_table_name


def test_named_class_lists():
    coco = class_list('coco')
    assert len(coco) == 80 and coco[:3] == ('person', 'bicycle', 'car')
    panoptic = class_list('coco-panoptic')
    assert len(panoptic) == 133 and panoptic[:80] == coco  # things first, same order
    ytvis = class_list('youtubevis2019')
    assert len(ytvis) == 40 and ytvis[:3] == ('person', 'giant_panda', 'lizard')
    assert len(class_list('youtubevis2021')) == 40
    assert 'METAINFO' not in vars(YouTubeVISDataset)  # mmdet's class left as it was


def test_class_list_from_json_is_in_id_order(tmp_path):
    path = tmp_path / 'valid.json'
    path.write_text(json.dumps(dict(categories=[dict(id=3, name='b'), dict(id=1, name='a')])))
    assert class_list(str(path)) == ('a', 'b')
    path.write_text(json.dumps(dict(videos=[])))
    with pytest.raises(ValueError, match='needs a top-level "categories"'):
        class_list(str(path))
    with pytest.raises(ValueError, match='neither one of'):
        class_list('imagenet')


def test_class_tables(tmp_path):
    assert class_table('coco-to-youtubevis2019') == COCO_TO_YTVIS_2019
    path = tmp_path / 'table.json'
    path.write_text(json.dumps({'car': 'sedan'}))
    assert class_table(str(path)) == {'car': 'sedan'}
    path.write_text(json.dumps({'car': 3}))
    with pytest.raises(ValueError, match='must hold one json object'):
        class_table(str(path))
    assert default_class_table_name('coco', 'youtubevis2021') == 'coco-to-youtubevis2021'
    assert default_class_table_name('youtubevis2019', 'youtubevis2021') is None
