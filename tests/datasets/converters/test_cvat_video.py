"""CVAT "for video 1.1" XML -> box-only YouTube-VIS json: track semantics, frames, bad input."""

import os
import os.path as osp

import numpy as np
import pytest

from maskfreevis.datasets import AnnotationError
from maskfreevis.datasets.annotation_checks import SkipCounter
from maskfreevis.datasets.converters import convert_cvat_video
from maskfreevis.datasets.converters.cvat_video import enclosing_boxes_xywh

META = """<meta><task><id>3</id><name>street</name><size>{size}</size>
<mode>interpolation</mode><start_frame>{start}</start_frame><stop_frame>{stop}</stop_frame>
<frame_filter>{filter}</frame_filter>
<labels><label><name>car</name></label><label><name>person</name></label></labels>
{original_size}</task></meta>"""
ORIGINAL_SIZE = '<original_size><width>64</width><height>48</height></original_size>'


def box(frame, xtl, ytl, xbr, ybr, outside=0, occluded=0, keyframe=1, extra=''):
    return (
        f'<box frame="{frame}" outside="{outside}" occluded="{occluded}" '
        f'keyframe="{keyframe}" xtl="{xtl}" ytl="{ytl}" xbr="{xbr}" ybr="{ybr}" '
        f'z_order="0"{extra}></box>'
    )


def write_export(folder, tracks, size=6, start=0, step=1, original_size=ORIGINAL_SIZE):
    """``folder/annotations.xml`` of one task; ``tracks`` is a list of (id, label, [boxes])."""
    os.makedirs(folder, exist_ok=True)
    body = ''.join(
        f'<track id="{track_id}" label="{label}" source="manual">{"".join(shapes)}</track>'
        for track_id, label, shapes in tracks
    )
    meta = META.format(
        size=size,
        start=start,
        stop=start + (size - 1) * step,
        filter=f'step={step}' if step > 1 else '',
        original_size=original_size,
    )
    path = osp.join(folder, 'annotations.xml')
    with open(path, 'w') as stream:
        stream.write(
            f'<?xml version="1.0" encoding="utf-8"?>\n<annotations><version>1.1'
            f'</version>{meta}{body}</annotations>'
        )
    return path


# CVAT's own export of a car on frames 0-2 and 4-5 (every frame listed, keyframe="0" for the
# interpolated ones; an outside box closes each visible run), and the same track as keyframes.
FULLY_LISTED = [
    box(0, 0, 0, 10, 10),
    box(1, 2, 0, 12, 10, keyframe=0),
    box(2, 4, 0, 14, 10),
    box(3, 4, 0, 14, 10, outside=1),
    box(4, 20, 20, 30, 40),
    box(5, 22, 20, 32, 40, keyframe=0),
]
KEYFRAMES_ONLY = [
    box(0, 0, 0, 10, 10),
    box(2, 4, 0, 14, 10),
    box(3, 4, 0, 14, 10, outside=1),
    box(4, 20, 20, 30, 40),
    box(6, 24, 20, 34, 40, outside=1),
]
EXPECTED_CAR = [
    [0.0, 0.0, 10.0, 10.0],
    [2.0, 0.0, 10.0, 10.0],
    [4.0, 0.0, 10.0, 10.0],
    None,
    [20.0, 20.0, 10.0, 20.0],
    [22.0, 20.0, 10.0, 20.0],
]


@pytest.mark.parametrize('shapes', [FULLY_LISTED, KEYFRAMES_ONLY], ids=['every-frame', 'keyframes'])
def test_both_export_styles_give_the_same_boxes(tmp_path, shapes):
    xml = write_export(str(tmp_path / 'task'), [(0, 'car', shapes)])
    skips = SkipCounter('test')
    data, _ = convert_cvat_video([xml], str(tmp_path), skips=skips)
    assert data['categories'] == [dict(id=1, name='car'), dict(id=2, name='person')]
    (video,) = data['videos']
    assert (video['width'], video['height'], video['length']) == (64, 48, 6)
    assert video['file_names'] == [f'task/images/frame_{n:06d}.png' for n in range(6)]
    (car,) = data['annotations']
    assert car['bboxes'] == EXPECTED_CAR and car['segmentations'] is None
    interpolated = skips.counts.get('boxes interpolated between listed keyframes', 0)
    assert interpolated == (0 if shapes is FULLY_LISTED else 2)


def test_last_box_held_to_the_end_and_outside_past_the_end(tmp_path):
    # A shape drawn on the last frame is exported with an outside box one step past the end.
    xml = write_export(
        str(tmp_path / 'task'),
        [
            (0, 'person', [box(3, 1, 1, 5, 5)]),
            (1, 'car', [box(5, 0, 0, 8, 8), box(6, 0, 0, 8, 8, outside=1)]),
        ],
    )
    data, _ = convert_cvat_video([xml], str(tmp_path))
    person, car = data['annotations']
    assert person['bboxes'] == [None] * 3 + [[1.0, 1.0, 4.0, 4.0]] * 3
    assert car['bboxes'] == [None] * 5 + [[0.0, 0.0, 8.0, 8.0]]


def test_absolute_frame_numbers_with_start_and_step(tmp_path):
    # Frames 10, 15, 20 of the source video are the task's positions 0, 1, 2.
    xml = write_export(
        str(tmp_path / 'task'),
        [(4, 'car', [box(10, 0, 0, 4, 4), box(20, 8, 0, 12, 4)])],
        size=3,
        start=10,
        step=5,
    )
    data, _ = convert_cvat_video([xml], str(tmp_path))
    assert data['videos'][0]['file_names'] == [
        'task/images/frame_000010.png',
        'task/images/frame_000015.png',
        'task/images/frame_000020.png',
    ]
    assert data['annotations'][0]['bboxes'] == [
        [0.0, 0.0, 4.0, 4.0],
        [4.0, 0.0, 4.0, 4.0],
        [8.0, 0.0, 4.0, 4.0],
    ]
    bad = write_export(
        str(tmp_path / 'bad'), [(4, 'car', [box(12, 0, 0, 4, 4)])], size=3, start=10, step=5
    )
    with pytest.raises(
        AnnotationError,
        match=r'<track id="4" label="car"> <box frame="12">: '
        r'frame is not one of the task frames 10 \+ k \* 5',
    ):
        convert_cvat_video([bad], str(tmp_path))


def test_images_folder_sets_names_and_size(tmp_path, image_writer):
    folder = str(tmp_path / 'exports' / 'clip')
    xml = write_export(folder, [(0, 'car', [box(0, 1, 1, 3, 3)])], size=2, original_size='')
    image_writer(osp.join(folder, 'images'), ['b.jpg', 'a.jpg'], width=40, height=32)
    data, _ = convert_cvat_video([xml], str(tmp_path / 'exports'))
    (video,) = data['videos']
    assert video['file_names'] == ['clip/images/a.jpg', 'clip/images/b.jpg']
    assert (video['width'], video['height']) == (40, 32)
    image_writer(osp.join(folder, 'images'), ['c.jpg'], width=40, height=32)
    with pytest.raises(AnnotationError, match='the task has 2 frames but .* holds 3 images'):
        convert_cvat_video([xml], str(tmp_path / 'exports'))


def test_no_size_anywhere_asks_for_it(tmp_path):
    xml = write_export(str(tmp_path / 'task'), [], original_size='')
    with pytest.raises(AnnotationError, match=r'pass the size \(--image-size W H\)'):
        convert_cvat_video([xml], str(tmp_path))
    data, _ = convert_cvat_video([xml], str(tmp_path), image_size=(320, 240))
    assert (data['videos'][0]['width'], data['videos'][0]['height']) == (320, 240)


def test_occluded_rotation_and_other_shapes(tmp_path):
    xml = write_export(
        str(tmp_path / 'task'),
        [
            (
                0,
                'car',
                [
                    box(0, 0, 0, 10, 4, occluded=1),
                    box(1, 0, 0, 10, 4),
                    box(2, 0, 0, 10, 4, outside=1),
                ],
            ),
            (
                1,
                'person',
                [box(0, 10, 10, 20, 14, extra=' rotation="90"'), box(1, 10, 10, 20, 14, outside=1)],
            ),
            (
                2,
                'person',
                [
                    '<polygon frame="0" outside="0" occluded="0" keyframe="1" '
                    'points="1,1;5,1;5,5"></polygon>'
                ],
            ),
        ],
    )
    with open(xml) as stream:
        text = stream.read()
    with open(xml, 'w') as stream:
        stream.write(text.replace('</annotations>', '<tag frame="2" label="car"/></annotations>'))
    skips = SkipCounter('test')
    data, _ = convert_cvat_video([xml], str(tmp_path), drop_occluded=True, skips=skips)
    car, person = data['annotations']
    assert car['bboxes'][:3] == [None, [0.0, 0.0, 10.0, 4.0], None]
    # A 10 x 4 box turned by 90 degrees about its centre (15, 12) is 4 x 10.
    np.testing.assert_allclose(person['bboxes'][0], [13.0, 7.0, 4.0, 10.0], atol=1e-9)
    assert skips.counts["tracks of non-box shapes ['polygon'] (skipped)"] == 1
    assert skips.counts['occluded boxes (dropped)'] == 1
    assert skips.counts['<tag> elements (frame labels, no box; skipped)'] == 1
    assert skips.counts['rotated boxes (replaced by their enclosing axis-aligned box)'] == 1


def test_enclosing_boxes_and_rotation_interpolation():
    boxes = np.array([[0.0, 0.0, 4.0, 2.0], [0.0, 0.0, 4.0, 2.0]])
    result = enclosing_boxes_xywh(boxes, np.array([0.0, 180.0]))
    np.testing.assert_allclose(result, [[0.0, 0.0, 4.0, 2.0], [0.0, 0.0, 4.0, 2.0]], atol=1e-9)
    assert result[0].tolist() == [0.0, 0.0, 4.0, 2.0]  # unrotated: exact


def test_classes_select_and_order_labels(tmp_path):
    xml = write_export(
        str(tmp_path / 'task'),
        [(0, 'car', [box(0, 0, 0, 4, 4)]), (1, 'person', [box(0, 5, 5, 9, 9)])],
    )
    skips = SkipCounter('test')
    data, _ = convert_cvat_video([xml], str(tmp_path), classes=['person'], skips=skips)
    assert data['categories'] == [dict(id=1, name='person')]
    assert [ann['category_id'] for ann in data['annotations']] == [1]
    assert skips.counts["tracks of label 'car' (not requested; dropped)"] == 1
    with pytest.raises(AnnotationError, match=r"classes \['bus'\] are not labels"):
        convert_cvat_video([xml], str(tmp_path), classes=['bus'])


def test_round_trip_through_box_vis_dataset(tmp_path, load_converted, boxes_per_frame):
    xml = write_export(
        str(tmp_path / 'task'), [(0, 'car', KEYFRAMES_ONLY), (1, 'person', [box(1, 30, 5, 40, 25)])]
    )
    data, _ = convert_cvat_video([xml], str(tmp_path))
    dataset = load_converted(data, str(tmp_path))
    assert dataset.metainfo['classes'] == ('car', 'person')
    frames = boxes_per_frame(dataset, 0)
    assert frames[0] == {1: [0.0, 0.0, 10.0, 10.0]}
    assert frames[1] == {1: [2.0, 0.0, 12.0, 10.0], 2: [30.0, 5.0, 40.0, 25.0]}
    assert frames[3] == {2: [30.0, 5.0, 40.0, 25.0]}
    labels = [
        instance['bbox_label'] for instance in dataset.get_data_info(0)['images'][1]['instances']
    ]
    assert labels == [0, 1]


@pytest.mark.parametrize(
    'tracks, message',
    [
        (
            [(0, 'car', [box(0, 'abc', 0, 4, 4)])],
            r'annotations.xml: <track id="0" label="car"> <box frame="0">: '
            r"xtl='abc' is not a number",
        ),
        ([(0, 'car', [box(0, 5, 0, 4, 4)])], r'<box frame="0">: negative size \(xbr < xtl'),
        (
            [(0, 'car', [box(9, 0, 0, 4, 4)])],
            r'<box frame="9">: frame is not one of the task frames',
        ),
        (
            [(0, 'car', [box(1, 0, 0, 4, 4), box(1, 1, 1, 4, 4)])],
            r'<box frame="1">: this track already has a box on this frame',
        ),
        (
            [(0, 'car', [box(0, 0, 0, 4, 4)]), (0, 'car', [box(1, 0, 0, 4, 4)])],
            r'<track id="0" label="car">: track id 0 is used twice',
        ),
        ([(0, 'bus', [box(0, 0, 0, 4, 4)])], r"label 'bus' is not among the task labels"),
    ],
)
def test_bad_elements_name_the_file_and_element(tmp_path, tracks, message):
    xml = write_export(str(tmp_path / 'task'), tracks)
    with pytest.raises(AnnotationError, match=message):
        convert_cvat_video([xml], str(tmp_path))


@pytest.mark.parametrize(
    'content, message',
    [
        ('<annotations><track id="0"', r'annotations.xml: not well-formed XML \(.*line 1'),
        (
            '<annotations><meta><project><tasks/></project></meta></annotations>',
            'this is a project export',
        ),
        (
            '<annotations><meta><task><size>1</size></task></meta><image id="0" name="a.jpg"/>'
            '</annotations>',
            'this is a "CVAT for images" export',
        ),
        ('<dataset/>', 'the root element is <dataset>'),
        (
            '<annotations><meta><task><name>x</name></task></meta></annotations>',
            r'<meta><task> has no <size>',
        ),
    ],
)
def test_wrong_files_are_refused_with_the_reason(tmp_path, content, message):
    path = tmp_path / 'annotations.xml'
    path.write_text(content)
    with pytest.raises(AnnotationError, match=message):
        convert_cvat_video([str(path)], str(tmp_path))
