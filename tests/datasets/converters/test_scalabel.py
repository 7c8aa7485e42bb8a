"""BDD100K / Scalabel box-tracking json -> box-only YouTube-VIS json."""

import json
import os.path as osp

import pytest

from maskfreevis.datasets import AnnotationError
from maskfreevis.datasets.annotation_checks import SkipCounter
from maskfreevis.datasets.converters import convert_scalabel


def label(label_id, category, x1, y1, x2, y2, crowd=False):
    return {
        'id': label_id,
        'category': category,
        'attributes': {'occluded': False, 'truncated': False, 'crowd': crowd},
        'box2d': {'x1': x1, 'y1': y1, 'x2': x2, 'y2': y2},
    }


def bdd_video(name, labels_per_frame, size=True):
    """BDD100K box_track_20 layout: one list of frames per video file, listed out of order."""
    frames = [
        {
            'name': f'{name}-{index + 1:07d}.jpg',
            'videoName': name,
            'frameIndex': index,
            'labels': labels,
        }
        for index, labels in enumerate(labels_per_frame)
    ]
    if size:
        for frame in frames:
            frame['size'] = {'width': 1280, 'height': 720}
    return list(reversed(frames))


def dump(path, data):
    with open(path, 'w') as stream:
        json.dump(data, stream)
    return str(path)


@pytest.fixture
def bdd_folder(tmp_path):
    folder = tmp_path / 'box_track_20'
    folder.mkdir()
    dump(
        folder / 'b1c66a42-6f7d68ca.json',
        bdd_video(
            'b1c66a42-6f7d68ca',
            [
                [label('1', 'car', 10, 20, 49, 39), label('2', 'other vehicle', 0, 0, 9, 9)],
                [
                    label('2', 'other vehicle', 1, 1, 9, 9),
                    {
                        'id': '3',
                        'category': 'pedestrian',
                        'poly2d': [{'vertices': [[0, 0], [1, 1]]}],
                    },
                ],
                [
                    label('1', 'car', 12, 20, 51, 39),
                    label('4', 'pedestrian', 5, 5, 14, 34, crowd=True),
                ],
            ],
        ),
    )
    dump(
        folder / 'c0ffee00-12345678.json',
        bdd_video(
            'c0ffee00-12345678',
            [
                [label('1', 'pedestrian', 100, 100, 109, 129)],
                [],
            ],
        ),
    )
    return str(folder)


def test_bdd100k_values_and_choices(bdd_folder):
    skips = SkipCounter('test')
    data, files = convert_scalabel(
        [bdd_folder], classes=['pedestrian', 'car'], ignore_classes=['other vehicle'], skips=skips
    )
    assert data['categories'] == [dict(id=1, name='pedestrian'), dict(id=2, name='car')]
    first, second = data['videos']
    # Frames ordered by frameIndex, file names videoName/name, size from the frames.
    assert first['file_names'] == [
        f'b1c66a42-6f7d68ca/b1c66a42-6f7d68ca-{n:07d}.jpg' for n in (1, 2, 3)
    ]
    assert (first['width'], first['height'], first['length']) == (1280, 720, 3)
    assert second['length'] == 2
    car, crowd, pedestrian = data['annotations']
    # Inclusive corners: w = x2 - x1 + 1.
    assert car['bboxes'] == [[10.0, 20.0, 40.0, 20.0], None, [12.0, 20.0, 40.0, 20.0]]
    assert car['category_id'] == 2 and car['iscrowd'] == 0
    assert crowd['bboxes'] == [None, None, [5.0, 5.0, 10.0, 30.0]] and crowd['iscrowd'] == 1
    assert pedestrian['video_id'] == 2 and pedestrian['bboxes'] == [
        [100.0, 100.0, 10.0, 30.0],
        None,
    ]
    assert skips.counts == {
        'labels without box2d (skipped)': 1,
        'labels of ignored categories (dropped)': 2,
    }
    assert skips.examples['labels without box2d (skipped)'] == [
        osp.join(bdd_folder, 'b1c66a42-6f7d68ca.json') + ': [1].labels[1]'
    ]
    assert len(files) == 2


def test_scalabel_dataset_file_with_config(tmp_path):
    frames = [
        {'name': 'clip/0001.jpg', 'videoName': 'clip', 'labels': [label(7, 'bike', 0, 0, 9, 9)]},
        {'name': 'clip/0002.jpg', 'videoName': 'clip', 'labels': []},
    ]
    config = {
        'imageSize': {'width': 640, 'height': 480},
        'categories': [{'name': 'vehicle', 'subcategories': [{'name': 'bike'}, {'name': 'car'}]}],
    }
    path = dump(tmp_path / 'dataset.json', {'frames': frames, 'config': config})
    data, _ = convert_scalabel([path], inclusive_corners=False)
    # Leaf categories of the config; a name with a folder is used as it is; list order kept.
    assert data['categories'] == [dict(id=1, name='bike'), dict(id=2, name='car')]
    assert data['videos'][0]['file_names'] == ['clip/0001.jpg', 'clip/0002.jpg']
    assert (data['videos'][0]['width'], data['videos'][0]['height']) == (640, 480)
    assert data['annotations'][0]['bboxes'] == [[0.0, 0.0, 9.0, 9.0], None]
    frames[0]['labels'].append(label(8, 'lorry', 0, 0, 1, 1))
    dump(tmp_path / 'dataset.json', {'frames': frames, 'config': config})
    with pytest.raises(
        AnnotationError,
        match=r'dataset.json: frames\[0\].labels\[1\]: unknown '
        r"category 'lorry'",
    ):
        convert_scalabel([path])


def test_categories_from_the_data_and_size_fallbacks(tmp_path, image_writer):
    frames = bdd_video(
        'v', [[label(1, 'zebra', 0, 0, 3, 3), label(2, 'ant', 0, 0, 3, 3)]], size=False
    )
    path = dump(tmp_path / 'v.json', frames)
    with pytest.raises(
        AnnotationError,
        match=r'v.json: \[0\] \(v\): the frame size is not in the '
        r'annotations.*--image-size',
    ):
        convert_scalabel([path])
    data, _ = convert_scalabel([path], image_size=(32, 24))
    assert data['categories'] == [dict(id=1, name='ant'), dict(id=2, name='zebra')]
    assert (data['videos'][0]['width'], data['videos'][0]['height']) == (32, 24)
    image_writer(str(tmp_path / 'images' / 'v'), ['v-0000001.jpg'], width=50, height=40)
    data, _ = convert_scalabel([path], image_root=str(tmp_path / 'images'))
    assert (data['videos'][0]['width'], data['videos'][0]['height']) == (50, 40)


def test_round_trip_through_box_vis_dataset(bdd_folder, tmp_path, load_converted, boxes_per_frame):
    data, _ = convert_scalabel([bdd_folder], ignore_classes=['other vehicle'])
    dataset = load_converted(data, str(tmp_path))
    assert dataset.metainfo['classes'] == ('car', 'pedestrian')
    frames = boxes_per_frame(dataset, 0)
    assert frames == [
        {1: [10.0, 20.0, 50.0, 40.0]},
        {},
        {1: [12.0, 20.0, 52.0, 40.0], 2: [5.0, 5.0, 15.0, 35.0]},
    ]
    crowd_flags = [
        instance['ignore_flag'] for instance in dataset.get_data_info(0)['images'][2]['instances']
    ]
    assert crowd_flags == [0, 1]


@pytest.mark.parametrize(
    'labels, message',
    [
        ([label('1', 'car', 10, 0, 5, 5)], r'\[0\].labels\[0\].box2d: negative size'),
        (
            [label('1', 'car', 'a', 0, 5, 5)],
            r'\[0\].labels\[0\].box2d.x1: expected a finite number, '
            r"got 'a'",
        ),
        (
            [label('1', 'car', 0, 0, 5, 5), label('1', 'car', 1, 1, 5, 5)],
            r'\[0\].labels\[1\]: object 1 already has a box on this frame \(.*\[0\].labels\[0\]\)',
        ),
        ([label('1', 'bus', 0, 0, 5, 5)], r"\[0\].labels\[0\]: unknown category 'bus'"),
        (
            [{'category': 'car', 'box2d': {'x1': 0, 'y1': 0, 'x2': 1, 'y2': 1}}],
            r'\[0\].labels\[0\]: a label needs "id"',
        ),
    ],
)
def test_bad_labels_name_the_file_and_json_path(tmp_path, labels, message):
    path = dump(tmp_path / 'v.json', bdd_video('v', [labels]))
    with pytest.raises(AnnotationError, match=r'v.json: ' + message):
        convert_scalabel([path], classes=['car'])


def test_bad_frames_name_the_file_and_json_path(tmp_path):
    frames = bdd_video('v', [[], []])
    frames[0]['frameIndex'] = frames[1]['frameIndex']
    path = dump(tmp_path / 'v.json', frames)
    with pytest.raises(
        AnnotationError,
        match=r"v.json: \[1\]: video 'v' already has frameIndex 0 "
        r'at .*v.json: \[0\]',
    ):
        convert_scalabel([path])
    moving = bdd_video('v', [[label(1, 'car', 0, 0, 1, 1)], [label(1, 'bus', 0, 0, 1, 1)]])
    dump(tmp_path / 'v.json', moving)
    with pytest.raises(
        AnnotationError,
        match=r"\[0\].labels\[0\]: object 1 is 'bus' here but "
        r"'car' at .*\[1\].labels\[0\]",
    ):
        convert_scalabel([path])
    dump(tmp_path / 'v.json', {'videos': []})
    with pytest.raises(AnnotationError, match='expected a list of frames'):
        convert_scalabel([path])
    with pytest.raises(AnnotationError, match='no such file or folder'):
        convert_scalabel([str(tmp_path / 'missing.json')])
