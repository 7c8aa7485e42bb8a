"""``tools/dataset_converters/split_by_video.py``: writes both splits, refuses overwriting."""

import json

import pytest


@pytest.fixture(scope='module')
def tool(load_tool):
    return load_tool('dataset_converters/split_by_video.py')


@pytest.fixture
def train_json(tmp_path):
    videos = [
        dict(id=i, file_names=[f'v{i}/0.jpg'], width=32, height=32, length=1) for i in range(1, 6)
    ]
    annotations = [
        dict(
            id=10 + i,
            video_id=i,
            category_id=1,
            bboxes=[[0, 0, 4, 4]],
            iscrowd=0,
            segmentations=[[[0, 0, 4, 0, 4, 4, 0, 4]]],
        )
        for i in range(1, 6)
    ]
    path = tmp_path / 'train.json'
    path.write_text(
        json.dumps(
            dict(
                videos=videos,
                annotations=annotations,
                categories=[dict(id=1, name='a'), dict(id=2, name='b')],
            )
        )
    )
    return path


def test_writes_both_splits(tool, train_json, tmp_path, capsys):
    train_out, val_out = tmp_path / 'local_train.json', tmp_path / 'local_val.json'
    args = [str(train_json), '--train-out', str(train_out), '--val-out', str(val_out)]
    assert tool.main(args + ['--val-count', '2', '--seed', '1']) == 0
    train, val = json.loads(train_out.read_text()), json.loads(val_out.read_text())
    assert len(train['videos']) == 3 and len(val['videos']) == 2
    assert val['annotations'][0]['segmentations'] is not None  # masks kept for local mask AP
    out = capsys.readouterr().out
    assert 'val: ' in out and "warning: 1 categories have no val annotation: ['b']" in out
    first_val = val_out.read_text()
    assert tool.main(args + ['--val-ratio', '0.4', '--seed', '1']) == 0
    assert val_out.read_text() == first_val  # 0.4 of 5 videos is the same 2, same seed


def test_refuses_to_overwrite(tool, train_json, tmp_path, capsys):
    before = train_json.read_text()
    assert (
        tool.main(
            [
                str(train_json),
                '--train-out',
                str(train_json),
                '--val-out',
                str(tmp_path / 'v.json'),
                '--val-count',
                '1',
            ]
        )
        == 1
    )
    assert (
        tool.main(
            [
                str(train_json),
                '--train-out',
                str(tmp_path / 't.json'),
                '--val-out',
                str(tmp_path / 't.json'),
                '--val-count',
                '1',
            ]
        )
        == 1
    )
    error = capsys.readouterr().err
    assert 'refusing to write' in error
    assert (
        f'--train-out and --val-out are one file ({tmp_path / "t.json"}); give two paths' in error
    )
    assert train_json.read_text() == before
    with pytest.raises(SystemExit):
        tool.parse_args([str(train_json), '--train-out', 'a', '--val-out', 'b'])


def test_a_cut_short_input_is_named(tool, train_json, tmp_path, capsys):
    """It said only "Expecting value: line 1 column 13 (char 12)"."""
    text = train_json.read_text()
    train_json.write_text(text[: len(text) // 2])
    args = [str(train_json), '--train-out', str(tmp_path / 't.json'), '--val-out']
    assert tool.main(args + [str(tmp_path / 'v.json'), '--val-count', '1']) == 1
    error = capsys.readouterr().err
    assert f'split_by_video: error: {train_json}: invalid json at line 1' in error
    assert 'is it complete' in error
