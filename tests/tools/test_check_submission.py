"""``tools/analysis_tools/check_submission.py``: a summary for a good zip, else the problem."""

import json
import zipfile

TOOL = 'analysis_tools/check_submission.py'
RLE = dict(size=[4, 6], counts='PP`0')


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
