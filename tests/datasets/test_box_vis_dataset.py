"""BoxVISDataset: ORIGINAL YouTube-VIS and CocoVID json, box-only data, every bad-input case."""

import copy
import os
import os.path as osp

import cv2
import numpy as np
import pycocotools.mask as mask_utils
import pytest
from mmdet.registry import DATASETS
from PIL import Image

from maskfreevis.datasets import AnnotationError, BoxVISDataset, FrameError


def build(ann_file, img_root, **kwargs):
    cfg = dict(
        type='BoxVISDataset', ann_file=ann_file, data_prefix=dict(img_path=img_root), pipeline=[]
    )
    cfg.update(kwargs)
    return DATASETS.build(cfg)


@pytest.fixture
def box_only(tmp_path, vis_root, vis):
    return vis.box_only_ytvis(vis_root)


def test_original_json_loads_box_only_tracks(tmp_path, vis_root, vis, box_only):
    ann_file = vis.dump_json(str(tmp_path / 'train.json'), box_only)
    dataset = build(ann_file, vis_root)

    # Classes from categories sorted by id (the json lists dog=2 before cat=1).
    assert dataset.metainfo['classes'] == ('cat', 'dog')
    # vid_c has no annotated frame: skipped in training and counted.
    assert len(dataset) == 2
    assert dataset.skip_counts == {'training videos without any annotated frame (skipped)': 1}
    video = dataset.get_data_info(0)
    assert (video['video_id'], video['video_length'], len(video['images'])) == (1, 6, 6)
    for frame_id, frame in enumerate(video['images']):
        assert frame['frame_id'] == frame_id
        assert frame['img_path'] == osp.join(vis_root, f'vid_a/{frame_id:05d}.jpg')
        assert (frame['height'], frame['width'], frame['video_id']) == (32, 48, 1)
        for instance in frame['instances']:
            assert 'mask' not in instance  # box-only: no mask key at all
            assert instance['ignore_flag'] == 0
    frame0, frame3, frame5 = (video['images'][i]['instances'] for i in (0, 3, 5))
    # Track 11 (cat): [2 + i, 3, 10, 8] xywh -> xyxy; track 12 (dog) only on frames 2-4.
    assert frame0 == [dict(bbox=[2.0, 3.0, 12.0, 11.0], bbox_label=0, ignore_flag=0, instance_id=1)]
    assert [i['bbox'] for i in frame3] == [[5.0, 3.0, 15.0, 11.0], [21.0, 10.0, 27.0, 22.0]]
    assert [i['bbox_label'] for i in frame3] == [0, 1]
    assert [i['instance_id'] for i in frame3] == [1, 2]
    assert [i['instance_id'] for i in frame5] == [1]
    video_b = dataset.get_data_info(1)
    assert [f['instances'][0]['instance_id'] for f in video_b['images']] == [3, 3]
    assert len({f['img_id'] for v in (video, video_b) for f in v['images']}) == 8


def test_cocovid_json_gives_the_same_data_list(tmp_path, vis_root, vis, box_only):
    original = build(vis.dump_json(str(tmp_path / 'orig.json'), box_only), vis_root)
    cocovid = build(vis.dump_json(str(tmp_path / 'vid.json'), vis.to_cocovid(box_only)), vis_root)
    assert cocovid.data_format == 'cocovid' and original.data_format == 'youtube_vis'
    assert cocovid.metainfo == original.metainfo
    assert len(cocovid) == len(original)
    for index in range(len(original)):
        expected, got = original.get_data_info(index), cocovid.get_data_info(index)
        assert got['video_id'] == expected['video_id']
        assert got['video_length'] == expected['video_length']
        for frame_e, frame_g in zip(expected['images'], got['images']):
            # Images were listed in reverse: the loader sorted them by frame_id.
            assert frame_g['img_path'] == frame_e['img_path']
            assert frame_g['frame_id'] == frame_e['frame_id']
            assert frame_g['instances'] == frame_e['instances']


def test_segmentations_become_instance_masks_where_present(tmp_path, vis_root, vis, box_only):
    data = copy.deepcopy(box_only)
    rle = box_rle([21, 10, 6, 12], vis)  # the dataset passes it through as is
    polygon = vis.box_polygon([20, 10, 6, 12])
    data['annotations'][1]['segmentations'] = [None, None, polygon, rle, None, None]
    dataset = build(vis.dump_json(str(tmp_path / 'seg.json'), data), vis_root)
    frames = dataset.get_data_info(0)['images']
    dog = [[i for i in f['instances'] if i['bbox_label'] == 1] for f in frames]
    assert dog[2][0]['mask'] == polygon
    assert dog[3][0]['mask'] == rle
    assert 'mask' not in dog[4][0]  # box without segmentation on this frame
    assert all('mask' not in i for f in frames for i in f['instances'] if i['bbox_label'] == 0)


def box_rle(box, vis) -> dict:
    """The compressed RLE (``counts`` a str) of an ``[x, y, w, h]`` box in a frame."""
    x, y, w, h = box
    mask = np.zeros((vis.FRAME_H, vis.FRAME_W), np.uint8)
    mask[y : y + h, x : x + w] = 1
    rle = mask_utils.encode(np.asfortranarray(mask))
    return dict(size=rle['size'], counts=rle['counts'].decode())


@pytest.mark.parametrize('layout', ['youtube_vis', 'cocovid'])
def test_corrupt_masks_are_refused_when_the_json_is_read(tmp_path, vis_root, vis, box_only, layout):
    """pycocotools loops forever on RLE counts that do not cover the frame; a 2-point polygon
    fails inside it after the whole inference."""
    data = copy.deepcopy(box_only)
    rle = box_rle([21, 10, 6, 12], vis)
    truncated = dict(rle, counts=rle['counts'][:-2])
    data['annotations'][1]['segmentations'] = [None, None, rle, truncated, [[1, 2, 3, 4]], None]
    if layout == 'cocovid':
        data = vis.to_cocovid(data)
    ann_file = vis.dump_json(str(tmp_path / 'val.json'), data)
    with pytest.raises(AnnotationError) as error:
        build(ann_file, vis_root, test_mode=True)
    message = str(error.value)
    assert message.startswith(f'{ann_file}: 2 bad segmentation(s): video 1 frame 3, annotation id ')
    assert 'RLE counts are not a valid compressed string' in message
    assert 'the mask is cut short or corrupt' in message
    assert (
        'frame 4, annotation id' in message and 'polygon 0 must list at least 3 points' in message
    )


def test_metainfo_classes_restrict_and_order(tmp_path, vis_root, vis, box_only, log_records):
    ann_file = vis.dump_json(str(tmp_path / 'train.json'), box_only)
    dataset = build(ann_file, vis_root, metainfo=dict(classes=['dog']))
    assert dataset.metainfo['classes'] == ('dog',)
    # Only vid_a has a dog; 6 + 2 cat boxes are dropped, vid_b and vid_c become empty.
    assert len(dataset) == 1
    assert dataset.skip_counts['boxes of categories not in metainfo classes (dropped)'] == 8
    assert dataset.skip_counts['training videos without any annotated frame (skipped)'] == 2
    labels = {i['bbox_label'] for f in dataset.get_data_info(0)['images'] for i in f['instances']}
    assert labels == {0}
    with pytest.raises(AnnotationError, match=r"\['horse'\]"):
        build(ann_file, vis_root, metainfo=dict(classes=['dog', 'horse']))


def test_custom_categories_not_ytvis(tmp_path, vis_root, vis, box_only):
    data = copy.deepcopy(box_only)
    data['categories'] = [
        dict(id=1, name='widget'),
        dict(id=2, name='gadget'),
        dict(id=7, name='gizmo'),
    ]
    dataset = build(vis.dump_json(str(tmp_path / 'c.json'), data), vis_root)
    assert dataset.metainfo['classes'] == ('widget', 'gadget', 'gizmo')


def test_test_mode_without_annotations_keeps_whole_videos(tmp_path, vis_root, vis, box_only):
    data = dict(videos=box_only['videos'], categories=box_only['categories'])
    ann_file = vis.dump_json(str(tmp_path / 'valid.json'), data)
    test_pipeline = [
        dict(type='TransformBroadcaster', transforms=[dict(type='LoadImageFromFile')]),
        dict(type='PackTrackInputs'),
    ]
    dataset = build(ann_file, vis_root, test_mode=True, pipeline=test_pipeline)
    assert len(dataset) == 3  # vid_c kept, no annotation anywhere
    sample = dataset[2]
    assert tuple(sample['inputs'].shape) == (3, 3, 32, 48)
    frames = sample['data_samples'].video_data_samples
    assert [f.frame_id for f in frames] == [0, 1, 2]
    assert all(f.ori_video_length == 3 and f.video_length == 3 for f in frames)
    # The same json cannot train: annotations are required.
    with pytest.raises(AnnotationError, match="no key 'annotations'"):
        build(ann_file, vis_root)


def test_missing_keys_name_file_and_record(tmp_path, vis_root, vis, box_only):
    cases = [
        (lambda d: d['videos'][1].pop('file_names'), r"video.*has no key 'file_names'"),
        (lambda d: d['annotations'][2].pop('bboxes'), r"annotation id 21 has no key 'bboxes'"),
        (
            lambda d: d['annotations'][0].pop('category_id'),
            r"annotation id 11 has no key 'category_id'",
        ),
        (lambda d: d['categories'][0].pop('name'), r"categories\[0\] has no key 'name'"),
        (lambda d: d.pop('categories'), r"no key 'categories'"),
        (lambda d: d.pop('videos'), r"neither 'videos'.*nor 'images'"),
    ]
    for index, (break_json, pattern) in enumerate(cases):
        data = copy.deepcopy(box_only)
        break_json(data)
        ann_file = vis.dump_json(str(tmp_path / f'broken{index}.json'), data)
        with pytest.raises(AnnotationError, match=pattern) as error:
            build(ann_file, vis_root)
        assert ann_file in str(error.value)


def test_cocovid_missing_instance_id_names_annotation(tmp_path, vis_root, vis, box_only):
    data = vis.to_cocovid(box_only)
    bad_id = data['annotations'][4]['id']
    del data['annotations'][4]['instance_id']
    with pytest.raises(AnnotationError, match=f"annotation id {bad_id} has no key 'instance_id'"):
        build(vis.dump_json(str(tmp_path / 'vid.json'), data), vis_root)


def test_structural_errors(tmp_path, vis_root, vis, box_only):
    cases = [
        (lambda d: d['annotations'][0]['bboxes'].pop(), r'annotation id 11.*one entry.*got 5'),
        (lambda d: d['annotations'][0].update(video_id=99), r'annotation id 11.*video_id 99'),
        (lambda d: d['annotations'][2].update(id=11), r'annotation id 11 is used more than once'),
        (
            lambda d: d['annotations'][0]['bboxes'].__setitem__(4, [1, 2, 3]),
            r'annotation id 11 frame 4: box must be \[x, y, w, h\]',
        ),
        (lambda d: d['videos'][0].update(length=7), r"video id 1: 'length' 7 != 6"),
    ]
    for index, (break_json, pattern) in enumerate(cases):
        data = copy.deepcopy(box_only)
        break_json(data)
        with pytest.raises(AnnotationError, match=pattern):
            build(vis.dump_json(str(tmp_path / f's{index}.json'), data), vis_root)


def test_unknown_category_id_names_annotation(tmp_path, vis_root, vis, box_only):
    data = copy.deepcopy(box_only)
    data['annotations'][1]['category_id'] = 5
    with pytest.raises(AnnotationError, match=r'annotation id 12 has category_id 5'):
        build(vis.dump_json(str(tmp_path / 'cat.json'), data), vis_root)


def test_bad_boxes_are_skipped_or_clipped_counted_and_logged(
    tmp_path, vis_root, vis, box_only, log_records
):
    data = copy.deepcopy(box_only)
    boxes = data['annotations'][0]['bboxes']
    boxes[0] = [5, 5, 0, 4]  # w == 0
    boxes[1] = [5, 5, 4, -2]  # h < 0
    boxes[2] = [float('nan'), 5, 4, 4]  # not finite (json NaN)
    boxes[3] = [48, 5, 4, 4]  # starts at the right border: no overlap
    boxes[4] = [-4, 30, 10, 8]  # partly outside: clipped to [0, 30, 6, 32]
    ann_file = vis.dump_json(str(tmp_path / 'boxes.json'), data)
    dataset = build(ann_file, vis_root)
    assert dataset.skip_counts['boxes with w or h <= 0 or non-finite (skipped)'] == 3
    assert dataset.skip_counts['boxes entirely outside the image (skipped)'] == 1
    assert dataset.skip_counts['boxes partly outside the image (clipped)'] == 1
    frames = dataset.get_data_info(0)['images']
    cat_boxes = [[i['bbox'] for i in f['instances'] if i['bbox_label'] == 0] for f in frames]
    assert cat_boxes[:4] == [[], [], [], []]
    assert cat_boxes[4] == [[0.0, 30.0, 6.0, 32.0]]
    assert cat_boxes[5] == [[7.0, 3.0, 17.0, 11.0]]
    log = vis.messages(log_records)
    assert 'boxes with w or h <= 0 or non-finite (skipped): 3' in log
    assert 'video 1 frame 0, annotation id 11' in log
    assert 'video 1 frame 3, annotation id 11' in log  # the outside box


def test_missing_image_file_error_names_file_and_video(tmp_path, vis_root, vis, box_only):
    ann_file = vis.dump_json(str(tmp_path / 'train.json'), box_only)
    missing = osp.join(vis_root, 'vid_b/00001.jpg')
    os.remove(missing)
    with pytest.raises(FileNotFoundError) as error:
        build(ann_file, vis_root)
    assert missing in str(error.value) and 'video 2 frame 1' in str(error.value)
    # Deferred check: the dataset loads, loading that frame fails later.
    assert len(build(ann_file, vis_root, check_files=False)) == 2


def test_empty_video_skipped_in_training_and_logged(tmp_path, vis_root, vis, box_only, log_records):
    ann_file = vis.dump_json(str(tmp_path / 'train.json'), box_only)
    train = build(ann_file, vis_root)
    assert [train.get_data_info(i)['video_id'] for i in range(len(train))] == [1, 2]
    assert (
        'training videos without any annotated frame (skipped): 1 (e.g. video 3)'
        in vis.messages(log_records)
    )
    test = build(ann_file, vis_root, test_mode=True)
    assert [test.get_data_info(i)['video_id'] for i in range(len(test))] == [1, 2, 3]
    assert test.skip_counts == {}
    # filter_cfg can keep empty videos in training too.
    keep_all = build(ann_file, vis_root, filter_cfg=dict(filter_empty_gt=False))
    assert len(keep_all) == 3


def test_short_video_is_repeated_by_the_clip_sampler(
    tmp_path, vis_root, vis, box_only, log_records
):
    ann_file = vis.dump_json(str(tmp_path / 'train.json'), box_only)
    pipeline = [dict(type='SampleClipFrames', num_frames=5, frame_range=5)]
    dataset = build(ann_file, vis_root, pipeline=pipeline)
    clip = dataset[1]  # vid_b has 2 frames
    assert sorted(set(clip['frame_id'])) == [0, 1] and len(clip['frame_id']) == 5
    assert clip['ori_video_length'] == [2] * 5 and clip['video_length'] == [5] * 5
    assert dataset.pipeline.transforms[0].num_short_videos == 1
    assert 'video 2 has 2 frames < num_frames=5; frames are repeated' in vis.messages(log_records)


def test_instance_id_unique_per_track_in_cocovid_with_per_video_ids(
    tmp_path, vis_root, vis, box_only
):
    # MOT-style CocoVID: instance ids restart in every video; dataset ids must not collide.
    data = vis.to_cocovid(box_only)
    for ann in data['annotations']:
        ann['instance_id'] = 1 if ann['instance_id'] in (11, 21) else 2
    dataset = build(vis.dump_json(str(tmp_path / 'mot.json'), data), vis_root)
    ids_a = {i['instance_id'] for f in dataset.get_data_info(0)['images'] for i in f['instances']}
    ids_b = {i['instance_id'] for f in dataset.get_data_info(1)['images'] for i in f['instances']}
    assert ids_a == {1, 2} and ids_b == {3}


def test_two_boxes_of_one_instance_in_a_frame_is_an_error(tmp_path, vis_root, vis, box_only):
    data = vis.to_cocovid(box_only)
    data['annotations'][1]['instance_id'] = data['annotations'][0]['instance_id']
    data['annotations'][1]['image_id'] = data['annotations'][0]['image_id']
    with pytest.raises(AnnotationError, match='more than one box in this frame'):
        build(vis.dump_json(str(tmp_path / 'dup.json'), data), vis_root)


def test_is_a_registered_base_video_dataset():
    from mmdet.datasets import BaseVideoDataset

    assert DATASETS.get('BoxVISDataset') is BoxVISDataset
    assert issubclass(BoxVISDataset, BaseVideoDataset)


def test_cocovid_frame_ids_renumbered_ignored_and_frameless_videos_counted(
    tmp_path, vis_root, vis, box_only
):
    data = vis.to_cocovid(box_only)
    for image in data['images']:
        image['frame_id'] = 2 * image['frame_id'] + 1  # starts at 1 with gaps
    data['videos'].append(dict(id=9, name='no_frames'))
    data['annotations'][0]['ignore'] = True  # track 11 on frame 0 of vid_a
    dataset = build(vis.dump_json(str(tmp_path / 'vid.json'), data), vis_root)
    assert dataset.skip_counts['videos without any image (skipped)'] == 1
    assert dataset.skip_counts["annotations flagged 'ignore' (skipped)"] == 1
    frames = dataset.get_data_info(0)['images']
    assert [f['frame_id'] for f in frames] == list(range(6))  # positions, as the metric needs
    assert frames[0]['instances'] == []
    assert frames[1]['instances'][0]['bbox'] == [3.0, 3.0, 13.0, 11.0]


def loading_pipeline(num_frames=None):
    """Load and pack frames (a clip in training, the whole video in test mode)."""
    load = dict(
        type='TransformBroadcaster',
        share_random_params=True,
        transforms=[
            dict(type='LoadImageFromFile'),
            dict(type='LoadTrackAnnotations', with_mask=False),
        ],
    )
    sample = [] if num_frames is None else [dict(type='SampleClipFrames', num_frames=num_frames)]
    return sample + [load, dict(type='PackTrackInputs')]


@pytest.mark.parametrize(
    'content, expected',
    [
        (
            '{"videos": [{"id": 1, "file_names": ["a',
            r'invalid json at line 1 column \d+ .*'
            r'Unterminated string.*near the end of the file: is it complete',
        ),
        ('', 'the annotation file is empty'),
        ('\xff\xfe', 'not a json text file'),
    ],
)
def test_unreadable_json_names_the_file(tmp_path, content, expected):
    ann_file = str(tmp_path / 'train.json')
    with open(ann_file, 'w', encoding='latin-1') as handle:
        handle.write(content)
    with pytest.raises(AnnotationError, match=expected) as error:
        build(ann_file, str(tmp_path))
    assert ann_file in str(error.value)


@pytest.mark.parametrize('make', ['missing', 'directory'])
def test_missing_annotation_file_names_it(tmp_path, make):
    ann_file = str(tmp_path / 'train.json')
    if make == 'directory':
        os.makedirs(ann_file)
    with pytest.raises(FileNotFoundError, match=f'annotation file {ann_file}'):
        build(ann_file, str(tmp_path))


def test_no_training_video_left_says_why(tmp_path, vis_root, vis, box_only):
    for ann in box_only['annotations']:
        ann['bboxes'] = [
            None if box is None else [box[0], box[1], 0, box[3]] for box in ann['bboxes']
        ]
    ann_file = vis.dump_json(str(tmp_path / 'train.json'), box_only)
    with pytest.raises(AnnotationError) as error:
        build(ann_file, vis_root)
    message = str(error.value)
    assert ann_file in message and 'no training video left (3 in the json' in message
    assert 'boxes with w or h <= 0 or non-finite (skipped): 11' in message


def test_empty_test_split_is_an_error(tmp_path, vis_root, vis, box_only):
    ann_file = vis.dump_json(str(tmp_path / 'val.json'), dict(box_only, videos=[], annotations=[]))
    with pytest.raises(AnnotationError, match='no test video left'):
        build(ann_file, vis_root, test_mode=True)


def test_empty_frame_file_is_found_at_start_up(tmp_path, vis_root, vis, box_only):
    ann_file = vis.dump_json(str(tmp_path / 'train.json'), box_only)
    empty = osp.join(vis_root, 'vid_a/00003.jpg')
    open(empty, 'w').close()
    with pytest.raises(FileNotFoundError, match='are empty') as error:
        build(ann_file, vis_root)
    assert empty in str(error.value) and 'video 1 frame 3' in str(error.value)


@pytest.mark.parametrize(
    'damage, expected',
    [
        ('empty', 'is empty (0 bytes)'),
        ('garbage', 'cannot be decoded as an image'),
        ('other_size', 'is 24x16 (w x h) but the annotation file says 48x32'),
    ],
)
def test_unloadable_frame_names_video_and_file(tmp_path, vis_root, vis, box_only, damage, expected):
    import cv2
    import numpy as np

    from maskfreevis.datasets import FrameError

    ann_file = vis.dump_json(str(tmp_path / 'val.json'), box_only)
    dataset = build(
        ann_file, vis_root, test_mode=True, check_files=False, pipeline=loading_pipeline()
    )
    bad = osp.join(vis_root, 'vid_b/00001.jpg')
    if damage == 'other_size':
        cv2.imwrite(bad, np.zeros((16, 24, 3), np.uint8))
    else:
        with open(bad, 'wb') as handle:
            handle.write(b'' if damage == 'empty' else b'not a jpeg at all')
    with pytest.raises(FrameError) as error:
        dataset[1]
    message = str(error.value)
    assert ann_file in message and 'video 2' in message and bad in message
    assert expected in message
    if damage == 'other_size':
        assert 'the frames differ in size' in message
    assert dataset[0]['data_samples'] is not None, 'the other videos still load'


def test_frame_decoded_at_another_size_than_the_json_is_refused(tmp_path, vis_root, vis, box_only):
    """Every frame the same size, but not the json's: nothing fails, boxes would be wrong."""
    from maskfreevis.datasets import FrameError

    box_only['videos'][1].update(width=96, height=64)
    ann_file = vis.dump_json(str(tmp_path / 'train.json'), box_only)
    dataset = build(ann_file, vis_root, pipeline=loading_pipeline(num_frames=2))
    with pytest.raises(
        FrameError,
        match=r'video 2 frame \d .* is 48x32 \(w x h\) but the json '
        'says 96x64',
    ):
        dataset[1]


@pytest.mark.parametrize('width', ['48', 'wide', 0, -48, 48.5, True])
def test_frame_size_must_be_positive_integers(tmp_path, vis_root, vis, box_only, width):
    box_only['videos'][1]['width'] = width
    ann_file = vis.dump_json(str(tmp_path / 'train.json'), box_only)
    with pytest.raises(
        AnnotationError, match="video id 2: 'width' and 'height' must be positive integers"
    ):
        build(ann_file, vis_root)


def test_integral_float_sizes_and_a_byte_order_mark_are_fine(tmp_path, vis_root, vis, box_only):
    import json

    box_only['videos'][1].update(width=48.0, height=32.0)
    ann_file = str(tmp_path / 'train.json')
    with open(ann_file, 'w', encoding='utf-8-sig') as handle:
        json.dump(box_only, handle)
    dataset = build(ann_file, vis_root)
    assert dataset.get_data_info(1)['images'][0]['width'] == 48


def with_boxes(box_only, convert) -> dict:
    """``box_only`` with track 11 moving across the frame, every box passed through
    ``convert([x, y, w, h])``."""
    data = copy.deepcopy(box_only)
    data['annotations'][0]['bboxes'] = [[2 + 6 * i, 3 + 3 * i, 10, 8] for i in range(6)]
    for ann in data['annotations']:
        ann['bboxes'] = [None if box is None else convert(box) for box in ann['bboxes']]
    return data


@pytest.mark.parametrize(
    'convert, expected',
    [
        (
            lambda b: [b[0], b[1], b[0] + b[2], b[1] + b[3]],
            'the boxes look like corners [x1, y1, x2, y2], not [x, y, w, h]: read as [x, y, w, '
            'h], 4 of 11 run past the frame (e.g. video 1 frame 3, annotation id 11: '
            '[20.0, 12.0, 30.0, 20.0] in a 48x32 frame), while all 11 fit inside it as corners. '
            'Convert them: w = x2 - x1, h = y2 - y1. If the boxes are right, pass '
            'check_box_format=False to the dataset.',
        ),
        (
            lambda b: [b[0] / 48, b[1] / 32, b[2] / 48, b[3] / 32],
            "all 11 boxes lie within 1.5 pixels of the frame's corner (e.g. video 1 frame 0, "
            'annotation id 11: [0.041666666666666664, 0.09375, 0.20833333333333334, 0.25] in a '
            '48x32 frame): they look normalised to 0-1',
        ),
    ],
    ids=['corners', 'normalised'],
)
def test_boxes_in_another_format_are_refused(tmp_path, vis_root, vis, box_only, convert, expected):
    """They trained with exit 0 on wrong boxes; check_box_format=False is the way out."""
    ann_file = vis.dump_json(str(tmp_path / 'train.json'), with_boxes(box_only, convert))
    with pytest.raises(AnnotationError) as error:
        build(ann_file, vis_root)
    assert str(error.value).startswith(f'{ann_file}: {expected}')
    assert len(build(ann_file, vis_root, check_box_format=False)) >= 1


def test_boxes_at_the_border_and_tiny_boxes_are_no_format_mistake(
    tmp_path, vis_root, vis, box_only
):
    data = copy.deepcopy(box_only)
    data['annotations'][0]['bboxes'][0] = [40, 20, 20, 20]  # runs past the frame: clipped
    data['annotations'][2]['bboxes'] = [[0, 0, 1, 1], [47, 31, 1, 1]]  # 1-pixel objects
    dataset = build(vis.dump_json(str(tmp_path / 'train.json'), data), vis_root)
    assert dataset.skip_counts['boxes partly outside the image (clipped)'] == 1


def tag_orientation(path: str, orientation: int = 6) -> None:
    """Re-save a JPEG with an EXIF orientation tag (6: shown rotated 90 degrees)."""
    with Image.open(path) as image:
        pixels = image.copy()
    exif = Image.Exif()
    exif[0x0112] = orientation
    pixels.save(path, exif=exif.tobytes())


LOAD_CLIP = [
    dict(type='TransformBroadcaster', transforms=[dict(type='LoadImageFromFile')]),
    dict(type='PackTrackInputs'),
]


def test_frames_with_an_exif_orientation_are_refused_at_start_up(tmp_path, vis_root, vis, box_only):
    """OpenCV turns such frames on loading while the boxes stay in the stored grid; on square
    frames nothing else would notice."""
    path = osp.join(vis_root, 'vid_a', '00000.jpg')
    tag_orientation(path)
    assert cv2.imread(path).shape[:2] == (vis.FRAME_W, vis.FRAME_H)  # what OpenCV does
    ann_file = vis.dump_json(str(tmp_path / 'train.json'), box_only)
    with pytest.raises(FrameError) as error:
        build(ann_file, vis_root, pipeline=LOAD_CLIP)
    assert str(error.value).startswith(
        f'{ann_file}: video 1 frame 0 ({path}) has an EXIF orientation tag (6: rotated 90 '
        "degrees), and the pipeline's LoadImageFromFile decodes frames with color_type 'color'"
    )
    assert "LoadImageFromFile(color_type='color_ignore_orientation')" in str(error.value)


def test_a_tagged_frame_later_in_a_video_is_refused_when_loaded(tmp_path, vis_root, vis, box_only):
    path = osp.join(vis_root, 'vid_a', '00003.jpg')
    tag_orientation(path, 3)
    dataset = build(
        vis.dump_json(str(tmp_path / 'val.json'), box_only),
        vis_root,
        pipeline=LOAD_CLIP,
        test_mode=True,
    )
    dataset.prepare_data(1)  # vid_b: untagged
    with pytest.raises(
        FrameError,
        match=r'video 1 frame 3 \(.*00003.jpg\) has an EXIF orientation tag \(3: rotated 180',
    ):
        dataset.prepare_data(0)


def test_frames_loaded_as_stored_may_carry_an_orientation(tmp_path, vis_root, vis, box_only):
    """The YouTube-VIS convention: boxes in the stored pixel grid, so frames are loaded so."""
    for index in range(6):
        tag_orientation(osp.join(vis_root, 'vid_a', f'{index:05d}.jpg'))
    as_stored = [
        dict(
            type='TransformBroadcaster',
            transforms=[dict(type='LoadImageFromFile', color_type='color_ignore_orientation')],
        ),
        dict(type='PackTrackInputs'),
    ]
    ann_file = vis.dump_json(str(tmp_path / 'train.json'), box_only)
    dataset = build(ann_file, vis_root, pipeline=as_stored, test_mode=True)
    assert not dataset.loads_with_orientation()
    frames = dataset.prepare_data(0)['inputs']
    assert tuple(frames.shape[-2:]) == (vis.FRAME_H, vis.FRAME_W)
    assert build(ann_file, vis_root, pipeline=LOAD_CLIP, test_mode=True, check_files=False)


def test_a_string_as_metainfo_classes_is_refused(tmp_path, vis_root, vis, box_only):
    """classes='cat' was read as ('c', 'a', 't'): "classes ['c', 'a', 't'] are not among ..."."""
    ann_file = vis.dump_json(str(tmp_path / 'train.json'), box_only)
    with pytest.raises(AnnotationError) as error:
        build(ann_file, vis_root, metainfo=dict(classes='cat'))
    assert str(error.value) == (
        f'{ann_file}: metainfo classes must be a tuple or list of class names, got the string '
        "'cat' (it would be read one character per class); for one class write classes=('cat',)"
    )


@pytest.mark.parametrize('layout', ['youtube_vis', 'cocovid'])
def test_iscrowd_that_is_not_0_or_1_is_refused(tmp_path, vis_root, vis, box_only, layout):
    """ "iscrowd": "0" is true in Python: every box was ignored in training, without a word."""
    data = copy.deepcopy(box_only)
    for ann in data['annotations']:
        ann['iscrowd'] = '0'
    if layout == 'cocovid':
        data = vis.to_cocovid(data)
        for ann in data['annotations']:
            ann['iscrowd'] = '0'
    ann_file = vis.dump_json(str(tmp_path / 'train.json'), data)
    with pytest.raises(
        AnnotationError, match="annotation id [0-9]+: 'iscrowd' must be 0 or 1, got '0'"
    ):
        build(ann_file, vis_root)
    for ann in data['annotations']:
        ann['iscrowd'] = None  # absent: not a crowd
    ann_file = vis.dump_json(str(tmp_path / 'train.json'), data)
    video = build(ann_file, vis_root).get_data_info(0)
    assert all(i['ignore_flag'] == 0 for f in video['images'] for i in f['instances'])


def test_category_names_must_be_strings(tmp_path, vis_root, vis, box_only):
    data = copy.deepcopy(box_only)
    data['categories'][0]['name'] = 5
    ann_file = vis.dump_json(str(tmp_path / 'train.json'), data)
    with pytest.raises(
        AnnotationError, match=r"categories\[0\] \(id 2\): 'name' must be a non-empty string, got 5"
    ):
        build(ann_file, vis_root)


def test_an_empty_list_as_a_box_says_to_write_null(tmp_path, vis_root, vis, box_only):
    data = copy.deepcopy(box_only)
    data['annotations'][1]['bboxes'][0] = []
    ann_file = vis.dump_json(str(tmp_path / 'train.json'), data)
    with pytest.raises(
        AnnotationError,
        match=r'annotation id 12 frame 0: box must be \[x, y, w, h\], got \[\]; write null for a '
        'frame without the object',
    ):
        build(ann_file, vis_root)


def test_a_frame_file_listed_twice_in_a_video_is_counted(tmp_path, vis_root, vis, box_only):
    data = copy.deepcopy(box_only)
    names = data['videos'][0]['file_names']
    names[3] = names[2]
    dataset = build(vis.dump_json(str(tmp_path / 'train.json'), data), vis_root)
    reason = 'videos listing one frame file more than once (kept as listed)'
    assert dataset.skip_counts[reason] == 1
    assert dataset._skips.examples[reason] == ['video 1: vid_a/00002.jpg']


def test_a_cocovid_instance_that_changes_category_is_refused(tmp_path, vis_root, vis, box_only):
    """Training refused it only in a clip holding both frames, maybe hours in."""
    data = vis.to_cocovid(box_only)
    cat_track = [a for a in data['annotations'] if a['instance_id'] == 11]
    cat_track[4]['category_id'] = 2
    ann_file = vis.dump_json(str(tmp_path / 'vid.json'), data)
    with pytest.raises(AnnotationError) as error:
        build(ann_file, vis_root)
    assert str(error.value) == (
        f'{ann_file}: instance 11 of video 1 changes its category: 1 at video 1 frame 0, '
        f'annotation id {cat_track[0]["id"]}, 2 at video 1 frame 4, annotation id '
        f'{cat_track[4]["id"]}; an instance (track) has one category'
    )


def test_test_splits_record_category_ids_that_are_not_1_to_k(tmp_path, vis_root, vis, box_only):
    """The submission is written with the json's ids; training sets keep the metainfo that
    ConcatDataset compares in joint training."""
    ann_file = vis.dump_json(str(tmp_path / 'val.json'), box_only)
    assert 'category_ids' not in build(ann_file, vis_root, test_mode=True).metainfo
    dogs_only = build(ann_file, vis_root, test_mode=True, metainfo=dict(classes=('dog',)))
    assert dogs_only.metainfo['category_ids'] == (2,)
    assert 'category_ids' not in build(ann_file, vis_root, metainfo=dict(classes=('dog',))).metainfo


@pytest.mark.parametrize('name', [None, 5, ''])
@pytest.mark.parametrize('layout', ['youtube_vis', 'cocovid'])
def test_a_file_name_that_is_not_a_name_is_refused(tmp_path, vis_root, vis, box_only, name, layout):
    """null or a number failed inside os.path.join: "join() argument must be str ..."."""
    data = copy.deepcopy(box_only)
    if layout == 'cocovid':
        data = vis.to_cocovid(data)
        image = next(i for i in data['images'] if i['video_id'] == 1 and i['frame_id'] == 1)
        image['file_name'] = name
        expected = f"image id {image['id']}: 'file_name' must be a non-empty string, got {name!r}"
    else:
        data['videos'][0]['file_names'][1] = name
        expected = (
            "video id 1: 'file_names' must list a file name (a non-empty string) per frame; "
            f'frame 1 is {name!r}'
        )
    ann_file = vis.dump_json(str(tmp_path / 'train.json'), data)
    with pytest.raises(AnnotationError) as error:
        build(ann_file, vis_root)
    assert str(error.value) == f'{ann_file}: {expected}'
