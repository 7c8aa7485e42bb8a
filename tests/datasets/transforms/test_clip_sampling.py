"""SampleClipFrames: window, no duplicates, short videos, shuffle, pseudo-videos, output layout."""

import copy

import numpy as np
import pytest
from mmcv.transforms.utils import cache_random_params
from mmdet.datasets.transforms import UniformRefFrameSample

from maskfreevis.datasets import SampleClipFrames


def make_video(length, video_id=7, pseudo=False):
    frames = [
        dict(
            img_path=f'v/{i}.jpg',
            img_id=100 + i,
            video_id=video_id,
            frame_id=i,
            height=32,
            width=48,
            instances=[dict(instance_id=1, bbox=[0, 0, 4, 4], bbox_label=0, ignore_flag=0)],
        )
        for i in range(length)
    ]
    video = dict(video_id=video_id, video_length=length, images=frames)
    if pseudo:
        video['is_pseudo_video'] = True
    return video


@pytest.mark.parametrize('num_frames', [3, 5])
def test_frames_distinct_in_window_and_key_included(num_frames):
    sampler = SampleClipFrames(num_frames=num_frames, frame_range=5)
    np.random.seed(0)
    for _ in range(200):
        clip = sampler(make_video(30))
        ids = clip['frame_id']
        assert len(ids) == num_frames == len(set(ids))  # no duplicate frame
        assert ids == sorted(ids)  # temporal order without shuffle
        key = ids[clip['key_frame_flags'].index(True)]
        assert sum(clip['key_frame_flags']) == 1
        assert all(abs(i - key) <= 5 for i in ids)
    assert sampler.num_short_videos == 0


def test_given_key_frame_and_asymmetric_range():
    sampler = SampleClipFrames(num_frames=3, frame_range=[-2, 0])
    for seed in range(20):
        np.random.seed(seed)
        video = make_video(10)
        video['key_frame_id'] = 6
        clip = sampler(video)
        assert clip['frame_id'][clip['key_frame_flags'].index(True)] == 6
        assert clip['frame_id'] == [4, 5, 6]  # the only 3 frames in [6 - 2, 6 + 0]


def test_window_too_small_takes_nearest_frames_without_repeats():
    sampler = SampleClipFrames(num_frames=5, frame_range=1)
    video = make_video(8)
    video['key_frame_id'] = 0
    assert sampler(video)['frame_id'] == [0, 1, 2, 3, 4]
    video['key_frame_id'] = 7
    assert sampler(video)['frame_id'] == [3, 4, 5, 6, 7]
    video['key_frame_id'] = 4  # distance ties: the earlier frame first
    assert sampler(video)['frame_id'] == [2, 3, 4, 5, 6]


def test_short_video_repeats_every_frame_at_least_once_counts_and_logs(log_records, vis):
    sampler = SampleClipFrames(num_frames=5, frame_range=5)
    np.random.seed(1)
    for count in range(1, 5):
        clip = sampler(make_video(3, video_id=42))
        assert sorted(set(clip['frame_id'])) == [0, 1, 2] and len(clip['frame_id']) == 5
        assert clip['frame_id'] == sorted(clip['frame_id'])
        assert sampler.num_short_videos == count
    warnings = [m for m in vis.messages(log_records).splitlines() if 'frames are repeated' in m]
    # Logged at the 1st, 2nd and 4th occurrence.
    assert len(warnings) == 3 and 'video 42 has 3 frames < num_frames=5' in warnings[0]


def test_sampler_does_not_write_into_the_dataset_frames():
    video = make_video(3)
    SampleClipFrames(num_frames=5)(video)
    assert all('ori_video_length' not in frame for frame in video['images'])


def test_shuffle_permutes_order_and_moves_key_flag():
    plain, shuffled = SampleClipFrames(3, 5), SampleClipFrames(3, 5, shuffle=True)
    unsorted = 0
    for seed in range(30):
        np.random.seed(seed)
        clip_plain = plain(make_video(20))
        np.random.seed(seed)
        clip_shuffled = shuffled(make_video(20))
        # Same frames (the random state is consumed in the same order up to the permutation).
        assert sorted(clip_shuffled['frame_id']) == clip_plain['frame_id']
        key_plain = clip_plain['frame_id'][clip_plain['key_frame_flags'].index(True)]
        key_shuffled = clip_shuffled['frame_id'][clip_shuffled['key_frame_flags'].index(True)]
        assert key_plain == key_shuffled
        unsorted += clip_shuffled['frame_id'] != sorted(clip_shuffled['frame_id'])
    assert unsorted > 0


def test_output_layout_matches_uniform_ref_frame_sample():
    ours = SampleClipFrames(num_frames=3, frame_range=5)(make_video(12))
    theirs = UniformRefFrameSample(num_ref_imgs=2, frame_range=5)(make_video(12))
    assert set(ours) == set(theirs)
    assert all(len(value) == 3 for value in ours.values())
    assert ours['video_length'] == [3, 3, 3] and ours['ori_video_length'] == [12, 12, 12]
    assert ours['video_id'] == [7, 7, 7]


def test_pseudo_video_becomes_t_copies_silently(log_records, vis):
    sampler = SampleClipFrames(num_frames=4, frame_range=5, shuffle=True)
    clip = sampler(make_video(1, pseudo=True))
    assert clip['frame_id'] == [0, 1, 2, 3]  # position, so frames are distinguishable
    assert clip['img_path'] == ['v/0.jpg'] * 4 and clip['img_id'] == [100] * 4
    assert clip['ori_video_length'] == [1] * 4 and sum(clip['key_frame_flags']) == 1
    assert sampler.num_short_videos == 0
    assert 'frames are repeated' not in vis.messages(log_records)


def test_randomness_is_cacheable():
    sampler = SampleClipFrames(num_frames=3, frame_range=5, shuffle=True)
    video = make_video(40)
    with cache_random_params(sampler):
        first = sampler(copy.deepcopy(video))['frame_id']
        assert all(sampler(copy.deepcopy(video))['frame_id'] == first for _ in range(5))


def test_invalid_arguments_and_inputs():
    with pytest.raises(ValueError, match='num_frames'):
        SampleClipFrames(num_frames=0)
    with pytest.raises(ValueError, match='frame_range'):
        SampleClipFrames(num_frames=3, frame_range=[1, 3])
    with pytest.raises(ValueError, match='key_frame_id 9'):
        video = make_video(4)
        video['key_frame_id'] = 9
        SampleClipFrames(num_frames=3)(video)
