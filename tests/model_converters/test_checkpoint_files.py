"""Reading detectron2 / mmdet checkpoints safely and writing converted ones."""

import os
import pickle
from collections import OrderedDict

import numpy as np
import pytest
import torch

from maskfreevis.model_converters import (
    CheckpointFormatError,
    load_state_dict_file,
    save_converted_checkpoint,
)
from maskfreevis.utils import UntrustedCheckpointError


class RunsCode:
    """Unpickling this would call ``os.system`` - the numpy-only unpickler must refuse it."""

    def __reduce__(self):
        return (os.system, ('echo unpickled',))


class RunsCodeFree:
    """An arbitrary object (not on torch's safe list), harmless to rebuild."""


@pytest.mark.parametrize('protocol', [2, pickle.HIGHEST_PROTOCOL])
def test_detectron2_pkl_of_numpy_arrays(tmp_path, protocol):
    path = tmp_path / 'model_final_3c8ec9.pkl'
    weights = OrderedDict(
        [
            ('backbone.stem.conv1.weight', np.ones((2, 3), np.float32)),
            ('criterion._iter', np.zeros(1, np.float64)),
        ]
    )
    with open(path, 'wb') as handle:
        pickle.dump({'model': weights, '__author__': 'Mask2Former'}, handle, protocol=protocol)
    state = load_state_dict_file(str(path))
    assert list(state) == list(weights)
    assert state['backbone.stem.conv1.weight'].dtype == torch.float32
    assert torch.equal(state['backbone.stem.conv1.weight'], torch.ones(2, 3))


def test_pkl_with_other_globals_is_refused_without_running_them(tmp_path, capfd):
    path = tmp_path / 'evil.pkl'
    with open(path, 'wb') as handle:
        pickle.dump({'model': {'a': RunsCode()}}, handle)
    with pytest.raises(
        CheckpointFormatError,
        match=r'evil.pkl: refusing to unpickle '
        r'(posix|os)\.system',
    ):
        load_state_dict_file(str(path))
    assert 'unpickled' not in capfd.readouterr().out


def test_pth_model_or_state_dict_entry(tmp_path):
    detectron2 = tmp_path / 'model_final.pth'
    torch.save({'model': {'a': torch.ones(1)}, 'iteration': 6000}, detectron2)
    assert list(load_state_dict_file(str(detectron2))) == ['a']
    mmdet = tmp_path / 'mask2former.pth'
    torch.save({'state_dict': {'b': torch.ones(1)}, 'meta': {'epoch': 50}}, mmdet)
    assert list(load_state_dict_file(str(mmdet))) == ['b']
    flat = tmp_path / 'flat.pth'
    torch.save({'c': torch.ones(1)}, flat)
    assert list(load_state_dict_file(str(flat))) == ['c']


def test_unusable_files_name_themselves(tmp_path):
    with pytest.raises(FileNotFoundError, match='nothing.pth: no such checkpoint file'):
        load_state_dict_file(str(tmp_path / 'nothing.pth'))
    odd = tmp_path / 'odd.pth'
    torch.save({'epoch': 3, 'optimizer': {}}, odd)
    with pytest.raises(CheckpointFormatError, match=r'odd.pth: no \"model\" or \"state_dict\"'):
        load_state_dict_file(str(odd))


def test_pth_needing_a_full_unpickle_requires_trust(tmp_path):
    path = tmp_path / 'trainer.pth'
    torch.save({'model': {'a': torch.ones(1)}, 'trainer': RunsCodeFree()}, path)
    with pytest.raises(UntrustedCheckpointError, match='trainer.pth'):
        load_state_dict_file(str(path))
    assert list(load_state_dict_file(str(path), trust=True)) == ['a']


def test_saved_checkpoint_loads_weights_only(tmp_path):
    path = tmp_path / 'out' / 'converted.pth'
    save_converted_checkpoint(
        {'a': torch.ones(2)}, {'converted_from': 'x.pkl', 'report': ['r']}, str(path)
    )
    loaded = torch.load(path, weights_only=True)
    assert torch.equal(loaded['state_dict']['a'], torch.ones(2))
    assert loaded['meta'] == {'converted_from': 'x.pkl', 'report': ['r']}
    assert not os.path.exists(str(path) + '.partial')


def test_a_pkl_cut_short_empty_or_of_another_format_is_named(tmp_path):
    """Were pickle's own words ('pickle data was truncated', 'no persistent_load function'),
    naming no file."""
    whole = tmp_path / 'model_final.pkl'
    with open(whole, 'wb') as handle:
        pickle.dump({'model': {'w': np.arange(1000.0)}}, handle)
    cut = tmp_path / 'cut.pkl'
    cut.write_bytes(whole.read_bytes()[:200])
    empty = tmp_path / 'empty.pkl'
    empty.write_bytes(b'')
    torch_file = tmp_path / 'weights.pkl'
    torch.save({'w': torch.zeros(2)}, torch_file)
    for path, expected in (
        (cut, 'not a readable pickle (200 bytes): cut short by an interrupted download or copy'),
        (empty, 'an empty file: cut short'),
        (torch_file, 'this is a torch checkpoint (a zip archive), not a detectron2 pickle; rename'),
    ):
        with pytest.raises(CheckpointFormatError) as error:
            load_state_dict_file(str(path))
        assert str(error.value).startswith(f'{path}: {expected}')
