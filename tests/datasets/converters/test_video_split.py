"""Local train / val split of a video json by whole videos."""

import copy
import random

import pytest

from maskfreevis.datasets import AnnotationError
from maskfreevis.datasets.converters import categories_missing_from, split_by_video
from maskfreevis.datasets.converters.video_split import choose_val_videos


def ytvis_with_masks(vis, num_videos=10):
    """ORIGINAL-format json: one two-frame video per id, each with one masked track."""
    videos, annotations = [], []
    for video_id in range(1, num_videos + 1):
        videos.append(vis.ytvis_video(video_id, [f'v{video_id}/0.jpg', f'v{video_id}/1.jpg']))
        box = [2, 3, 10, 8]
        annotations.append(
            vis.ytvis_track(
                100 + video_id,
                video_id,
                1 + video_id % 2,
                [box, None],
                segmentations=[vis.box_polygon(box), None],
            )
        )
    return dict(
        info={'year': 2019},
        videos=videos,
        annotations=annotations,
        categories=[dict(id=1, name='cat'), dict(id=2, name='dog')],
    )


def test_split_is_seeded_complete_and_keeps_masks(vis):
    data = ytvis_with_masks(vis)
    original = copy.deepcopy(data)
    train, val = split_by_video(data, val_ratio=0.3, seed=3)
    assert data == original, 'input must not be modified'
    train_ids = [video['id'] for video in train['videos']]
    val_ids = [video['id'] for video in val['videos']]
    assert len(val_ids) == 3 and sorted(train_ids + val_ids) == list(range(1, 11))
    assert train_ids == sorted(train_ids), 'file order is kept within a split'
    for split, ids in ((train, train_ids), (val, val_ids)):
        assert sorted(ann['video_id'] for ann in split['annotations']) == sorted(ids)
        assert split['categories'] == data['categories'] and split['info'] == data['info']
    assert all(ann['segmentations'][0] is not None for ann in val['annotations'])

    again = split_by_video(data, val_ratio=0.3, seed=3)[1]
    shuffled = dict(data, videos=random.Random(0).sample(data['videos'], 10))
    reordered = split_by_video(shuffled, val_count=3, seed=3)[1]
    assert (
        {v['id'] for v in again['videos']} == {v['id'] for v in reordered['videos']} == set(val_ids)
    )
    other_seeds = {
        frozenset(v['id'] for v in split_by_video(data, val_count=3, seed=seed)[1]['videos'])
        for seed in range(5)
    }
    assert len(other_seeds) > 1


def test_cocovid_split_follows_images(vis):
    data = vis.to_cocovid(ytvis_with_masks(vis, num_videos=4))
    train, val = split_by_video(data, val_count=1, seed=0)
    (val_video,) = val['videos']
    assert {image['video_id'] for image in val['images']} == {val_video['id']}
    val_images = {image['id'] for image in val['images']}
    assert val['annotations'] and all(ann['image_id'] in val_images for ann in val['annotations'])
    assert len(train['images']) + len(val['images']) == len(data['images'])
    assert len(train['annotations']) + len(val['annotations']) == len(data['annotations'])


def test_val_split_loads_with_masks(vis, tmp_path, load_converted):
    _, val = split_by_video(ytvis_with_masks(vis, num_videos=4), val_count=2, seed=0)
    dataset = load_converted(val, str(tmp_path), test_mode=True)
    assert len(dataset) == 2
    first_frame = dataset.get_data_info(0)['images'][0]
    assert 'mask' in first_frame['instances'][0]
    assert categories_missing_from(dict(categories=val['categories'], annotations=[])) == [
        'cat',
        'dog',
    ]


def test_bad_requests_and_input_are_refused(vis):
    data = ytvis_with_masks(vis, num_videos=3)
    with pytest.raises(ValueError, match='exactly one of val_ratio and val_count'):
        split_by_video(data, val_ratio=0.5, val_count=1)
    with pytest.raises(ValueError, match=r'val_count must be in 1..2 for 3 videos, got 3'):
        split_by_video(data, val_count=3)
    with pytest.raises(ValueError, match=r'val_ratio must be in \(0, 1\)'):
        split_by_video(data, val_ratio=1.0)
    assert len(choose_val_videos([1, 2, 3], val_ratio=0.01, val_count=None, seed=0)) == 1
    with pytest.raises(AnnotationError, match='in.json: 1 video'):
        split_by_video(dict(data, videos=data['videos'][:1]), val_count=1, source='in.json')
    broken = copy.deepcopy(data)
    broken['annotations'][0]['video_id'] = 99
    with pytest.raises(
        AnnotationError, match='in.json: annotation id 101 refers to unknown video_id 99'
    ):
        split_by_video(broken, val_count=1, source='in.json')
    twice = dict(data, videos=data['videos'] + data['videos'][:1])
    with pytest.raises(AnnotationError, match='video id 1 is listed more than once'):
        split_by_video(twice, val_count=1)
