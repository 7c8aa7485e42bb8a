"""tools/analysis_tools/benchmark_inference.py end to end on tiny videos (each run a process)."""


def test_windowed_and_whole_runs_in_fresh_processes(load_tool, tmp_path):
    tool = load_tool('analysis_tools/benchmark_inference.py')
    out = tmp_path / 'report.md'
    argv = ['--lengths', '5', '--whole-lengths', '5', '--size', '64', '36']
    rows = tool.main(argv + ['--window', '3', '--overlap', '1', '--out', str(out)])
    assert [row['mode'] for row in rows] == ['windows of 3 (overlap 1)', 'whole video']
    assert all(row['frames'] == 5 and row['fps'] > 0 for row in rows)
    assert all(row['peak_rss_mib'] > 0 for row in rows)
    report = out.read_text()
    assert '| windows of 3 (overlap 1) | cpu | 5 |' in report and 'random weights' in report
