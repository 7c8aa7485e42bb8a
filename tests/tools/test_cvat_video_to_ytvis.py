"""``tools/dataset_converters/cvat_video_to_ytvis.py``: several exports, data root, refusals."""

import json
import os

import pytest

XML = (
    '<annotations><version>1.1</version><meta><task><size>3</size><original_size><width>64'
    '</width><height>48</height></original_size><labels><label><name>{label}</name></label>'
    '</labels></task></meta><track id="0" label="{label}"><box frame="0" outside="0" '
    'occluded="0" keyframe="1" xtl="1" ytl="2" xbr="11" ybr="22"/><box frame="2" outside="1" '
    'occluded="0" keyframe="1" xtl="1" ytl="2" xbr="11" ybr="22"/></track></annotations>'
)


@pytest.fixture(scope='module')
def tool(load_tool):
    return load_tool('dataset_converters/cvat_video_to_ytvis.py')


@pytest.fixture
def exports(tmp_path):
    paths = []
    for task, label in (('task_a', 'cat'), ('task_b', 'dog')):
        os.makedirs(tmp_path / task)
        (tmp_path / task / 'annotations.xml').write_text(XML.format(label=label))
        paths.append(str(tmp_path / task / 'annotations.xml'))
    return paths


def test_converts_every_export_into_one_json(tool, exports, tmp_path, capsys):
    output = tmp_path / 'train.json'
    assert tool.main(exports + ['-o', str(output)]) == 0
    data = json.loads(output.read_text())
    assert [video['file_names'][0] for video in data['videos']] == [
        'task_a/images/frame_000000.png',
        'task_b/images/frame_000000.png',
    ]
    assert data['categories'] == [dict(id=1, name='cat'), dict(id=2, name='dog')]
    expected = [[1.0, 2.0, 10.0, 20.0], [1.0, 2.0, 10.0, 20.0], None]
    assert [ann['bboxes'] for ann in data['annotations']] == [expected, expected]
    assert '2 videos, 6 frames, 2 tracks, 4 boxes, 2 categories' in capsys.readouterr().out

    assert (
        tool.main(
            exports[:1]
            + ['-o', str(output), '--classes', 'cat', '--data-root', str(tmp_path / 'task_a')]
        )
        == 0
    )
    assert json.loads(output.read_text())['videos'][0]['file_names'][0] == 'images/frame_000000.png'


def test_refusals_name_the_problem(tool, exports, tmp_path, capsys):
    assert tool.main(exports + ['-o', exports[1]]) == 1
    assert 'refusing to write' in capsys.readouterr().err
    with open(exports[0], 'w') as stream:
        stream.write(XML.format(label='cat').replace('xbr="11"', 'xbr="-5"', 1))
    assert tool.main(exports + ['-o', str(tmp_path / 'out.json')]) == 1
    assert '<track id="0" label="cat"> <box frame="0">: negative size' in capsys.readouterr().err
