"""Reading checkpoints without running code from a file nobody vouched for.

What the pinned stack does on its own (torch 2.13, mmengine 0.10.7):

* a local file: mmengine's ``load_from_local`` calls ``torch.load`` without ``weights_only``, so
  torch >= 2.6 loads it weights-only. Safe, but a refusal is torch's long message, which does not
  name the file, and there is no way to load one trusted file in full (only the process-wide
  ``TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD``);
* an ``http(s)://`` URL (``load_from``, ``torchvision://``): mmengine's ``load_from_http`` goes
  through ``torch.hub.load_state_dict_from_url``, whose ``weights_only`` defaults to ``False``: a
  **full unpickle of a download**, which can execute code (upstream: torch 2.13 ``torch/hub.py``;
  mmengine 0.10.7 ``mmengine/runner/checkpoint.py``; open-mmlab/mmengine#1655 switches mmengine to
  an explicit ``weights_only=False`` on ``main``, unreleased);
* a checkpoint written by mmengine's ``CheckpointHook`` pickles ``HistoryBuffer`` objects (their
  statistics functions through ``builtins.getattr``), which the weights-only loader rightly
  refuses, so such files do not resume under torch >= 2.6 (the same mmengine issue).

:func:`read_checkpoint` is what the package's runtime uses instead
(:class:`maskfreevis.engine.CheckpointPolicyRunner` for ``load_from`` / ``--resume`` / testing,
``init_vis_model``, ``publish_model.py``, the converters): local paths and ``http(s)`` URLs are
read weights-only, with numpy's array and scalar types allowed for the duration of the call (files
written by other tools keep numpy values in ``meta``; nothing is registered process-wide); a
refusal raises :class:`UntrustedCheckpointError` naming the file and how to vouch for it (the
config option ``trusted_checkpoints``, :func:`trust_checkpoints`, ``publish_model.py --trust``,
or ``MASKFREEVIS_TRUST_CHECKPOINTS=1``); every full unpickle logs a warning naming the file; a
file that is no readable checkpoint raises :class:`CheckpointReadError` naming it. A download
that fails (an HTTP error status, no network, a host name that does not resolve, a server that
stops answering for ``DOWNLOAD_TIMEOUT_S``, a transfer cut short) raises
:class:`CheckpointDownloadError` naming the URL, the reason and the way out (download it yourself,
pass the local path); torch.hub's downloader, which mmengine uses, waits for ever on a silent
server and lets urllib's error through without the URL. Downloads go through a partial file, so
the cache never holds half a checkpoint. Other schemes (``imagenet-bundled://``,
``torchvision://``, ``open-mmlab://``, ``s3://``) go to mmengine's ``CheckpointLoader``; their
failed downloads are named the same way. The package's own checkpoints need none of this: they
hold only tensors and Python values (:class:`maskfreevis.engine.hooks.SafeCheckpointHook`), so
plain ``torch.load`` and a plain mmengine ``Runner`` read them.

Importing this module changes nothing: mmengine's loaders and torch's safe globals stay as they are.
"""

import contextlib
import http.client
import io
import logging
import os
import os.path as osp
import pickle
import socket
import ssl
import urllib.error
import urllib.request
from typing import Callable, Iterator, List, Optional, Sequence, Union

import numpy as np
import torch
from mmengine.logging import print_log

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

# The URL schemes read here; every other scheme goes to mmengine's CheckpointLoader.
HTTP_PREFIXES = ('http://', 'https://')

# Seconds a download waits for the server to connect or to send more bytes before giving up.
DOWNLOAD_TIMEOUT_S = 60.0
_CHUNK = 1 << 20

# Files and directories whose checkpoints may be fully unpickled. Managed by `trust_checkpoints`.
_trusted_locations: List[str] = []


class UntrustedCheckpointError(RuntimeError):
    """A checkpoint needs a full unpickle (which can run code) and nobody said it is trusted."""


class CheckpointReadError(RuntimeError):
    """A checkpoint file cannot be read at all (empty, truncated, not a torch checkpoint)."""


class CheckpointDownloadError(CheckpointReadError):
    """A checkpoint URL cannot be downloaded; the message names the URL, the reason and the fix."""


def download_failure_reason(error: BaseException) -> str:
    """Why a download failed, in words: the HTTP status, no network, an unknown host, ...

    Args:
        error: what ``urllib`` / ``http.client`` / the socket raised.
    """
    if isinstance(error, urllib.error.HTTPError):
        meaning = {
            401: 'the server asks for a login',
            403: 'access denied',
            404: 'no file at this address',
            410: 'the file was removed',
            429: 'too many requests; try again later',
        }.get(error.code, 'the server refused it' if error.code < 500 else 'a server error')
        return f'the server answered HTTP {error.code} {error.reason} ({meaning})'
    reason = error.reason if isinstance(error, urllib.error.URLError) else error
    if isinstance(reason, socket.gaierror):
        return (
            f'the host name does not resolve ({reason.strerror or reason}): no network or DNS '
            'here, or a mistyped host'
        )
    if isinstance(reason, ConnectionRefusedError):
        return 'the connection was refused: no server answers at that host and port'
    if isinstance(reason, (TimeoutError, socket.timeout)):
        return (
            f'the server did not answer for {DOWNLOAD_TIMEOUT_S:.0f} s (no network, a firewall, '
            'or a stalled server)'
        )
    if isinstance(reason, ssl.SSLError):
        return f'the secure connection failed ({reason})'
    if isinstance(reason, http.client.IncompleteRead):
        return 'the transfer was cut short'
    if isinstance(reason, OSError) and reason.strerror:
        return f'{reason.strerror} (errno {reason.errno})'
    return f'{type(reason).__name__}: {reason}'


def _download_error(url: str, reason: str) -> CheckpointDownloadError:
    name = osp.basename(url.split('?')[0].rstrip('/')) or 'checkpoint.pth'
    return CheckpointDownloadError(
        f'Cannot download checkpoint {url}: {reason}. Download it yourself (e.g. wget -O '
        f'{name} {url!r}, or with a browser) and pass the local path instead (load_from={name}, '
        f'tools/test.py CONFIG {name}, init_vis_model(config, {name!r})).'
    )


def _remote_init_checkpoints(node, path: str) -> List[tuple]:
    """``(config key, checkpoint)`` of every ``Pretrained`` ``init_cfg`` that names a URL."""
    found = []
    if isinstance(node, dict):
        if node.get('type') == 'Pretrained' and '://' in str(node.get('checkpoint', '')):
            found.append((f'{path}.checkpoint', node['checkpoint']))
        for key, value in node.items():
            found += _remote_init_checkpoints(value, f'{path}.{key}')
    elif isinstance(node, (list, tuple)):
        for index, value in enumerate(node):
            found += _remote_init_checkpoints(value, f'{path}.{index}')
    return found


def pretrained_download_error(model_cfg, error: BaseException) -> CheckpointDownloadError:
    """The error for pretrained weights (``init_cfg``) that mmengine failed to download.

    mmengine's ``PretrainedInit`` downloads through ``torch.hub``, whose urllib error names neither
    the URL (when no server answered) nor the config key. This names both, the reason, and the
    ways out: point the key at a local file, or put the file into torch.hub's cache.

    Args:
        model_cfg: the config's ``model``.
        error: what the download raised.
    """
    remote = _remote_init_checkpoints(model_cfg, 'model')
    url = getattr(error, 'url', None) or getattr(error, 'filename', None)
    named = '; '.join(f'{key} = {value!r}' for key, value in remote) or 'none found'
    key = remote[0][0] if len(remote) == 1 else 'model.<...>.init_cfg.checkpoint'
    from torch.hub import get_dir

    return CheckpointDownloadError(
        f'Cannot download the pretrained weights the config names in init_cfg'
        f'{f" ({url})" if url else ""}: {download_failure_reason(error)}. The config downloads: '
        f'{named}. Download the file yourself and point the config at it (--cfg-options '
        f"{key}=PATH.pth), or put it into torch.hub's cache, "
        f'{osp.join(get_dir(), "checkpoints")}, under the file name of its URL.'
    )


def download_checkpoint(url: str, destination: str, progress: bool = True) -> None:
    """Download ``url`` to ``destination`` through a partial file (renamed when complete).

    Args:
        url: an ``http(s)://`` URL.
        destination: the file to create.
        progress: show a progress bar on stderr.

    Raises:
        CheckpointDownloadError: naming the URL, the reason and the fix; nothing is left at
            ``destination``.
    """
    from tqdm import tqdm

    partial = f'{destination}.partial-{os.getpid()}'
    request = urllib.request.Request(url, headers={'User-Agent': 'maskfreevis'})
    try:
        with urllib.request.urlopen(request, timeout=DOWNLOAD_TIMEOUT_S) as response:
            if response.headers.get_content_type() == 'text/html':
                raise _download_error(
                    url,
                    'the server sent a web page, not a checkpoint (a sign-in page, or a '
                    '"download anyway" page such as Google Drive shows for large files)',
                )
            length = response.headers.get('Content-Length')
            expected = int(length) if length and length.isdigit() else None
            received = 0
            with open(partial, 'wb') as handle, tqdm(
                total=expected, disable=not progress, unit='B', unit_scale=True, unit_divisor=1024
            ) as bar:
                while chunk := response.read(_CHUNK):
                    handle.write(chunk)
                    received += len(chunk)
                    bar.update(len(chunk))
        if expected is not None and received != expected:
            raise _download_error(
                url, f'the transfer was cut short ({received} of {expected} bytes)'
            )
        os.replace(partial, destination)
    except (urllib.error.URLError, http.client.HTTPException, OSError) as error:
        raise _download_error(url, download_failure_reason(error)) from error
    finally:
        if osp.exists(partial):
            os.remove(partial)


def checkpoint_safe_globals() -> list:
    """The numpy globals allowed while :func:`read_checkpoint` reads a file.

    numpy arrays, scalars and dtypes appear in checkpoints written by other tools (``meta``,
    mmengine's message hub as this package wrote it before 0.1). Rebuilding them runs no code of
    the file's choosing. (``collections.Counter``, in ``MultiStepLR``'s state, is on torch's own
    list since torch 2.5.)
    """
    from numpy._core import multiarray

    allowed = [np.ndarray, np.dtype, multiarray._reconstruct, multiarray.scalar]
    # numpy 2 rebuilds a dtype as an instance of its per-type class (np.dtypes.Float64DType, ...).
    allowed += [getattr(np.dtypes, name) for name in dir(np.dtypes) if name.endswith('DType')]
    return allowed


@contextlib.contextmanager
def allowing_numpy_globals() -> Iterator[None]:
    """Allow :func:`checkpoint_safe_globals` in ``torch.load(weights_only=True)`` inside the block.

    Only the globals not already allowed are added, and only those are removed afterwards, so a
    caller's own ``torch.serialization.add_safe_globals`` is left as it was.
    """
    present = torch.serialization.get_safe_globals()
    added = [item for item in checkpoint_safe_globals() if item not in present]
    with torch.serialization.safe_globals(added):
        yield


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


def trusted_locations_of(cfg) -> List[str]:
    """The config's ``trusted_checkpoints`` as a list (``--cfg-options`` gives a single string)."""
    trusted = cfg.get('trusted_checkpoints', None) or []
    return [trusted] if isinstance(trusted, str) else list(trusted)


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
        if weights_only:
            with allowing_numpy_globals():
                return torch.load(source, map_location=map_location, weights_only=True)
        return torch.load(source, map_location=map_location, weights_only=False)
    except pickle.UnpicklingError as error:
        if weights_only:
            raise
        raise _unreadable(filename, source, error) from error
    except (RuntimeError, EOFError, ValueError, OSError, KeyError) as error:
        raise _unreadable(filename, source, error) from error


CONVERTER_HINT = (
    'python tools/model_converters/detectron2_to_maskfreevis.py CONFIG {path} OUT.pth (mmdet '
    'Mask2Former checkpoints: mmdet_to_maskfreevis.py), then use OUT.pth'
)


def _other_kind_of_file(source: Union[str, io.BytesIO], filename: str) -> Optional[str]:
    """Why a local file the safe loader rejects is not a checkpoint to trust, when that is
    recognisable: mmengine's ``last_checkpoint`` pointer (a text file naming the checkpoint), or
    a detectron2 ``.pkl`` (the release's weights, which are converted first)."""
    if not isinstance(source, str) or not osp.isfile(source):
        return None
    if source.endswith('.pkl'):
        return (
            f'Cannot load checkpoint {filename!r}: a .pkl file is a detectron2 checkpoint (e.g. '
            'the released model_final_*.pkl), whose names and layout differ from this '
            f"package's; convert it first: {CONVERTER_HINT.format(path=filename)}."
        )
    if osp.getsize(source) > 4096:
        return None
    with open(source, 'rb') as handle:
        head = handle.read()
    try:
        text = head.decode('utf-8').strip()
    except UnicodeDecodeError:
        return None
    if text and '\n' not in text and osp.isfile(text):
        return (
            f'Cannot load checkpoint {filename!r}: it is a text file naming the checkpoint '
            f"{text!r} (mmengine's last_checkpoint pointer); pass that file instead."
        )
    return None


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
            other_kind = _other_kind_of_file(source, filename)
            if other_kind:
                raise CheckpointReadError(other_kind) from None
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


def _read_local(filename: str, map_location: Optional[Union[str, Callable]]) -> dict:
    filename = osp.expanduser(filename)
    if not osp.isfile(filename):
        what = (
            'is a directory, not a checkpoint file' if osp.isdir(filename) else 'can not be found'
        )
        raise FileNotFoundError(f'checkpoint {filename} {what}.')
    return load_checkpoint_file(filename, map_location, filename)


def _read_http(
    url: str,
    map_location: Optional[Union[str, Callable]],
    model_dir: Optional[str] = None,
) -> dict:
    # Same cache location and file naming as mmengine's loader, so cached downloads are reused.
    from urllib.parse import urlparse

    from mmengine.dist import get_dist_info
    from torch.hub import get_dir

    name = osp.basename(urlparse(url).path)
    if not name:
        raise _download_error(url, 'the URL names no file (its path ends in /)')
    model_dir = model_dir or osp.join(get_dir(), 'checkpoints')
    os.makedirs(model_dir, exist_ok=True)
    cached_file = osp.join(model_dir, name)
    rank, world_size = get_dist_info()
    if rank == 0 and not osp.exists(cached_file):
        download_checkpoint(url, cached_file)
    if world_size > 1:
        torch.distributed.barrier()
        if rank > 0 and not osp.exists(cached_file):
            download_checkpoint(url, cached_file)
    try:
        return load_checkpoint_file(cached_file, map_location, url)
    except (CheckpointReadError, UntrustedCheckpointError) as error:
        raise type(error)(
            f'{error} It was downloaded to {cached_file}; delete that file to download it again.'
        ) from error


def read_checkpoint(
    filename: str,
    map_location: Optional[Union[str, Callable]] = None,
    trusted: Sequence[str] = (),
) -> dict:
    """Read a checkpoint under the package's policy (see the module doc).

    Args:
        filename: a local path, an ``http(s)://`` URL, or another scheme mmengine's
            ``CheckpointLoader`` knows (``imagenet-bundled://``, ``torchvision://``, ...).
        map_location: as for :func:`torch.load`.
        trusted: files, directories or URLs whose checkpoints may be unpickled in full (the
            config's ``trusted_checkpoints``), besides those of :func:`trust_checkpoints`.

    Returns:
        Whatever the file holds (usually a dict with ``state_dict`` and ``meta``).

    Raises:
        FileNotFoundError: a local path that is no file, named.
        UntrustedCheckpointError: the file needs a full unpickle and nobody vouched for it.
        CheckpointReadError: the file is not a readable checkpoint.
        CheckpointDownloadError: a URL that cannot be downloaded.
    """
    with trust_checkpoints(list(trusted)):
        if filename.startswith(HTTP_PREFIXES):
            return _read_http(filename, map_location)
        if '://' not in filename:
            return _read_local(filename, map_location)
    from mmengine.runner.checkpoint import CheckpointLoader

    try:
        return CheckpointLoader.load_checkpoint(filename, map_location=map_location)
    except (urllib.error.URLError, http.client.HTTPException) as error:
        # torchvision://, open-mmlab://, ... resolve to a URL that torch.hub downloads
        source = getattr(error, 'url', None) or getattr(error, 'filename', None)
        where = f'{filename} ({source})' if source and source != filename else filename
        raise _download_error(where, download_failure_reason(error)) from error
