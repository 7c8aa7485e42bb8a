"""``tools/dataset_converters/ytvis_to_box_only.py``."""

import numpy as np
import pycocotools.mask as mask_utils
import pytest

from maskfreevis.datasets import AnnotationError


@pytest.fixture(scope='module')
def converter(load_tool):
    return load_tool('dataset_converters/ytvis_to_box_only.py')


def rle_of_rectangle(y0, y1, x0, x1, height=20, width=30):
    mask = np.zeros((height, width), dtype=np.uint8)
    mask[y0:y1, x0:x1] = 1
    rle = mask_utils.encode(np.asfortranarray(mask))
    rle['counts'] = rle['counts'].decode()
    return rle


def test_masks_removed_and_missing_boxes_derived(converter):
    polygon = [[2.0, 3.0, 12.0, 3.0, 12.0, 9.0, 2.0, 9.0]]
    dataset = dict(
        videos=[dict(id=1, height=20, width=30, file_names=['a.jpg', 'b.jpg', 'c.jpg'])],
        annotations=[
            dict(
                id=5,
                video_id=1,
                category_id=1,
                bboxes=[[1.0, 1.0, 4.0, 4.0], None, None],
                segmentations=[rle_of_rectangle(1, 5, 1, 5), rle_of_rectangle(4, 10, 6, 16), None],
            ),
            dict(id=6, video_id=1, category_id=1, bboxes=None, segmentations=[None, polygon, None]),
        ],
        categories=[dict(id=1, name='thing')],
    )
    box_only = converter.to_box_only(dataset)
    first, second = box_only['annotations']
    assert first['segmentations'] is None and second['segmentations'] is None
    assert first['bboxes'] == [[1.0, 1.0, 4.0, 4.0], [6.0, 4.0, 10.0, 6.0], None]
    assert second['bboxes'][0] is None and second['bboxes'][2] is None
    x, y, w, h = second['bboxes'][1]
    assert (x, y) == (2.0, 3.0) and 10.0 <= w <= 11.0 and 6.0 <= h <= 7.0
    assert dataset['annotations'][0]['segmentations'] is not None, 'input must not be modified'


def test_bad_input_names_the_problem(converter):
    with pytest.raises(KeyError, match="in.json: missing top-level key 'videos'"):
        converter.to_box_only(dict(annotations=[]), source='in.json')
    dataset = dict(
        videos=[dict(id=1, height=4, width=4, file_names=['a.jpg'])],
        annotations=[dict(id=9, video_id=2, bboxes=[[0, 0, 1, 1]])],
    )
    with pytest.raises(KeyError, match='annotation 9 refers to unknown video 2'):
        converter.to_box_only(dataset, source='in.json')


def small_dataset(**annotation):
    ann = dict(id=5, video_id=1, category_id=1, bboxes=[[1.0, 1.0, 4.0, 4.0], None, None])
    ann.update(annotation)
    return dict(
        videos=[dict(id=1, height=20, width=30, file_names=['a.jpg', 'b.jpg', 'c.jpg'])],
        annotations=[ann],
        categories=[dict(id=1, name='thing')],
    )


@pytest.mark.parametrize(
    'key, value, got',
    [
        ('bboxes', [[1.0, 1.0, 4.0, 4.0], None], 'got 2'),
        ('segmentations', [None], 'got 1'),
        ('bboxes', {'0': [1, 1, 2, 2]}, 'got dict'),
    ],
)
def test_per_frame_lists_of_the_wrong_length_are_refused(converter, key, value, got):
    from maskfreevis.datasets import AnnotationError

    with pytest.raises(
        AnnotationError,
        match=rf"in.json: annotation 5 \(video 1\): '{key}' must "
        rf'list one entry per frame \(3\), {got}',
    ):
        converter.to_box_only(small_dataset(**{key: value}), source='in.json')


def test_what_training_refuses_is_refused(converter):
    from maskfreevis.datasets import AnnotationError

    with pytest.raises(AnnotationError, match=r'annotation id 5 frame 0: box must be'):
        converter.to_box_only(small_dataset(bboxes=[[1.0, 4.0], None, None]), source='in.json')


def write(path, data) -> str:
    import json

    with open(path, 'w') as handle:
        json.dump(data, handle)
    return str(path)


@pytest.mark.parametrize('alias', ['same', 'dotdot', 'symlink', 'hardlink'])
def test_output_that_is_the_input_is_refused(converter, tmp_path, alias, capsys):
    import os

    source = write(tmp_path / 'in.json', small_dataset())
    with open(source) as handle:
        before = handle.read()
    output = {
        'same': source,
        'dotdot': str(tmp_path / 'sub' / '..' / 'in.json'),
        'symlink': str(tmp_path / 'link.json'),
        'hardlink': str(tmp_path / 'hard.json'),
    }
    os.makedirs(tmp_path / 'sub')
    os.symlink(source, tmp_path / 'link.json')
    os.link(source, tmp_path / 'hard.json')
    with pytest.raises(SystemExit):
        converter.main([source, output[alias]])
    assert 'is the input file' in capsys.readouterr().err
    with open(source) as handle:
        assert handle.read() == before


def test_conversion_writes_through_a_temporary_file(converter, tmp_path):
    import json
    import os

    source = write(tmp_path / 'in.json', small_dataset())
    converter.main([source, str(tmp_path / 'out.json')])
    assert sorted(os.listdir(tmp_path)) == ['in.json', 'out.json']
    with open(tmp_path / 'out.json') as handle:
        assert json.load(handle)['annotations'][0]['segmentations'] is None


def test_unreadable_input_and_missing_output_folder_are_named(converter, tmp_path, capsys):
    from maskfreevis.datasets import AnnotationError

    truncated = tmp_path / 'in.json'
    truncated.write_text('{"videos": [{"id": 1, "file_na')
    with pytest.raises(AnnotationError, match=f'{truncated}: invalid json'):
        converter.main([str(truncated), str(tmp_path / 'out.json')])
    with pytest.raises(SystemExit):
        converter.main([str(truncated), str(tmp_path / 'missing' / 'out.json')])
    assert 'does not exist' in capsys.readouterr().err


def test_cocovid_and_coco_image_jsons_lose_their_masks(converter, tmp_path):
    """A CocoVID json failed with "videos[0] has no key 'file_names'"."""
    images = [
        dict(id=10 + f, file_name=f'v/{f}.jpg', video_id=1, frame_id=f, height=20, width=30)
        for f in range(2)
    ]
    cocovid = dict(
        videos=[dict(id=1, name='v')],
        images=images,
        annotations=[
            dict(
                id=1,
                image_id=10,
                video_id=1,
                category_id=1,
                instance_id=7,
                bbox=[1.0, 1.0, 4.0, 4.0],
                segmentation=rle_of_rectangle(1, 5, 1, 5),
            ),
            dict(
                id=2,
                image_id=11,
                video_id=1,
                category_id=1,
                instance_id=7,
                segmentation=rle_of_rectangle(4, 10, 6, 16),
            ),
        ],
        categories=[dict(id=1, name='thing')],
    )
    box_only = converter.to_box_only(cocovid, source='vid.json')
    assert [ann['bbox'] for ann in box_only['annotations']] == [
        [1.0, 1.0, 4.0, 4.0],
        [6.0, 4.0, 10.0, 6.0],
    ]
    assert not any('segmentation' in ann for ann in box_only['annotations'])
    assert 'segmentation' in cocovid['annotations'][0], 'input must not be modified'
    coco = dict(cocovid, images=[{k: v for k, v in i.items() if k != 'video_id'} for i in images])
    assert len(converter.to_box_only(coco)['annotations']) == 2
    cocovid['annotations'][1].pop('segmentation')
    with pytest.raises(
        AnnotationError, match='vid.json: annotation 2 has neither a bbox nor a mask'
    ):
        converter.to_box_only(cocovid, source='vid.json')
