"""``tools/model_converters/publish_model.py``: the input is read safely, the output is plain."""

import os
import os.path as osp

import pytest
import torch
from mmengine.logging import HistoryBuffer

from maskfreevis.utils import TRUST_ENV_VAR, UntrustedCheckpointError


@pytest.fixture
def publish_tool(load_tool, monkeypatch):
    monkeypatch.delenv(TRUST_ENV_VAR, raising=False)
    return load_tool('model_converters/publish_model.py')


def test_weights_and_plain_meta_published(publish_tool, tmp_path):
    source = str(tmp_path / 'iter_4.pth')
    torch.save(
        {
            'state_dict': {'w': torch.ones(2)},
            'optimizer': {'lr': 0.1},
            'meta': {'iter': 4, 'cfg': 'model = ...', 'dataset_meta': {'classes': ['a']}},
        },
        source,
    )
    published = publish_tool.publish(source, str(tmp_path / 'model.pth'))
    assert osp.basename(published).startswith('model-') and published.endswith('.pth')
    loaded = torch.load(published, weights_only=True)
    assert set(loaded) == {'state_dict', 'meta'} and loaded['meta']['iter'] == 4
    assert 'cfg' not in loaded['meta']
    assert not [name for name in os.listdir(tmp_path) if name.endswith('.partial')]


def test_crafted_input_is_refused_and_runs_nothing(
    publish_tool, tmp_path, write_crafted_checkpoint
):
    source = str(tmp_path / 'crafted.pth')
    marker = write_crafted_checkpoint(source)
    with pytest.raises(UntrustedCheckpointError, match='--trust'):
        publish_tool.main([source, str(tmp_path / 'out.pth')])
    assert not osp.exists(marker)
    assert not osp.exists(tmp_path / 'out.pth')


def test_trust_flag_publishes_a_legacy_checkpoint(publish_tool, tmp_path):
    history = HistoryBuffer()
    history.update(1.0)
    source = str(tmp_path / 'legacy.pth')
    torch.save({'state_dict': {'w': torch.ones(2)}, 'message_hub': history}, source)
    with pytest.raises(UntrustedCheckpointError):
        publish_tool.publish(source, str(tmp_path / 'out.pth'))
    published = publish_tool.publish(source, str(tmp_path / 'out.pth'), trust=True)
    assert torch.equal(torch.load(published, weights_only=True)['state_dict']['w'], torch.ones(2))


def test_missing_input_is_named(publish_tool, tmp_path, capsys):
    with pytest.raises(SystemExit):
        publish_tool.main([str(tmp_path / 'nope.pth'), str(tmp_path / 'out.pth')])
    assert 'nope.pth does not exist' in capsys.readouterr().err
