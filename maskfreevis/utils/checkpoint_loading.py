"""Checkpoint loading that works with torch >= 2.6 without switching off its pickle protection.

Upstream bug: torch 2.6 made ``torch.load(weights_only=True)`` the default, but mmengine 0.10.7
(``mmengine/runner/checkpoint.py`` ``load_from_local`` / ``load_from_http``) calls ``torch.load`` without
``weights_only``. A checkpoint written by mmengine's Runner pickles ``HistoryBuffer``, numpy arrays and
even ``getattr``, so ``resume=True`` and ``load_from`` fail (mmengine issue #1655; fixed only on
mmengine ``main``, 0.11.0rc0, unreleased).

Our fix: the schemes for local paths and http(s) URLs are re-registered. They first try
``weights_only=True`` with a small allow-list of harmless globals; a full (code-executing) unpickle is
done only for a file the user trusts:

* a checkpoint inside the work_dir of the run that is loading it (a run resuming itself) — the
  :class:`~maskfreevis.utils.CheckpointTrustHook` marks the work_dir as trusted for the duration of the
  run;
* a path listed in the config option ``trusted_checkpoints`` (read by the same hook);
* any file when the environment variable ``MASKFREEVIS_TRUST_CHECKPOINTS=1`` is set.

Everything else is refused with :class:`UntrustedCheckpointError`, which names the file and how to opt in.
Every full unpickle logs a warning naming the file.
"""
import collections
import contextlib
import io
import os
import os.path as osp
import pickle
from typing import Callable, Iterator, List, Optional, Sequence, Union

import numpy as np
import torch
from mmengine.logging import HistoryBuffer, print_log
from mmengine.runner.checkpoint import CheckpointLoader

TRUST_ENV_VAR = 'MASKFREEVIS_TRUST_CHECKPOINTS'

# Directories and files whose checkpoints may be fully unpickled. Managed by `trust_checkpoints`.
_trusted_locations: List[str] = []


class UntrustedCheckpointError(RuntimeError):
    """A checkpoint needs a full unpickle (which can run code) and nobody said it is trusted."""


def _harmless_globals() -> list:
    """Globals that mmengine checkpoints pickle and that cannot execute code when rebuilt."""
    from numpy._core import multiarray as np_multiarray
    harmless = [
        HistoryBuffer, collections.OrderedDict, collections.Counter, collections.defaultdict,
        np.ndarray, np.dtype, np_multiarray._reconstruct, np_multiarray.scalar
    ]
    # numpy 2 pickles dtypes as instances of per-type classes (np.dtypes.Float64DType, ...).
    harmless += [getattr(np.dtypes, name) for name in dir(np.dtypes) if name.endswith('DType')]
    return harmless


def _resolve(location: str) -> str:
    return osp.realpath(osp.expanduser(location))


@contextlib.contextmanager
def trust_checkpoints(locations: Sequence[str]) -> Iterator[None]:
    """Trust checkpoints at or below ``locations`` (files or directories) inside the ``with`` block.

    Args:
        locations: local paths (files or directories) or URLs. URLs are compared literally.
    """
    added = [loc if '://' in loc else _resolve(loc) for loc in locations if loc]
    _trusted_locations.extend(added)
    try:
        yield
    finally:
        for loc in added:
            _trusted_locations.remove(loc)


def is_trusted_checkpoint(filename: str) -> bool:
    """Whether ``filename`` (path or URL) may be unpickled in full."""
    if os.environ.get(TRUST_ENV_VAR, '') == '1':
        return True
    if '://' in filename:
        return filename in _trusted_locations
    path = _resolve(filename)
    return any(path == loc or path.startswith(loc.rstrip(os.sep) + os.sep)
               for loc in _trusted_locations if '://' not in loc)


def _short_reason(error: Exception) -> str:
    """The line of torch's long weights-only error that names the rejected global."""
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    for line in lines:
        if 'Unsupported global' in line:
            return line.split('Please use')[0].strip()
    return lines[0] if lines else type(error).__name__


def load_checkpoint_file(source: Union[str, io.BytesIO],
                         map_location: Optional[Union[str, Callable]],
                         filename: str) -> dict:
    """``torch.load`` with ``weights_only=True`` first; full unpickle only for trusted files.

    Args:
        source: a file path or an in-memory buffer holding the checkpoint bytes.
        map_location: as for :func:`torch.load`.
        filename: the path or URL shown in messages and checked against the trusted locations.
    """
    try:
        with torch.serialization.safe_globals(_harmless_globals()):
            return torch.load(source, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as error:
        if not is_trusted_checkpoint(filename):
            reason = _short_reason(error)
            raise UntrustedCheckpointError(
                f'Refusing to unpickle checkpoint {filename!r}: it holds objects that torch\'s safe '
                f'loader rejects ({reason}), and unpickling them can execute arbitrary code. It is '
                f'not inside the work_dir of the running job. If you trust this file, list it in the '
                f'config option `trusted_checkpoints = [{filename!r}]` or set the environment '
                f'variable {TRUST_ENV_VAR}=1.') from None
    if isinstance(source, io.BytesIO):
        source.seek(0)
    print_log(f'Unpickling trusted checkpoint {filename!r} with weights_only=False.',
              logger='current', level=30)
    return torch.load(source, map_location=map_location, weights_only=False)


def _load_from_local(filename: str, map_location: Optional[Union[str, Callable]] = None) -> dict:
    filename = osp.expanduser(filename)
    if not osp.isfile(filename):
        raise FileNotFoundError(f'{filename} can not be found.')
    return load_checkpoint_file(filename, map_location, filename)


def _load_from_http(filename: str,
                    map_location: Optional[Union[str, Callable]] = None,
                    model_dir: Optional[str] = None) -> dict:
    # Same cache location and file naming as mmengine's loader, so cached downloads are reused.
    from mmengine.dist import get_dist_info
    from torch.hub import download_url_to_file, get_dir
    from urllib.parse import urlparse
    model_dir = model_dir or osp.join(get_dir(), 'checkpoints')
    os.makedirs(model_dir, exist_ok=True)
    cached_file = osp.join(model_dir, osp.basename(urlparse(filename).path))
    rank, world_size = get_dist_info()
    if rank == 0 and not osp.exists(cached_file):
        download_url_to_file(filename, cached_file, progress=True)
    if world_size > 1:
        torch.distributed.barrier()
        if rank > 0 and not osp.exists(cached_file):
            download_url_to_file(filename, cached_file, progress=True)
    return load_checkpoint_file(cached_file, map_location, filename)


def register_checkpoint_loaders() -> None:
    """Replace mmengine's local-path and http(s) checkpoint loaders by the trust-aware ones."""
    CheckpointLoader.register_scheme(prefixes='', loader=_load_from_local, force=True)
    CheckpointLoader.register_scheme(
        prefixes=('http://', 'https://'), loader=_load_from_http, force=True)
