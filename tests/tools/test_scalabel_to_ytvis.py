"""``tools/dataset_converters/scalabel_to_ytvis.py``: the BDD100K preset and refusals."""

import json

import pytest


@pytest.fixture(scope='module')
def tool(load_tool):
    return load_tool('dataset_converters/scalabel_to_ytvis.py')


def frame(index, labels):
    return {
        'name': f'v-{index:07d}.jpg',
        'videoName': 'v',
        'frameIndex': index,
        'size': {'width': 1280, 'height': 720},
        'labels': labels,
    }


def box_label(label_id, category, x1):
    return {
        'id': label_id,
        'category': category,
        'box2d': {'x1': x1, 'y1': 10, 'x2': x1 + 9, 'y2': 29},
    }


def test_bdd100k_preset(tool, tmp_path, capsys):
    source = tmp_path / 'v.json'
    source.write_text(
        json.dumps(
            [
                frame(0, [box_label('1', 'car', 0), box_label('2', 'trailer', 50)]),
                frame(1, [box_label('1', 'car', 4)]),
            ]
        )
    )
    output = tmp_path / 'out' / 'train.json'
    assert tool.main([str(source), '-o', str(output), '--bdd100k']) == 0
    data = json.loads(output.read_text())
    assert [c['name'] for c in data['categories']] == [
        'pedestrian',
        'rider',
        'car',
        'truck',
        'bus',
        'train',
        'motorcycle',
        'bicycle',
    ]
    (car,) = data['annotations']
    assert car['category_id'] == 3
    assert car['bboxes'] == [[0.0, 10.0, 10.0, 20.0], [4.0, 10.0, 10.0, 20.0]]
    assert '1 videos, 2 frames, 1 tracks, 2 boxes, 8 categories' in capsys.readouterr().out
    with pytest.raises(SystemExit):
        tool.parse_args([str(source), '-o', str(output), '--bdd100k', '--classes', 'car'])


def test_refusals(tool, tmp_path, capsys):
    source = tmp_path / 'v.json'
    source.write_text(json.dumps([frame(0, [box_label('1', 'lorry', 0)])]))
    assert tool.main([str(source), '-o', str(source)]) == 1
    assert 'refusing to write' in capsys.readouterr().err
    assert tool.main([str(source), '-o', str(tmp_path / 'o.json'), '--classes', 'car']) == 1
    assert "v.json: [0].labels[0]: unknown category 'lorry'" in capsys.readouterr().err
