"""MOTChallenge gt.txt and CVAT "MOT 1.1" exports -> box-only YouTube-VIS json."""

import os
import os.path as osp

import pytest

from maskfreevis.datasets import AnnotationError
from maskfreevis.datasets.annotation_checks import SkipCounter
from maskfreevis.datasets.converters import convert_mot, find_mot_sequences

SEQINFO = (
    '[Sequence]\nname={name}\nimDir=img1\nframeRate=30\nseqLength={length}\n'
    'imWidth=64\nimHeight=48\nimExt=.jpg\n'
)
# frame, id, x, y, w, h, flag, class, visibility
MOT17_GT = """\
1,1,10,12,20,30,1,1,0.9
2,1,11,12,20,30,1,1,0.8
4,1,13,12,20,30,1,1,0.1
1,2,1,1,5,5,0,7,1
2,2,2,2,5,5,0,1,1
3,3,2,2,6,6,1,-1,1

3,4,5,5,4,4,1,3,1
"""


def write_sequence(root, name, gt_text, length=4, seqinfo=True, labels=None):
    folder = osp.join(root, name)
    os.makedirs(osp.join(folder, 'gt'))
    with open(osp.join(folder, 'gt', 'gt.txt'), 'w') as stream:
        stream.write(gt_text)
    if seqinfo:
        with open(osp.join(folder, 'seqinfo.ini'), 'w') as stream:
            stream.write(SEQINFO.format(name=name, length=length))
    if labels is not None:
        with open(osp.join(folder, 'gt', 'labels.txt'), 'w') as stream:
            stream.write('\n'.join(labels) + '\n')
    return folder


def test_mot17_sequence_values_and_choices(tmp_path):
    root = str(tmp_path)
    write_sequence(root, 'MOT17-02-FRCNN', MOT17_GT)
    skips = SkipCounter('test')
    data, inputs = convert_mot(find_mot_sequences(root), root, skips=skips)

    assert data['categories'] == [dict(id=1, name='pedestrian')]
    (video,) = data['videos']
    assert video == dict(
        id=1,
        width=64,
        height=48,
        length=4,
        file_names=[f'MOT17-02-FRCNN/img1/{n:06d}.jpg' for n in range(1, 5)],
    )
    first, second = data['annotations']
    # 1-based frames: frame 1 is position 0; no box on frame 3 -> null.
    assert first['bboxes'] == [
        [10.0, 12.0, 20.0, 30.0],
        [11.0, 12.0, 20.0, 30.0],
        None,
        [13.0, 12.0, 20.0, 30.0],
    ]
    assert first['areas'] == [600.0, 600.0, None, 600.0]
    assert first['segmentations'] is None and first['iscrowd'] == 0
    # Class -1 counts as pedestrian.
    assert second['bboxes'] == [None, None, [2.0, 2.0, 6.0, 6.0], None]
    # Flag-0 rows (a static person and a pedestrian) and the car are dropped, counted with lines.
    gt_file = osp.join(root, 'MOT17-02-FRCNN', 'gt', 'gt.txt')
    assert skips.counts == {
        'rows with flag 0 (ignored by the benchmark; dropped)': 2,
        "rows of class 'car' (not requested; dropped)": 1,
    }
    assert skips.examples["rows of class 'car' (not requested; dropped)"] == [f'{gt_file}:8']
    assert inputs == [gt_file, osp.join(root, 'MOT17-02-FRCNN', 'seqinfo.ini')]


# frame, id, x, y, w, h, conf, world x, y, z (2DMOT2015)
MOT15_GT = """\
1,1,10,12,20,30,1,-1,-1,-1
2,1,11,12,20,30,1,-1,-1,-1
4,1,13.5,12,20,30,1,-1,-1,-1
3,2,2,2,6,6,1,-1,-1,-1
2,3,2,2,6,6,0,-1,-1,-1
3,4,40,20,8,16,1,4.2,-1.5,0
"""


def test_mot15_layout_keeps_every_pedestrian(tmp_path):
    """The world x (-1) was read as the class and the world y (-1) as visibility, so every row
    was dropped: an empty dataset, without a word."""
    root = str(tmp_path)
    write_sequence(root, 'ADL-Rundle-6', MOT15_GT)
    skips = SkipCounter('test')
    data, _ = convert_mot(find_mot_sequences(root), root, skips=skips, min_visibility=0.5)
    assert data['categories'] == [dict(id=1, name='pedestrian')]
    boxes = {ann['id']: ann['bboxes'] for ann in data['annotations']}
    assert boxes == {
        1: [[10.0, 12.0, 20.0, 30.0], [11.0, 12.0, 20.0, 30.0], None, [13.5, 12.0, 20.0, 30.0]],
        2: [None, None, [2.0, 2.0, 6.0, 6.0], None],
        3: [None, None, [40.0, 20.0, 8.0, 16.0], None],  # world coordinates of a 3D file
    }
    # a conf of 0 is the benchmark's "ignore", as the flag of the later layouts
    assert skips.counts == {'rows with flag 0 (ignored by the benchmark; dropped)': 1}


def test_classes_and_visibility_options(tmp_path):
    root = str(tmp_path)
    write_sequence(root, 'seq', MOT17_GT)
    data, _ = convert_mot(
        find_mot_sequences(root), root, classes=['car', 'pedestrian'], min_visibility=0.5
    )
    assert data['categories'] == [dict(id=1, name='car'), dict(id=2, name='pedestrian')]
    by_id = {ann['id']: ann for ann in data['annotations']}
    # Track 1's frame-4 box (visibility 0.1) is dropped; the car is kept.
    assert by_id[1]['bboxes'][3] is None and by_id[1]['category_id'] == 2
    assert [ann['category_id'] for ann in data['annotations']] == [2, 2, 1]
    with pytest.raises(AnnotationError, match=r"classes \['lorry'\]"):
        convert_mot(find_mot_sequences(root), root, classes=['lorry'])


def test_cvat_mot_export_with_labels_and_images(tmp_path, image_writer):
    root = str(tmp_path / 'export')
    folder = write_sequence(
        root,
        'task_7',
        '1,5,3,4,10,8,1,2,1.0\n3,5,4,4,10,8,1,2,0\n2,6,0,0,4,4,1,1,1\n',
        seqinfo=False,
        labels=['cat', 'dog'],
    )
    image_writer(
        osp.join(folder, 'img1'),
        ['frame_000000.png', 'frame_000001.png', 'frame_000002.png'],
        width=40,
        height=36,
    )
    data, inputs = convert_mot(find_mot_sequences(folder), root)
    assert data['categories'] == [dict(id=1, name='cat'), dict(id=2, name='dog')]
    (video,) = data['videos']
    assert (video['width'], video['height'], video['length']) == (40, 36, 3)
    assert video['file_names'][0] == 'task_7/img1/frame_000000.png'
    dog, cat = data['annotations']
    assert dog['category_id'] == 2 and dog['bboxes'] == [
        [3.0, 4.0, 10.0, 8.0],
        None,
        [4.0, 4.0, 10.0, 8.0],
    ]
    assert cat['category_id'] == 1 and cat['bboxes'] == [None, [0.0, 0.0, 4.0, 4.0], None]
    assert osp.join(folder, 'gt', 'labels.txt') in inputs

    sized, _ = convert_mot([folder], root, image_size=(400, 300))
    assert (sized['videos'][0]['width'], sized['videos'][0]['height']) == (400, 300)


def test_round_trip_through_box_vis_dataset(tmp_path, load_converted, boxes_per_frame):
    root = str(tmp_path)
    write_sequence(root, 'seq', MOT17_GT)
    data, _ = convert_mot(find_mot_sequences(root), root)
    dataset = load_converted(data, root)
    assert dataset.metainfo['classes'] == ('pedestrian',)
    frames = boxes_per_frame(dataset, 0)
    assert frames == [
        {1: [10.0, 12.0, 30.0, 42.0]},
        {1: [11.0, 12.0, 31.0, 42.0]},
        {2: [2.0, 2.0, 8.0, 8.0]},
        {1: [13.0, 12.0, 33.0, 42.0]},
    ]
    video = dataset.get_data_info(0)
    assert video['images'][0]['img_path'] == osp.join(root, 'seq/img1/000001.jpg')
    assert all(
        instance['bbox_label'] == 0 for frame in video['images'] for instance in frame['instances']
    )


@pytest.mark.parametrize(
    'line, message',
    [
        ('1,1,a,2,3,4,1,1,1', r"gt.txt:2: column 'x' is not a number: 'a'"),
        ('1,1,2,2,-3,4,1,1,1', r'gt.txt:2: box width and height must be > 0'),
        ('0,1,2,2,3,4,1,1,1', r'gt.txt:2: frame is outside the sequence \(1..4, 1-based\)'),
        ('5,1,2,2,3,4,1,1,1', r'gt.txt:2: frame is outside the sequence'),
        ('1.5,1,2,2,3,4,1,1,1', r'gt.txt:2: frame must be an integer'),
        (
            '1,9,2,2,3,4,1,1,1\n1,9,5,5,3,4,1,1,1',
            r'gt.txt:3: object 9 already has a box on this frame \(.*gt.txt:2\)',
        ),
        ('1,1,2,2,3', r'gt.txt:2: expected 6 to 9 comma-separated columns'),
        ('1,1,2,2,3,4,1,-1,-1,-1,0', r'gt.txt:2: expected 6 to 9 .* or the 10 of MOT15 .*got 11'),
        (
            '1,1,2,2,3,4,1,-1,-1,-1\n2,1,2,2,3,4,1,1,1',
            r'gt.txt:3: 9 columns, but line 2 has the 10 of MOT15 \(frame, id, x, y, w, h, conf, '
            r'world_x, world_y, world_z\); a gt.txt has one layout',
        ),
        ('1,1,2,2,3,4,1,42,1', r'gt.txt:2: class is not a MOTChallenge class id'),
        ('1,1,2,2,3,4,1,nan,1', r'gt.txt:2: class must be an integer'),
        (
            '2,3,2,2,3,4,1,1,1\n3,3,2,2,3,4,1,3,1',
            r"gt.txt:3: object 3 is 'car' here but "
            r"'pedestrian' at .*gt.txt:2",
        ),
    ],
)
def test_bad_lines_name_the_file_and_line(tmp_path, line, message):
    root = str(tmp_path)
    write_sequence(root, 'seq', f'# frame,id,...\n{line}\n')
    with pytest.raises(AnnotationError, match=message):
        convert_mot(find_mot_sequences(root), root, classes=['pedestrian', 'car'])


def test_cvat_class_beyond_labels_and_missing_layout(tmp_path, image_writer):
    root = str(tmp_path)
    folder = write_sequence(
        root, 'task', '1,1,2,2,3,4,1,3,1\n', seqinfo=False, labels=['cat', 'dog']
    )
    image_writer(osp.join(folder, 'img1'), ['a.png'], 8, 8)
    with pytest.raises(
        AnnotationError,
        match=r'gt.txt:1: class must be a 1-based line of '
        r'labels.txt \(1..2\)',
    ):
        convert_mot([folder], root)
    bare = write_sequence(root, 'bare', '1,1,2,2,3,4\n', seqinfo=False)
    with pytest.raises(AnnotationError, match='neither seqinfo.ini nor frame images in img1/'):
        convert_mot([bare], root)
    with pytest.raises(AnnotationError, match='no sequence folder with gt/gt.txt'):
        find_mot_sequences(str(tmp_path / 'task' / 'img1'))
