"""The CodaLab submission zip (YouTube-VIS 2019 / 2021, OVIS) of ``format_only``, read back."""

import json
import zipfile

import numpy as np
import pycocotools.mask as mask_utils
import pytest
from test_track_ap_hand_cases import (
    BOX_A,
    BOX_B,
    CAR,
    GT,
    NUM_FRAMES,
    PERSON,
    SIZE,
    make_video,
    rectangle,
    track,
)

from maskfreevis.evaluation import SubmissionError, YouTubeVISLocalMetric, check_submission_zip


@pytest.fixture
def val_json(tmp_path) -> str:
    path = tmp_path / 'valid.json'
    video = dict(
        id=1,
        height=SIZE,
        width=SIZE,
        length=NUM_FRAMES,
        file_names=[f'v/{t}.jpg' for t in range(NUM_FRAMES)],
    )
    path.write_text(json.dumps(dict(videos=[video], categories=[], annotations=[])))
    return str(path)


@pytest.mark.parametrize('with_gt_masks', [True, False], ids=['gt masks', 'gt boxes only'])
def test_format_only_writes_the_server_layout(tmp_path, val_json, with_gt_masks):
    metric = YouTubeVISLocalMetric(format_only=True, outfile_prefix=str(tmp_path / 'results'))
    metric.dataset_meta = dict(classes=('car', 'person'))
    predictions = [track(CAR, BOX_A, frames=(0, 1)), track(PERSON, BOX_B, score=0.8)]
    metric.process({}, [make_video(GT, predictions, with_gt_masks).to_dict()])
    assert metric.evaluate(size=1) == {}

    zip_path = str(tmp_path / 'results.submission_file.zip')
    with zipfile.ZipFile(zip_path) as archive:
        assert archive.namelist() == ['results.json']
    for benchmark in ('youtube_vis_2019', 'youtube_vis_2021', 'ovis'):
        tracks = check_submission_zip(zip_path, benchmark=benchmark, val_json=val_json)
    assert [(t['video_id'], t['category_id']) for t in tracks] == [(1, 1), (1, 2)]
    assert [t['score'] for t in tracks] == pytest.approx([0.9, 0.8])
    for track_json, predicted in zip(tracks, predictions):
        assert set(track_json) == {'video_id', 'category_id', 'score', 'segmentations'}
        assert len(track_json['segmentations']) == NUM_FRAMES
        for rle, box in zip(track_json['segmentations'], predicted['boxes']):
            assert isinstance(rle['counts'], str)
            decoded = mask_utils.decode(dict(rle, counts=rle['counts'].encode()))
            assert np.array_equal(decoded, rectangle(box))


def write_zip(path, tracks, member='results.json') -> str:
    with zipfile.ZipFile(path, 'w') as archive:
        archive.writestr(member, json.dumps(tracks))
    return str(path)


GOOD_RLE = mask_utils.encode(np.asfortranarray(rectangle(BOX_A).astype(np.uint8)))
GOOD_RLE = dict(size=GOOD_RLE['size'], counts=GOOD_RLE['counts'].decode())
GOOD = dict(video_id=1, category_id=3, score=0.5, segmentations=[GOOD_RLE, None, None, None])


@pytest.mark.parametrize(
    'member, tracks, benchmark, message',
    [
        ('results/results.json', [GOOD], None, r"exactly 'results.json' at its root"),
        ('results.json', dict(GOOD), None, 'must be a list'),
        ('results.json', [dict(GOOD, bboxes=[])], None, 'track 0 must have exactly the keys'),
        ('results.json', [dict(GOOD, category_id=26)], 'ovis', r'category_id 26 is outside 1..25'),
        ('results.json', [dict(GOOD, score=float('nan'))], None, 'score must be a finite number'),
        ('results.json', [dict(GOOD, video_id=2)], None, 'video 2.*video id not in'),
        ('results.json', [dict(GOOD, segmentations=[None])], None, '1 segmentations for 4 frames'),
        (
            'results.json',
            [dict(GOOD, segmentations=[dict(GOOD_RLE, size=[8, 8]), None, None, None])],
            None,
            r'frame 0: RLE size \[8, 8\] is not the video size \[40, 40\]',
        ),
        (
            'results.json',
            [dict(GOOD, segmentations=[dict(GOOD_RLE, counts=[1, 2]), None, None, None])],
            None,
            'counts must be a compressed string',
        ),
        (
            'results.json',
            [dict(GOOD, segmentations=[None, dict(GOOD_RLE, counts=GOOD_RLE['counts'][:-1])] * 2)],
            None,
            r'track 0 \(video 1\) frame 1: RLE counts .*: the mask is cut short or corrupt \(2',
        ),
        (
            'results.json',
            [dict(GOOD, segmentations=[dict(GOOD_RLE, counts='PP`0'), None, None, None])],
            None,
            r'frame 0: RLE counts sum to 16384, not height x width = 40 x 40 = 1600',
        ),
        (
            'results.json',
            [dict(GOOD, segmentations=[dict(GOOD_RLE, size=[40]), None, None, None])],
            None,
            r'frame 0: RLE size must be \[height, width\], two positive integers, got \[40\]',
        ),
    ],
)
def test_bad_submissions_are_named(tmp_path, val_json, member, tracks, benchmark, message):
    zip_path = write_zip(tmp_path / 'bad.zip', tracks, member)
    with pytest.raises(SubmissionError, match=message) as error:
        check_submission_zip(zip_path, benchmark=benchmark, val_json=val_json)
    assert 'bad.zip' in str(error.value)


def test_a_good_submission_passes(tmp_path, val_json):
    zip_path = write_zip(tmp_path / 'good.zip', [GOOD])
    assert check_submission_zip(zip_path, benchmark='youtube_vis_2021', val_json=val_json) == [GOOD]


def test_not_a_zip_is_named(tmp_path):
    path = tmp_path / 'results.zip'
    path.write_text('not a zip')
    with pytest.raises(SubmissionError, match='results.zip: not a readable zip'):
        check_submission_zip(str(path))


def test_missing_zip_is_named(tmp_path):
    with pytest.raises(SubmissionError, match='absent.zip: cannot be read'):
        check_submission_zip(str(tmp_path / 'absent.zip'))


def test_the_submission_carries_the_jsons_category_ids(tmp_path, val_json):
    """mmdet wrote label + 1: wrong for a json whose ids are not 1..K in class order."""
    metric = YouTubeVISLocalMetric(format_only=True, outfile_prefix=str(tmp_path / 'results'))
    metric.dataset_meta = dict(classes=('car', 'person'), category_ids=(7, 3))
    predictions = [track(CAR, BOX_A, frames=(0, 1)), track(PERSON, BOX_B, score=0.8)]
    metric.process({}, [make_video(GT, predictions, True).to_dict()])
    metric.evaluate(size=1)
    tracks = check_submission_zip(str(tmp_path / 'results.submission_file.zip'))
    assert [t['category_id'] for t in tracks] == [7, 3]
