"""``tools/dataset_converters/mot_to_ytvis.py``: sequence selection, data root, refusals."""

import json
import os
import os.path as osp
import subprocess
import sys

import pytest

from .conftest import REPO_ROOT

SEQINFO = '[Sequence]\nimDir=img1\nseqLength=3\nimWidth=64\nimHeight=48\nimExt=.jpg\n'


@pytest.fixture(scope='module')
def tool(load_tool):
    return load_tool('dataset_converters/mot_to_ytvis.py')


@pytest.fixture
def mot_root(tmp_path):
    """MOT17-like train folder: one sequence twice (two detector suffixes)."""
    for name in ('MOT17-02-DPM', 'MOT17-02-FRCNN'):
        os.makedirs(tmp_path / name / 'gt')
        (tmp_path / name / 'seqinfo.ini').write_text(SEQINFO)
        (tmp_path / name / 'gt' / 'gt.txt').write_text(
            '1,1,1,2,10,20,1,1,1\n3,1,3,2,10,20,1,1,1\n2,2,5,5,4,4,0,8,1\n'
        )
    return tmp_path


def test_converts_the_chosen_sequences(tool, mot_root, capsys):
    output = mot_root / 'annotations' / 'train.json'
    assert tool.main([str(mot_root), '-o', str(output), '--sequences', '*-FRCNN']) == 0
    data = json.loads(output.read_text())
    (video,) = data['videos']
    assert video['file_names'][0] == 'MOT17-02-FRCNN/img1/000001.jpg'
    assert data['annotations'][0]['bboxes'] == [
        [1.0, 2.0, 10.0, 20.0],
        None,
        [3.0, 2.0, 10.0, 20.0],
    ]
    assert '1 videos, 3 frames, 1 tracks, 2 boxes, 1 categories' in capsys.readouterr().out

    # A single sequence folder: names stay relative to its parent.
    single = mot_root / 'single.json'
    assert tool.main([str(mot_root / 'MOT17-02-DPM'), '-o', str(single)]) == 0
    assert (
        json.loads(single.read_text())['videos'][0]['file_names'][0]
        == 'MOT17-02-DPM/img1/000001.jpg'
    )


def test_bad_input_and_overwriting_an_input_fail_cleanly(tool, mot_root, capsys):
    gt_file = mot_root / 'MOT17-02-DPM' / 'gt' / 'gt.txt'
    before = gt_file.read_text()
    assert tool.main([str(mot_root), '-o', str(gt_file)]) == 1
    assert 'refusing to write' in capsys.readouterr().err
    assert gt_file.read_text() == before
    assert tool.main([str(mot_root), '-o', str(mot_root / 'x.json'), '--sequences', 'MOT20*']) == 1
    assert "no sequence matches --sequences 'MOT20*'" in capsys.readouterr().err
    gt_file.write_text(before + '9,1,1,1,1,1,1,1,1\n')
    assert tool.main([str(mot_root), '-o', str(mot_root / 'x.json')]) == 1
    assert f'{gt_file}:4: frame is outside the sequence' in capsys.readouterr().err
    assert not osp.exists(mot_root / 'x.json')


def test_runs_as_a_script(mot_root):
    output = mot_root / 'out.json'
    result = subprocess.run(
        [
            sys.executable,
            'tools/dataset_converters/mot_to_ytvis.py',
            str(mot_root),
            '-o',
            str(output),
        ],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert len(json.loads(output.read_text())['videos']) == 2


def test_a_mot15_sequence_is_not_converted_to_an_empty_dataset(tool, tmp_path, capsys):
    """2DMOT2015 gt.txt: 10 columns, world coordinates -1 where MOT17 has class and
    visibility."""
    os.makedirs(tmp_path / 'PETS09-S2L1' / 'gt')
    (tmp_path / 'PETS09-S2L1' / 'seqinfo.ini').write_text(SEQINFO)
    (tmp_path / 'PETS09-S2L1' / 'gt' / 'gt.txt').write_text(
        '1,1,1,2,10,20,1,-1,-1,-1\n3,1,3,2,10,20,1,-1,-1,-1\n2,2,5,5,4,4,1,-1,-1,-1\n'
    )
    output = tmp_path / 'train.json'
    assert tool.main([str(tmp_path), '-o', str(output)]) == 0
    data = json.loads(output.read_text())
    assert [ann['bboxes'] for ann in data['annotations']] == [
        [[1.0, 2.0, 10.0, 20.0], None, [3.0, 2.0, 10.0, 20.0]],
        [None, [5.0, 5.0, 4.0, 4.0], None],
    ]
    assert '1 videos, 3 frames, 2 tracks, 3 boxes, 1 categories' in capsys.readouterr().out


def test_a_conversion_that_drops_every_box_writes_nothing(tool, mot_root, capsys):
    output = mot_root / 'empty.json'
    assert tool.main([str(mot_root), '-o', str(output), '--min-visibility', '2']) == 1
    error = capsys.readouterr().err
    assert 'mot_to_ytvis: error: every box of the input was dropped (' in error
    assert 'rows with visibility < 2.0 (dropped): 4' in error and '--min-visibility' in error
    assert not output.exists()
    for name in ('MOT17-02-DPM', 'MOT17-02-FRCNN'):
        (mot_root / name / 'gt' / 'gt.txt').write_text('')
    assert tool.main([str(mot_root), '-o', str(output)]) == 0
    assert 'warning: the input holds no box' in capsys.readouterr().out
