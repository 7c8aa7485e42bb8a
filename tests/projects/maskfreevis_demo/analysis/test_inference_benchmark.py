"""The inference benchmark's pieces: benchmark videos, one measurement, the report table."""

import os.path as osp

from maskfreevis.apis.video_source import read_video_file
from maskfreevis.testing.sample_videos import sample_video_path
from maskfreevis_demo.analysis.inference_benchmark import (
    format_report,
    make_benchmark_video,
    measure_inference,
)

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))))
CONFIG = osp.join(REPO_ROOT, 'configs/maskfreevis/maskfreevis_r18_1xb4-800iter_synthetic.py')


def test_benchmark_video_has_the_length_and_size_asked(tmp_path):
    path = str(tmp_path / 'bench.mp4')
    footage = make_benchmark_video(path, 7, (64, 36))
    expected = 'bikes.mp4' if sample_video_path('bikes.mp4') else 'generated'
    assert expected in footage
    frames = read_video_file(path)
    assert len(frames) == 7 and frames[0].shape == (36, 64, 3)


def test_one_windowed_measurement(tmp_path):
    path = str(tmp_path / 'bench.mp4')
    make_benchmark_video(path, 6, (64, 36))
    measured = measure_inference(CONFIG, None, path, window=4, overlap=1)
    assert measured['frames'] == 6 and measured['fps'] > 0
    assert measured['peak_rss_mib'] >= measured['rss_before_mib'] > 0
    assert measured['cpu_seconds_per_frame'] > 0


def test_report_table():
    rows = [
        dict(
            mode='whole video',
            device='cpu',
            frames=50,
            fps=10.2,
            cpu_seconds_per_frame=0.1,
            peak_rss_mib=1154.8,
            rss_before_mib=472.1,
        ),
        dict(mode='whole video', device='cpu', frames=1000, error='failed (exit -9): killed'),
    ]
    report = format_report(rows, 'title')
    lines = report.splitlines()
    assert lines[0] == 'title'
    assert lines[3] == '| whole video | cpu | 50 | 10.20 | 0.100 | 1155 | 472 |'
    assert 'failed (exit -9)' in lines[4]
