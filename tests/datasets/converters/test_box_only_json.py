"""The converters' common json builder, row grouping and safe writing."""

import json
import os

import numpy as np
import pytest

from maskfreevis.datasets import AnnotationError
from maskfreevis.datasets.converters import (
    BoxTrack,
    VideoBoxTracks,
    build_box_only_json,
    check_output_path,
    group_rows_into_tracks,
    summarise,
    write_json,
)


def test_build_lays_out_tracks_with_nulls_and_ids():
    videos = [
        VideoBoxTracks(
            ['a/0.jpg', 'a/1.jpg', 'a/2.jpg'],
            64,
            48,
            [
                BoxTrack(
                    'dog', np.array([2, 0]), np.array([[1, 2, 3, 4], [5, 6, 7, 8]]), iscrowd=True
                ),
                BoxTrack('cat', np.array([], dtype=int), np.zeros((0, 4))),
            ],
        ),
        VideoBoxTracks(
            ['b/0.jpg'], 32, 32, [BoxTrack('cat', np.array([0]), np.array([[0, 0, 2, 2]]))]
        ),
    ]
    data = build_box_only_json(videos, ['cat', 'dog'])
    assert data['categories'] == [dict(id=1, name='cat'), dict(id=2, name='dog')]
    assert [video['length'] for video in data['videos']] == [3, 1]
    dog, cat = data['annotations']  # the empty track is left out
    assert dog == dict(
        id=1,
        video_id=1,
        category_id=2,
        segmentations=None,
        iscrowd=1,
        bboxes=[[5.0, 6.0, 7.0, 8.0], None, [1.0, 2.0, 3.0, 4.0]],
        areas=[56.0, None, 12.0],
    )
    assert (cat['id'], cat['video_id'], cat['category_id']) == (2, 2, 1)
    assert summarise(data) == '2 videos, 4 frames, 2 tracks, 3 boxes, 2 categories'


def test_build_refuses_unknown_categories_and_bad_frames():
    video = VideoBoxTracks(
        ['0.jpg'], 8, 8, [BoxTrack('cow', np.array([0]), np.ones((1, 4)), source='in.txt:3')]
    )
    with pytest.raises(AnnotationError, match=r"in.txt:3: category 'cow' is not among"):
        build_box_only_json([video], ['cat'])
    video.tracks[0].frame_indices = np.array([1])
    with pytest.raises(AnnotationError, match='in.txt:3: frame positions'):
        build_box_only_json([video], ['cow'])


def test_group_rows_into_tracks_orders_and_checks():
    frames = np.array([3, 1, 2, 1])
    keys = np.array(['b', 'b', 'a', 'a'])
    boxes = np.arange(16, dtype=float).reshape(4, 4)
    tracks = group_rows_into_tracks(frames, keys, boxes, ['x'] * 4, lambda row: f'row {row}')
    assert [track.frame_indices.tolist() for track in tracks] == [[1, 2], [1, 3]]
    assert tracks[1].boxes_xywh[:, 0].tolist() == [4.0, 0.0]
    assert tracks[0].source == 'row 3'
    with pytest.raises(
        AnnotationError,
        match=r'row 1: object b already has a box on this frame '
        r'\(row 0\)',
    ):
        group_rows_into_tracks(
            np.array([1, 1, 2, 1]), keys, boxes, ['x'] * 4, lambda row: f'row {row}'
        )
    assert (
        group_rows_into_tracks(np.zeros(0), np.zeros(0), np.zeros((0, 4)), [], lambda row: '') == []
    )


def test_output_that_is_an_input_is_refused(tmp_path):
    source = tmp_path / 'in.json'
    source.write_text('{"keep": true}')
    link = tmp_path / 'link.json'
    link.symlink_to(source)
    hard = tmp_path / 'hard.json'
    os.link(source, hard)
    for output in (source, link, hard, tmp_path / 'sub' / '..' / 'in.json'):
        with pytest.raises(ValueError, match='refusing to write .*: it is the input'):
            write_json({}, str(output), [str(source)])
    with pytest.raises(ValueError, match='is a folder'):
        check_output_path(str(tmp_path), [str(source)])
    assert source.read_text() == '{"keep": true}'

    write_json({'videos': []}, str(tmp_path / 'new' / 'out.json'), [str(source)])
    assert json.loads((tmp_path / 'new' / 'out.json').read_text()) == {'videos': []}
    assert os.listdir(tmp_path / 'new') == ['out.json']  # no temporary file left
    umask = os.umask(0)
    os.umask(umask)
    assert os.stat(tmp_path / 'new' / 'out.json').st_mode & 0o777 == 0o666 & ~umask
