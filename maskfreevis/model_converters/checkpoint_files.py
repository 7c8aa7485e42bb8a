"""Reading source checkpoints (detectron2 ``.pkl`` / ``.pth``, mmdet ``.pth``) and writing ours.

detectron2 ``.pkl`` files are plain pickles ``{'model': {name: numpy array}, '__author__': ...}``.
They are read by an unpickler that only rebuilds numpy arrays and ordered dicts and refuses every
other global, so a ``.pkl`` cannot run code. ``.pth`` files go through the package's trust-aware
loader (:func:`maskfreevis.utils.load_checkpoint_file`): torch's ``weights_only`` loader first; a
full unpickle only for a file the caller trusts.
"""

import codecs
import io
import os
import os.path as osp
import pickle
from collections import OrderedDict
from typing import Any, Dict, Mapping

import numpy as np
import torch
from numpy._core import multiarray as np_multiarray
from numpy._core import numeric as np_numeric
from torch import Tensor

from maskfreevis.utils import load_checkpoint_file, trust_checkpoints

__all__ = ['CheckpointFormatError', 'load_state_dict_file', 'save_converted_checkpoint']


class CheckpointFormatError(ValueError):
    """A source checkpoint that holds no recognisable state dict, or a pickle we refuse."""


# The globals a numpy pickle needs (numpy 1 writes `numpy.core`, numpy 2 `numpy._core`; protocol 2
# pickles encode bytes through `_codecs.encode`, protocol 5 rebuilds arrays from buffers). None of
# them can run code.
_NUMPY_PICKLE_GLOBALS = {
    ('collections', 'OrderedDict'): OrderedDict,
    ('numpy', 'ndarray'): np.ndarray,
    ('numpy', 'dtype'): np.dtype,
    ('numpy.core.multiarray', '_reconstruct'): np_multiarray._reconstruct,
    ('numpy._core.multiarray', '_reconstruct'): np_multiarray._reconstruct,
    ('numpy.core.multiarray', 'scalar'): np_multiarray.scalar,
    ('numpy._core.multiarray', 'scalar'): np_multiarray.scalar,
    ('numpy.core.numeric', '_frombuffer'): np_numeric._frombuffer,
    ('numpy._core.numeric', '_frombuffer'): np_numeric._frombuffer,
    ('_codecs', 'encode'): codecs.encode,
}


class _NumpyOnlyUnpickler(pickle.Unpickler):
    """Rebuilds numpy arrays and dicts only; names the file and the global it refuses."""

    def __init__(self, handle: io.BufferedReader, filename: str) -> None:
        super().__init__(handle, encoding='latin1')
        self.filename = filename

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) in _NUMPY_PICKLE_GLOBALS:
            return _NUMPY_PICKLE_GLOBALS[(module, name)]
        if module == 'numpy.dtypes' and name.endswith('DType'):
            return getattr(np.dtypes, name)
        raise CheckpointFormatError(
            f'{self.filename}: refusing to unpickle {module}.{name}; a detectron2 .pkl '
            'checkpoint holds only numpy arrays (re-save it as a .pth state dict otherwise)'
        )


def _load_numpy_pickle(filename: str) -> Any:
    """A detectron2 ``.pkl``; a file cut short, empty, or of another format is named."""
    with open(filename, 'rb') as handle:
        head = handle.read(4)
        handle.seek(0)
        if head.startswith(b'PK'):
            raise CheckpointFormatError(
                f'{filename}: this is a torch checkpoint (a zip archive), not a detectron2 '
                'pickle; rename it to .pth'
            )
        try:
            return _NumpyOnlyUnpickler(handle, filename).load()
        except CheckpointFormatError:
            raise
        except (pickle.UnpicklingError, EOFError, ValueError, TypeError, KeyError) as error:
            size = osp.getsize(filename)
            state = 'an empty file' if size == 0 else f'not a readable pickle ({size} bytes)'
            raise CheckpointFormatError(
                f'{filename}: {state}: cut short by an interrupted download or copy, or not a '
                f'detectron2 .pkl checkpoint ({type(error).__name__}: {error})'
            ) from error


def _as_tensor(value: Any, key: str, filename: str) -> Tensor:
    if isinstance(value, Tensor):
        return value
    if isinstance(value, np.ndarray):
        return torch.from_numpy(np.ascontiguousarray(value))
    raise CheckpointFormatError(f'{filename}: {key!r} is a {type(value).__name__}, not an array')


def _extract_state_dict(checkpoint: Any, filename: str) -> Dict[str, Any]:
    """The weights of a checkpoint: its ``model`` (detectron2) or ``state_dict`` (mmengine) entry,
    or the checkpoint itself when it is a flat ``{name: tensor}``."""
    if not isinstance(checkpoint, Mapping):
        raise CheckpointFormatError(f'{filename}: expected a dict, got {type(checkpoint).__name__}')
    for entry in ('model', 'state_dict'):
        if isinstance(checkpoint.get(entry), Mapping):
            return dict(checkpoint[entry])
    if checkpoint and all(isinstance(v, (Tensor, np.ndarray)) for v in checkpoint.values()):
        return dict(checkpoint)
    raise CheckpointFormatError(
        f'{filename}: no "model" or "state_dict" entry and not a flat state dict; top-level keys: '
        f'{sorted(map(str, checkpoint))[:20]}'
    )


def load_state_dict_file(filename: str, trust: bool = False) -> 'OrderedDict[str, Tensor]':
    """The ``{name: tensor}`` weights of a detectron2 or mmdet checkpoint file, on CPU.

    Args:
        filename: a ``.pkl`` (detectron2 numpy pickle) or a torch file (``.pth``, ``.pt``).
        trust: allow a full (code-executing) unpickle of a torch file that torch's safe loader
            rejects; never needed for weights-only files.

    Raises:
        FileNotFoundError: no such file.
        CheckpointFormatError: no state dict inside, a non-array value, or a refused pickle global.
        maskfreevis.utils.UntrustedCheckpointError: a torch file needs a full unpickle and
            ``trust`` is False.
    """
    if not osp.isfile(filename):
        raise FileNotFoundError(f'{filename}: no such checkpoint file')
    if filename.endswith('.pkl'):
        checkpoint = _load_numpy_pickle(filename)
    else:
        with trust_checkpoints([filename] if trust else []):
            checkpoint = load_checkpoint_file(filename, 'cpu', filename)
    weights = _extract_state_dict(checkpoint, filename)
    return OrderedDict((key, _as_tensor(value, key, filename)) for key, value in weights.items())


def save_converted_checkpoint(
    state_dict: Mapping[str, Tensor], meta: Mapping[str, Any], filename: str
) -> None:
    """Write ``{'state_dict': ..., 'meta': ...}`` (loadable with ``weights_only=True``).

    Args:
        state_dict: converted weights.
        meta: plain Python values only (str, int, float, lists and dicts of them).
        filename: output path; its folder is created; the file appears complete or not at all.
    """
    folder = osp.dirname(osp.abspath(filename))
    os.makedirs(folder, exist_ok=True)
    partial = filename + '.partial'
    torch.save({'state_dict': OrderedDict(state_dict), 'meta': dict(meta)}, partial)
    os.replace(partial, filename)
