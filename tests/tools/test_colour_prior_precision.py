"""The colour-prior command line reads knobs, scale and mask stride from the demo config."""

import json
import os

import pytest
from mmengine.config import Config

from maskfreevis_demo.analysis.colour_prior_precision import (
    find_resize_scale,
    loss_knobs,
    mask_stride_of,
)
from tests.projects.maskfreevis_demo.analysis.square_video import write_square_video


def test_demo_config_knobs_scale_and_stride(load_tool):
    tool = load_tool('analysis_tools/colour_prior_precision.py')
    config = Config.fromfile(tool.DEFAULT_CONFIG)
    assert find_resize_scale(config.test_pipeline) == (96, 64)
    assert mask_stride_of(config) == 4
    pair, tk = loss_knobs(config)
    assert pair == dict(kernel_size=3, dilation=2, threshold=0.3)
    assert tk['pairing'] == 'all' and tk['dilation'] == 3 and tk['topk'] == 5


def test_command_line_writes_the_json(load_tool, tmp_path, capsys):
    tool = load_tool('analysis_tools/colour_prior_precision.py')
    ann_file, img_dir = write_square_video(str(tmp_path))
    out = tmp_path / 'result.json'
    tool.main(
        [
            '--ann-file',
            ann_file,
            '--img-dir',
            img_dir,
            '--scale',
            '48',
            '32',
            '--out',
            str(out),
            '--cfg-options',
            'model.track_head.criterion.loss_pair.dilation=1',
        ]
    )
    result = json.loads(out.read_text())
    assert result['pair_knobs']['dilation'] == 1 and result['mask_stride'] == 4
    assert result['colour_space'] == 'rgb'
    assert result['scale'] == [48, 32] and result['pair_kept_precision'] == 1.0
    assert '| pairwise' in capsys.readouterr().out


class _Measured(Exception):
    """Stops the tool once it has chosen its scale."""


def test_scale_comes_from_the_test_loader_pipeline(load_tool, monkeypatch):
    """Swin-L configs keep the 360 pipeline as `test_pipeline` but test at 480: the tool must
    measure at the scale the test loader really uses."""
    tool = load_tool('analysis_tools/colour_prior_precision.py')
    config_file = os.path.join(
        os.path.dirname(tool.DEFAULT_CONFIG),
        'maskfreevis_swin-l-p4-w12-384-in21k_8xb1-12k_youtubevis2019.py',
    )

    def stop_at_measure(ann_file, img_dir, scale, *args, **kwargs):
        raise _Measured(tuple(scale))

    monkeypatch.setattr(tool, 'measure', stop_at_measure)
    with pytest.raises(_Measured) as measured:
        tool.main(['--ann-file', 'unused.json', '--img-dir', 'unused', '--config', config_file])
    assert measured.value.args[0] == (1333, 480)


def test_command_line_takes_the_release_colours(load_tool, tmp_path):
    tool = load_tool('analysis_tools/colour_prior_precision.py')
    ann_file, img_dir = write_square_video(str(tmp_path))
    out = tmp_path / 'release.json'
    arguments = ['--ann-file', ann_file, '--img-dir', img_dir, '--scale', '48', '32']
    options = ['--cfg-options', 'model.data_preprocessor.colour_space=release']
    tool.main(arguments + ['--out', str(out)] + options)
    result = json.loads(out.read_text())
    assert result['colour_space'] == 'release' and result['pair_kept_precision'] == 1.0
