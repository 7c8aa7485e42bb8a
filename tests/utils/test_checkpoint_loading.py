"""``read_checkpoint``: weights-only unless trusted, refusals and unreadable files named, nothing
registered process-wide."""

import os.path as osp

import numpy as np
import pytest
import torch
from mmengine.logging import HistoryBuffer

from maskfreevis.utils import (
    TRUST_ENV_VAR,
    UntrustedCheckpointError,
    is_trusted_checkpoint,
    read_checkpoint,
    trust_checkpoints,
)


@pytest.fixture
def no_env_trust(monkeypatch):
    monkeypatch.delenv(TRUST_ENV_VAR, raising=False)


@pytest.fixture
def crafted(write_crafted_checkpoint):
    """``crafted(directory) -> (path, marker)``."""

    def write(directory) -> tuple:
        path = str(directory / 'crafted.pth')
        return path, write_crafted_checkpoint(path)

    return write


def test_crafted_pickle_outside_work_dir_is_refused(tmp_path, no_env_trust, crafted):
    path, marker = crafted(tmp_path)
    with pytest.raises(UntrustedCheckpointError) as error:
        read_checkpoint(path, map_location='cpu')
    assert path in str(error.value)
    assert TRUST_ENV_VAR in str(error.value) and 'trusted_checkpoints' in str(error.value)
    # torch's long message is cut to the line that says what was rejected.
    assert 'unsupported GLOBAL os.makedirs whose module os is blocked' in str(error.value)
    assert 'In PyTorch 2.6' not in str(error.value)
    assert not osp.exists(marker), 'the payload must not have run'


def test_crafted_pickle_refused_even_when_another_dir_is_trusted(tmp_path, no_env_trust, crafted):
    (tmp_path / 'downloads').mkdir()
    (tmp_path / 'work_dir').mkdir()
    path, marker = crafted(tmp_path / 'downloads')
    # A sibling whose name extends the trusted dir's name must not count as inside it.
    with trust_checkpoints([str(tmp_path / 'work_dir'), str(tmp_path / 'download')]):
        with pytest.raises(UntrustedCheckpointError):
            read_checkpoint(path, map_location='cpu')
    assert not osp.exists(marker)


def test_env_var_opts_in(tmp_path, monkeypatch, crafted):
    path, marker = crafted(tmp_path)
    monkeypatch.setenv(TRUST_ENV_VAR, '1')
    checkpoint = read_checkpoint(path, map_location='cpu')
    assert torch.equal(checkpoint['state_dict']['w'], torch.ones(2))
    assert osp.isdir(marker), 'a trusted full unpickle really ran the pickle'


def test_trusted_directory_is_only_trusted_inside_the_context(tmp_path, no_env_trust, crafted):
    path, _ = crafted(tmp_path)
    with trust_checkpoints([str(tmp_path)]):
        assert is_trusted_checkpoint(path)
        assert 'payload' in read_checkpoint(path, map_location='cpu')
    assert not is_trusted_checkpoint(path)


def test_weights_only_checkpoints_need_no_trust(tmp_path, no_env_trust):
    path = str(tmp_path / 'weights.pth')
    # numpy values in `meta` are on the allow-list of harmless globals.
    torch.save(
        {
            'state_dict': {'w': torch.arange(3.0)},
            'meta': {'iter': 4, 'seed': np.int64(7), 'scores': np.arange(2.0)},
        },
        path,
    )
    checkpoint = read_checkpoint(path, map_location='cpu')
    assert torch.equal(checkpoint['state_dict']['w'], torch.arange(3.0))
    assert checkpoint['meta']['seed'] == 7 and checkpoint['meta']['scores'].tolist() == [0.0, 1.0]


def test_refusal_names_the_rejected_global(tmp_path, no_env_trust):
    # mmengine's HistoryBuffer pickles numpy scalars through `getattr`, which is never allowed.
    path = str(tmp_path / 'runner_state.pth')
    history = HistoryBuffer()
    history.update(1.5)
    torch.save({'message_hub': history}, path)
    with pytest.raises(UntrustedCheckpointError, match='Unsupported global'):
        read_checkpoint(path, map_location='cpu')


def test_missing_file_names_the_file(tmp_path):
    missing = str(tmp_path / 'nope.pth')
    with pytest.raises(FileNotFoundError, match='nope.pth'):
        read_checkpoint(missing, map_location='cpu')


def test_numpy_values_of_other_tools_load_without_changing_torchs_list(tmp_path):
    """numpy arrays / scalars (e.g. in another tool's ``meta``) are allowed only while reading,
    and a caller's own allowed globals stay allowed."""
    from collections import Counter

    path = str(tmp_path / 'state.pth')
    torch.save(
        {
            'milestones': Counter({640: 1}),
            'eta': np.float64(1.5),
            'history': np.arange(3, dtype=np.int64),
            'mask': np.zeros(2, dtype=bool),
        },
        path,
    )
    before = torch.serialization.get_safe_globals()
    torch.serialization.add_safe_globals([np.dtype])  # the caller's own choice
    try:
        loaded = read_checkpoint(path)
        assert set(torch.serialization.get_safe_globals()) == {*before, np.dtype}
    finally:
        torch.serialization.clear_safe_globals()
        torch.serialization.add_safe_globals(before)
    assert loaded['milestones'] == Counter({640: 1}) and loaded['eta'] == 1.5
    assert loaded['history'].dtype == np.int64 and loaded['mask'].dtype == bool
    with pytest.raises(Exception, match='Unsupported global'):
        torch.load(path, weights_only=True)  # outside read_checkpoint: torch's own list


def test_other_schemes_go_to_mmengine():
    weights = read_checkpoint('imagenet-bundled://mobilenet_v2')
    assert 'conv1.conv.weight' in weights


def test_no_global_that_reaches_arbitrary_attributes_is_allowed():
    import builtins

    from maskfreevis.utils import checkpoint_safe_globals

    allowed = checkpoint_safe_globals()
    assert builtins.getattr not in allowed and builtins.eval not in allowed
    assert all(
        getattr(item, '__module__', '').split('.')[0] in ('numpy', 'collections')
        for item in allowed
    )


@pytest.mark.parametrize(
    'content, expected',
    [
        (b'', 'an empty file'),
        (b'PK\x03\x04 cut short', 'not a readable torch checkpoint'),
    ],
)
def test_unreadable_checkpoint_names_the_file(tmp_path, content, expected):
    from maskfreevis.utils import CheckpointReadError

    path = str(tmp_path / 'broken.pth')
    with open(path, 'wb') as handle:
        handle.write(content)
    with pytest.raises(CheckpointReadError, match=expected) as error:
        read_checkpoint(path, map_location='cpu')
    assert path in str(error.value)


def test_truncated_real_checkpoint_names_the_file(tmp_path):
    from maskfreevis.utils import CheckpointReadError

    path = str(tmp_path / 'iter_4.pth')
    torch.save({'state_dict': {'w': torch.ones(1000)}}, path)
    with open(path, 'rb') as handle:
        data = handle.read()
    with open(path, 'wb') as handle:
        handle.write(data[: len(data) // 2])
    with pytest.raises(CheckpointReadError, match='cut short') as error:
        read_checkpoint(path, map_location='cpu')
    assert path in str(error.value)


@pytest.mark.parametrize('content', [b'{"not": "a checkpoint"}', b'\x80\x02garbage'])
def test_non_checkpoint_is_refused_without_running_anything(tmp_path, no_env_trust, content):
    path = str(tmp_path / 'config.pth')
    with open(path, 'wb') as handle:
        handle.write(content)
    with pytest.raises(
        UntrustedCheckpointError, match='Unsupported operand.*not a torch checkpoint'
    ):
        read_checkpoint(path, map_location='cpu')


def test_trusted_but_unreadable_file_names_the_file(tmp_path, monkeypatch):
    from maskfreevis.utils import CheckpointReadError

    monkeypatch.setenv(TRUST_ENV_VAR, '1')
    path = str(tmp_path / 'config.pth')
    with open(path, 'w') as handle:
        handle.write('{"not": "a checkpoint"}')
    with pytest.raises(CheckpointReadError) as error:
        read_checkpoint(path, map_location='cpu')
    assert path in str(error.value)


def test_directory_instead_of_a_file_is_named(tmp_path):
    with pytest.raises(FileNotFoundError, match='is a directory, not a checkpoint file'):
        read_checkpoint(str(tmp_path), map_location='cpu')
