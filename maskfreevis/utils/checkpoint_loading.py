"""Checkpoint loading that never runs code from a checkpoint nobody vouched for.

Upstream bug: torch 2.6 made ``torch.load(weights_only=True)`` the default, but mmengine 0.10.7
(``mmengine/runner/checkpoint.py`` ``load_from_local`` / ``load_from_http``) calls ``torch.load``
without ``weights_only``, and a checkpoint written by mmengine's Runner pickles ``HistoryBuffer``
objects whose state holds functions (pickled through ``builtins.getattr``), numpy arrays and
``collections.Counter``; so ``resume=True`` and ``load_from`` fail with ``UnpicklingError``
(open-mmlab/mmengine#1655; fixed on mmengine ``main``, 0.11.0rc0, unreleased, by switching to
``weights_only=False``, i.e. a full unpickle that can execute code).

Our fix keeps torch's safe loader on every path:

* :func:`register_safe_globals` allows exactly the harmless globals the package's checkpoints
  need (numpy arrays, scalars and dtypes; ``collections.Counter`` of ``MultiStepLR``) with
  ``torch.serialization.add_safe_globals``. ``getattr`` is never allowed (it reaches any
  attribute of an allowed object); instead
  :class:`~maskfreevis.engine.hooks.SafeCheckpointHook` writes the message hub's history buffers
  as plain arrays, so the package's own checkpoints, resume included, load with
  ``weights_only=True``.
* :func:`register_checkpoint_loaders` re-registers mmengine's loaders for local paths and
  http(s) URLs: ``weights_only=True`` always; a file that needs more is refused with
  :class:`UntrustedCheckpointError` naming it, unless the user opted in for that file
  (the config option ``trusted_checkpoints``, :func:`trust_checkpoints`, ``publish_model.py
  --trust``) or for every file (``MASKFREEVIS_TRUST_CHECKPOINTS=1``). Every full unpickle logs
  a warning naming the file.
* a file that is not a readable torch checkpoint (empty, truncated, not a checkpoint at all)
  raises :class:`CheckpointReadError` naming it.
"""

import collections
import contextlib
import io
import logging
import os
import os.path as osp
import pickle
from typing import Callable, Iterator, List, Optional, Sequence, Union

import numpy as np
import torch
from mmengine.logging import print_log
from mmengine.runner.checkpoint import CheckpointLoader

TRUST_ENV_VAR = 'MASKFREEVIS_TRUST_CHECKPOINTS'

# How a user opts in to a full unpickle, on every path that loads checkpoints.
TRUST_HINT = (
    f'If you trust this file, either set the environment variable {TRUST_ENV_VAR}=1 '
    'for this command, or list the file in the config option `trusted_checkpoints` '
    '(tools/train.py, tools/test.py and init_vis_model read it; on the command line: '
    '--cfg-options "trusted_checkpoints=[\'PATH\']"), or convert it once with '
    '`python tools/model_converters/publish_model.py --trust IN.pth OUT.pth`, whose '
    'output loads safely everywhere.'
)

# Files and directories whose checkpoints may be fully unpickled. Managed by `trust_checkpoints`.
_trusted_locations: List[str] = []


class UntrustedCheckpointError(RuntimeError):
    """A checkpoint needs a full unpickle (which can run code) and nobody said it is trusted."""


class CheckpointReadError(RuntimeError):
    """A checkpoint file cannot be read at all (empty, truncated, not a torch checkpoint)."""


def checkpoint_safe_globals() -> list:
    """The globals a checkpoint of this package may reference besides torch's own.

    numpy arrays, scalars and dtypes come from the message hub (``eta``, history buffers
    written as arrays) and from datasets' metainfo; ``collections.Counter`` from the state of
    ``MultiStepLR``. None of them can execute code when rebuilt.
    """
    from numpy._core import multiarray

    allowed = [
        np.ndarray,
        np.dtype,
        multiarray._reconstruct,
        multiarray.scalar,
        collections.Counter,
    ]
    # numpy 2 rebuilds a dtype as an instance of its per-type class (np.dtypes.Float64DType, ...).
    allowed += [getattr(np.dtypes, name) for name in dir(np.dtypes) if name.endswith('DType')]
    return allowed


def register_safe_globals() -> None:
    """Allow :func:`checkpoint_safe_globals` in every ``torch.load(weights_only=True)``."""
    torch.serialization.add_safe_globals(checkpoint_safe_globals())


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
    return any(
        path == loc or path.startswith(loc.rstrip(os.sep) + os.sep)
        for loc in _trusted_locations
        if '://' not in loc
    )


def _short_reason(error: Exception) -> str:
    """The line of torch's long weights-only error that says what was rejected."""
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    for line in lines:
        # "Unsupported global: GLOBAL x.y ...", "Unsupported operand 123", "Trying to load
        # unsupported GLOBAL os.system whose module os is blocked."
        start = line.lower().find('unsupported')
        if start >= 0:
            return line[start:].split('Please use')[0].strip()
    return lines[0] if lines else type(error).__name__


def _unreadable(
    filename: str, source: Union[str, io.BytesIO], error: Exception
) -> CheckpointReadError:
    """The error for a file that is no checkpoint, naming it and what was found."""
    empty = isinstance(source, str) and osp.isfile(source) and osp.getsize(source) == 0
    detail = str(error).splitlines()[0] if str(error) else ''
    return CheckpointReadError(
        f'Cannot load checkpoint {filename!r}: it is '
        f'{"an empty file" if empty else "not a readable torch checkpoint"} (cut short by an '
        f'interrupted save or download, or not a .pth file): {type(error).__name__}: {detail}'
    )


def _load(
    source: Union[str, io.BytesIO],
    map_location: Optional[Union[str, Callable]],
    filename: str,
    weights_only: bool,
) -> dict:
    """``torch.load`` whose errors about the file itself name the file.

    With ``weights_only=True`` the safe loader's refusal (``UnpicklingError``) is passed on: the
    caller decides about trust.
    """
    if isinstance(source, io.BytesIO):
        source.seek(0)
    try:
        return torch.load(source, map_location=map_location, weights_only=weights_only)
    except pickle.UnpicklingError as error:
        if weights_only:
            raise
        raise _unreadable(filename, source, error) from error
    except (RuntimeError, EOFError, ValueError, OSError, KeyError) as error:
        raise _unreadable(filename, source, error) from error


def load_checkpoint_file(
    source: Union[str, io.BytesIO], map_location: Optional[Union[str, Callable]], filename: str
) -> dict:
    """Load with ``weights_only=True``; a full unpickle only for a file the user trusts.

    Args:
        source: a file path or an in-memory buffer holding the checkpoint bytes.
        map_location: as for :func:`torch.load`.
        filename: the path or URL shown in messages and checked against the trusted locations.

    Returns:
        Whatever the file holds (usually a dict with ``state_dict`` and ``meta``).

    Raises:
        UntrustedCheckpointError: the file needs a full unpickle and is not trusted; nothing in
            it was executed.
        CheckpointReadError: the file is not a readable checkpoint.
    """
    try:
        return _load(source, map_location, filename, weights_only=True)
    except pickle.UnpicklingError as error:
        if not is_trusted_checkpoint(filename):
            reason = _short_reason(error)
            if 'global' in reason.lower():
                found = (
                    "it references Python objects that torch's safe loader rejects "
                    f'({reason}); unpickling them can execute arbitrary code. Checkpoints '
                    'written by this package never need that; this one was written by '
                    'other code (plain mmengine, an older version of this package) or '
                    'crafted.'
                )
            else:
                found = (
                    f"torch's safe loader rejects it ({reason}): it is not a torch "
                    'checkpoint, or a pickle using operations that can execute code.'
                )
            raise UntrustedCheckpointError(
                f'Refusing to unpickle checkpoint {filename!r}: {found} {TRUST_HINT}'
            ) from None
    print_log(
        f'Unpickling trusted checkpoint {filename!r} with weights_only=False: this runs any '
        'code the file contains.',
        logger='current',
        level=logging.WARNING,
    )
    return _load(source, map_location, filename, weights_only=False)


def _load_from_local(filename: str, map_location: Optional[Union[str, Callable]] = None) -> dict:
    filename = osp.expanduser(filename)
    if not osp.isfile(filename):
        what = (
            'is a directory, not a checkpoint file' if osp.isdir(filename) else 'can not be found'
        )
        raise FileNotFoundError(f'checkpoint {filename} {what}.')
    return load_checkpoint_file(filename, map_location, filename)


def _load_from_http(
    filename: str,
    map_location: Optional[Union[str, Callable]] = None,
    model_dir: Optional[str] = None,
) -> dict:
    # Same cache location and file naming as mmengine's loader, so cached downloads are reused.
    from urllib.parse import urlparse

    from mmengine.dist import get_dist_info
    from torch.hub import download_url_to_file, get_dir

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
        prefixes=('http://', 'https://'), loader=_load_from_http, force=True
    )
