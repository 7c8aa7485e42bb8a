"""``tools/analysis_tools/check_submission.py``: a summary for a good zip, else the problem."""

import json
import zipfile

TOOL = 'analysis_tools/check_submission.py'
RLE = dict(size=[4, 6], counts='9220003')  # a 2 x 3 rectangle in a 4 x 6 frame


def write_zip(path, tracks) -> str:
    with zipfile.ZipFile(path, 'w') as archive:
        archive.writestr('results.json', json.dumps(tracks))
    return str(path)


def test_good_zip_summarised(load_tool, tmp_path, capsys):
    tracks = [
        dict(video_id=v, category_id=25, score=0.5, segmentations=[RLE, None]) for v in (1, 2)
    ]
    assert (
        load_tool(TOOL).main([write_zip(tmp_path / 'ok.zip', tracks), '--benchmark', 'ovis']) == 0
    )
    assert '2 tracks over 2 videos, layout ok' in capsys.readouterr().out


def test_bad_zip_named_with_exit_status_one(load_tool, tmp_path, capsys):
    tracks = [dict(video_id=1, category_id=41, score=0.5, segmentations=[RLE])]
    path = write_zip(tmp_path / 'bad.zip', tracks)
    assert load_tool(TOOL).main([path, '--benchmark', 'youtube_vis_2021']) == 1
    error = capsys.readouterr().err
    assert 'bad.zip: track 0 (video 1): category_id 41 is outside 1..40' in error


def test_corrupt_mask_is_not_layout_ok(load_tool, tmp_path, capsys):
    """A cut-short RLE hangs the server's evaluation; it used to pass as "layout ok"."""
    tracks = [
        dict(video_id=1, category_id=3, score=0.5, segmentations=[RLE, dict(RLE, counts='922')])
    ]
    path = write_zip(tmp_path / 'cut.zip', tracks)
    assert load_tool(TOOL).main([path]) == 1
    error = capsys.readouterr().err
    assert 'cut.zip: track 0 (video 1) frame 1: RLE counts sum to 13, not height x width' in error
    assert 'layout ok' not in error


def test_an_empty_or_partial_submission_is_said(load_tool, tmp_path, capsys):
    path = write_zip(tmp_path / 'empty.zip', [])
    assert load_tool(TOOL).main([path]) == 0
    assert 'holds no track at all' in capsys.readouterr().out
    val_json = tmp_path / 'valid.json'
    videos = [dict(id=v, height=4, width=6, file_names=['a.jpg', 'b.jpg']) for v in (1, 2, 3)]
    val_json.write_text(json.dumps(dict(videos=videos)))
    tracks = [dict(video_id=2, category_id=3, score=0.5, segmentations=[RLE, None])]
    path = write_zip(tmp_path / 'partial.zip', tracks)
    assert load_tool(TOOL).main([path, '--val-json', str(val_json)]) == 0
    assert (
        f'warning: 2 of the 3 videos of {val_json} have no track (e.g. video 1); they score as '
        'missed' in capsys.readouterr().out
    )
