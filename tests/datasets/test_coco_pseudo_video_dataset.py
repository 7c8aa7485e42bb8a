"""CocoPseudoVideoDataset: COCO images as one-frame pseudo-videos with a class mapping."""

import copy

import numpy as np
import pycocotools.mask as mask_utils
import pytest
from mmdet.registry import DATASETS
from mmengine.dataset import ConcatDataset

from maskfreevis.datasets import AnnotationError, CocoPseudoVideoDataset
from maskfreevis.datasets.categories import VIDEO_CLASSES

TARGET_CLASSES = ('person', 'sedan', 'motorbike', 'dog')
MAPPING = {'person': 'person', 'car': 'sedan', 'bicycle': 'motorbike', 'dog': 'dog'}


@pytest.fixture
def coco_root(tmp_path, vis):
    root = str(tmp_path / 'coco')
    for index in (1, 2, 3):
        vis.write_frames(root, f'img{index}', 1, seed=index)
    return root


def crowd_rle():
    mask = np.zeros((32, 48), dtype=np.uint8, order='F')
    mask[10:20, 30:40] = 1
    rle = mask_utils.encode(mask)
    rle['counts'] = rle['counts'].decode()
    return rle


def coco_json(vis):
    """img 1: person (polygon), crowd bicycle (RLE), car (polygon); img 2: only a toaster;
    img 3: dog without segmentation and a zero-width dog box."""
    images = [
        dict(id=index, file_name=f'img{index}/00000.jpg', width=48, height=32)
        for index in (1, 2, 3)
    ]
    annotations = [
        dict(
            id=501,
            image_id=1,
            category_id=1,
            bbox=[4, 4, 10, 12],
            iscrowd=0,
            segmentation=vis.box_polygon([4, 4, 10, 12]),
        ),
        dict(
            id=502,
            image_id=1,
            category_id=2,
            bbox=[30, 10, 10, 10],
            iscrowd=1,
            segmentation=crowd_rle(),
        ),
        dict(
            id=503,
            image_id=1,
            category_id=3,
            bbox=[20, 5, 8, 6],
            iscrowd=0,
            segmentation=vis.box_polygon([20, 5, 8, 6]),
        ),
        dict(id=504, image_id=2, category_id=80, bbox=[1, 1, 5, 5], iscrowd=0),
        dict(id=505, image_id=3, category_id=18, bbox=[40, 20, 20, 20], iscrowd=0),
        dict(id=506, image_id=3, category_id=18, bbox=[5, 5, 0, 4], iscrowd=0),
    ]
    categories = [
        dict(id=1, name='person'),
        dict(id=2, name='bicycle'),
        dict(id=3, name='car'),
        dict(id=18, name='dog'),
        dict(id=80, name='toaster'),
    ]
    return dict(images=images, annotations=annotations, categories=categories)


def build(ann_file, root, **kwargs):
    cfg = dict(
        type='CocoPseudoVideoDataset',
        ann_file=ann_file,
        data_prefix=dict(img_path=root),
        metainfo=dict(classes=TARGET_CLASSES),
        class_mapping=MAPPING,
        pipeline=[],
    )
    cfg.update(kwargs)
    return DATASETS.build(cfg)


def test_images_become_pseudo_videos_with_mapped_labels(tmp_path, coco_root, vis, log_records):
    dataset = build(vis.dump_json(str(tmp_path / 'coco.json'), coco_json(vis)), coco_root)
    assert isinstance(dataset, CocoPseudoVideoDataset)
    assert dataset.metainfo['classes'] == TARGET_CLASSES
    assert len(dataset) == 2  # image 2 has only an unmapped toaster
    assert dataset.skip_counts == {
        'boxes with w or h <= 0 or non-finite (skipped)': 1,
        'boxes partly outside the image (clipped)': 1,
        'annotations of unmapped categories (dropped)': 1,
        'training videos without any annotated frame (skipped)': 1,
    }
    video = dataset.get_data_info(0)
    assert (video['video_id'], video['video_length'], video['is_pseudo_video']) == (1, 1, True)
    person, bicycle, car = video['images'][0]['instances']
    assert person == dict(
        bbox=[4.0, 4.0, 14.0, 16.0],
        bbox_label=0,
        ignore_flag=0,
        instance_id=1,
        mask=vis.box_polygon([4, 4, 10, 12]),
    )
    assert (bicycle['bbox_label'], bicycle['ignore_flag'], bicycle['instance_id']) == (2, 1, 2)
    assert bicycle['mask'] == crowd_rle()
    assert (car['bbox_label'], car['instance_id']) == (1, 3)
    (dog,) = dataset.get_data_info(1)['images'][0]['instances']
    # Box-only annotation: no mask; clipped to the 48 x 32 image.
    assert dog == dict(bbox=[40.0, 20.0, 48.0, 32.0], bbox_label=3, ignore_flag=0, instance_id=4)
    assert 'image 3, annotation id 506' in vis.messages(log_records)


def test_without_mapping_names_must_match(tmp_path, coco_root, vis):
    ann_file = vis.dump_json(str(tmp_path / 'coco.json'), coco_json(vis))
    dataset = build(ann_file, coco_root, class_mapping=None)
    labels = [
        i['bbox_label']
        for v in range(len(dataset))
        for i in dataset.get_data_info(v)['images'][0]['instances']
    ]
    assert labels == [0, 3]  # person and dog keep their names; bicycle and car are dropped
    own = build(ann_file, coco_root, class_mapping=None, metainfo=None)
    assert own.metainfo['classes'] == ('person', 'bicycle', 'car', 'dog', 'toaster')


def test_mapping_errors_and_unused_keys(tmp_path, coco_root, vis, log_records):
    ann_file = vis.dump_json(str(tmp_path / 'coco.json'), coco_json(vis))
    with pytest.raises(AnnotationError, match='no class_mapping key is among the json categ'):
        build(ann_file, coco_root, class_mapping={'cars': 'sedan'})
    # A generic table meeting a json with fewer categories: unused keys are logged.
    dataset = build(ann_file, coco_root, class_mapping={'cars': 'sedan', 'dog': 'dog'})
    assert len(dataset) == 1
    assert "class_mapping keys without a json category (unused): ['cars']" in vis.messages(
        log_records
    )
    with pytest.raises(AnnotationError, match=r"class_mapping values \['automobile'\]"):
        build(ann_file, coco_root, class_mapping={'car': 'automobile'})
    with pytest.raises(AnnotationError, match='needs metainfo'):
        build(ann_file, coco_root, metainfo=None)


def test_bad_annotations_name_the_record(tmp_path, coco_root, vis):
    cases = [
        (
            lambda d: d['annotations'][3].update(category_id=77),
            r'annotation id 504 has category_id 77',
        ),
        (lambda d: d['annotations'][0].pop('bbox'), r"annotation id 501 has no key 'bbox'"),
        (lambda d: d['annotations'][1].update(image_id=9), r'annotation id 502.*image_id 9'),
        (lambda d: d['images'][2].pop('file_name'), r"images\[2\] has no key 'file_name'"),
        (lambda d: d.pop('categories'), r"has no key 'categories'"),
    ]
    for index, (break_json, pattern) in enumerate(cases):
        data = copy.deepcopy(coco_json(vis))
        break_json(data)
        ann_file = vis.dump_json(str(tmp_path / f'bad{index}.json'), data)
        with pytest.raises(AnnotationError, match=pattern) as error:
            build(ann_file, coco_root)
        if index != 1:
            assert ann_file in str(error.value)


def test_missing_image_file(tmp_path, coco_root, vis):
    data = coco_json(vis)
    data['images'][2]['file_name'] = 'img3/missing.jpg'
    with pytest.raises(FileNotFoundError, match=r'missing.jpg \(video 3 frame 0\)'):
        build(vis.dump_json(str(tmp_path / 'coco.json'), data), coco_root)


def test_named_class_table_gives_classes_and_mapping(tmp_path, coco_root, vis):
    ann_file = vis.dump_json(str(tmp_path / 'coco.json'), coco_json(vis))
    dataset = build(ann_file, coco_root, class_mapping='youtube_vis_2019', metainfo=None)
    assert dataset.metainfo['classes'] == VIDEO_CLASSES['youtube_vis_2019']
    labels = [
        i['bbox_label']
        for v in range(len(dataset))
        for i in dataset.get_data_info(v)['images'][0]['instances']
    ]
    # person, crowd bicycle -> motorbike, car -> sedan; dog (image 3)
    assert labels == [0, 20, 5, 7]
    with pytest.raises(ValueError, match=r"coco.json\): unknown class table 'ytvis_2019'"):
        build(ann_file, coco_root, class_mapping='ytvis_2019', metainfo=None)


def test_joint_training_needs_equal_classes(tmp_path, coco_root, vis, vis_root):
    """ConcatDataset refuses a video json whose classes are not those of the COCO table."""
    coco = build(
        vis.dump_json(str(tmp_path / 'coco.json'), coco_json(vis)),
        coco_root,
        class_mapping='youtube_vis_2019',
        metainfo=None,
    )
    video = DATASETS.build(
        dict(
            type='BoxVISDataset',
            ann_file=vis.dump_json(str(tmp_path / 'video.json'), vis.box_only_ytvis(vis_root)),
            data_prefix=dict(img_path=vis_root),
            pipeline=[],
        )
    )
    with pytest.raises(ValueError, match='does not match meta information'):
        ConcatDataset([coco, video])


def test_truncated_json_names_the_file(tmp_path, coco_root, vis):
    ann_file = vis.dump_json(str(tmp_path / 'coco.json'), coco_json(vis))
    with open(ann_file) as f:
        text = f.read()
    with open(ann_file, 'w') as f:
        f.write(text[: len(text) // 2])
    with pytest.raises(AnnotationError, match='invalid json') as error:
        build(ann_file, coco_root)
    assert ann_file in str(error.value)
