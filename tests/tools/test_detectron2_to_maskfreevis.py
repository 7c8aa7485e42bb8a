"""``tools/model_converters/detectron2_to_maskfreevis.py``: a detectron2 .pkl in, a checkpoint
that loads strictly out; a checkpoint that does not fit: every key listed, nothing written."""

import pickle

import pytest
import torch
from mmengine.config import Config

from tests.model_converters.small_targets import (
    build_small_video_model,
    small_detectron2_reference,
    small_video_model_cfg,
)


@pytest.fixture(scope='module')
def tool(load_tool):
    return load_tool('model_converters/detectron2_to_maskfreevis.py')


@pytest.fixture
def files(tmp_path):
    """(config file of the small model, detectron2-style .pkl of matching weights)."""
    config = tmp_path / 'small_model.py'
    Config(dict(model=small_video_model_cfg(), default_scope='mmdet')).dump(str(config))
    reference = small_detectron2_reference()
    source = tmp_path / 'model_final.pkl'
    with open(source, 'wb') as handle:
        pickle.dump(
            {
                'model': {key: value.numpy() for key, value in reference.state_dict().items()},
                '__author__': 'test',
            },
            handle,
        )
    return str(config), str(source)


def test_converts_a_pkl_into_a_strictly_loading_checkpoint(tool, files, tmp_path, capsys):
    config, source = files
    output = tmp_path / 'converted.pth'
    assert tool.main([config, source, str(output)]) == 0
    printed = capsys.readouterr().out
    assert 'dropped as no model weights (2): criterion.empty_weight, criterion._iter' in printed
    assert 'class head kept' in printed and 'written to' in printed
    assert 'WARNING' not in printed  # the config normalises as the released models
    checkpoint = torch.load(output, weights_only=True)
    assert checkpoint['meta']['source_format'] == 'detectron2'
    build_small_video_model().load_state_dict(checkpoint['state_dict'], strict=True)


def test_unfitting_checkpoint_lists_keys_and_writes_nothing(tool, files, tmp_path, capsys):
    config, source = files
    output = tmp_path / 'converted.pth'
    assert (
        tool.main(
            [
                config,
                source,
                str(output),
                '--no-default-drops',
                '--cfg-options',
                'model.track_head.num_queries=9',
            ]
        )
        == 1
    )
    error = capsys.readouterr().err
    assert 'source keys without a conversion rule (2):' in error
    assert 'criterion.empty_weight' in error
    assert 'track_head.query_feat.weight: converted [8, 64] vs model [9, 64]' in error
    assert not output.exists()
