"""Reading a config file and its ``--cfg-options``, with errors that name the file or option.

mmengine reports a syntax error in a config as ``File "<unknown>"`` (it parses the text it read,
not the file), which is ambiguous once ``_base_`` files are involved, and a missing ``_base_``
file without the config that names it. An override of the wrong type (``train_cfg.max_iters=abc``)
is merged as text and fails much later, after the datasets load, without naming the option.
:func:`read_config` says which file and line, or which option, before anything runs.
"""

import ast
import os.path as osp
from typing import Any, Dict, List, Optional, Tuple

from mmengine.config import Config

__all__ = ['ConfigFileError', 'read_config', 'check_cfg_options']

_MISSING = object()


class ConfigFileError(ValueError):
    """A config file (or one of its ``_base_`` files) that cannot be read, or an override that
    does not fit it; the message names the file and line, or the option."""


def read_config(path: str, cfg_options: Optional[Dict[str, Any]] = None) -> Config:
    """``Config.fromfile(path)`` with ``cfg_options`` merged, after checking their types.

    Args:
        path: the config file.
        cfg_options: ``--cfg-options`` as ``DictAction`` parsed them (``{dotted key: value}``).

    Raises:
        ConfigFileError: a syntax error in the config or a ``_base_`` file (naming that file,
            the line, and the chain of ``_base_`` files leading to it), or an option whose value
            does not fit the config's (see :func:`check_cfg_options`).
        FileNotFoundError: the config, or a ``_base_`` file it names (naming the config that
            names it).
    """
    try:
        cfg = Config.fromfile(path)
    except SyntaxError:
        found = find_syntax_error(path)
        if found is None:
            raise
        raise ConfigFileError(found) from None
    except FileNotFoundError as error:
        missing = getattr(error, 'filename', None)
        referrer = None if missing is None else find_base_referrer(path, missing)
        if referrer is None:
            raise
        raise FileNotFoundError(
            f'{osp.normpath(missing)} does not exist; it is a _base_ of {referrer}'
        ) from None
    if cfg_options:
        check_cfg_options(cfg, cfg_options)
        cfg.merge_from_dict(cfg_options)
    return cfg


def check_cfg_options(cfg: Config, cfg_options: Dict[str, Any]) -> None:
    """Refuse overrides whose value is text where the config holds a number or a boolean.

    ``DictAction`` turns ``key=3`` into a number and ``key=true`` into a boolean, so text there
    is a typo (``max_iters=abc``, ``lr=1e-4x``) that would otherwise fail only when the value is
    used. Keys the config does not have yet, and every other change of type, are left to the
    config's consumers (a list where a string was is often meant, e.g. ``metric``).

    Raises:
        ConfigFileError: naming the option, its value and the config's value.
    """
    values = cfg.to_dict()
    for key, value in cfg_options.items():
        existing = _lookup(values, key.split('.'))
        if existing is _MISSING or not isinstance(value, str):
            continue
        if isinstance(existing, bool):
            expected = 'a boolean (true or false)'
        elif isinstance(existing, (int, float)):
            expected = 'an integer' if isinstance(existing, int) else 'a number'
        else:
            continue
        raise ConfigFileError(
            f'--cfg-options {key}={value}: {key} is {expected} in the config '
            f'({cfg.filename}: {existing!r}), and {value!r} is not; give e.g. '
            f'{key}={str(existing).lower() if isinstance(existing, bool) else existing!r}'
        )


def _lookup(node: Any, parts: List[str]) -> Any:
    """The value at a dotted key (list indices as digits), or ``_MISSING``."""
    for part in parts:
        if isinstance(node, dict):
            node = node.get(part, _MISSING)
        elif isinstance(node, (list, tuple)) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return _MISSING
        if node is _MISSING:
            return _MISSING
    return node


def find_syntax_error(path: str) -> Optional[str]:
    """Where the first syntax error is in ``path`` or the files it names as ``_base_`` (or
    imports inside ``read_base()``): ``"FILE, line L: MESSAGE"`` with the offending line and
    how the file is reached; None when all of them parse."""
    for file, chain in _config_files(path):
        try:
            with open(file, encoding='utf-8') as handle:
                source = handle.read()
        except (OSError, UnicodeDecodeError):
            continue
        try:
            ast.parse(source, filename=file)
        except SyntaxError as error:
            line = (error.text or '').rstrip()
            where = f' (a _base_ of {" <- ".join(chain)})' if chain else ''
            shown = f':\n    {line}' if line else ''
            return (
                f'syntax error in config file {file}{where}, line {error.lineno}: '
                f'{error.msg}{shown}'
            )
    return None


def find_base_referrer(path: str, missing: str) -> Optional[str]:
    """The config (``path`` or one of its bases) that names the file ``missing`` as a base."""
    target = osp.normpath(osp.abspath(missing))
    for file, _ in _config_files(path):
        for base in _base_files(file):
            if osp.normpath(osp.abspath(base)) == target:
                return file
    return None


def _config_files(path: str) -> List[Tuple[str, List[str]]]:
    """``path`` and its base files, depth first, each with the chain of files naming it."""
    found: List[Tuple[str, List[str]]] = []
    pending = [(path, [])]
    seen = set()
    while pending:
        file, chain = pending.pop(0)
        key = osp.normpath(osp.abspath(file))
        if key in seen:
            continue
        seen.add(key)
        found.append((file, chain))
        if osp.isfile(file):
            pending[:0] = [(base, [file] + chain) for base in _base_files(file)]
    return found


def _base_files(file: str) -> List[str]:
    """The local files ``file`` names in ``_base_`` or imports in ``with read_base():``; files of
    other packages (``mmdet::...``) and files whose syntax is broken are skipped."""
    try:
        with open(file, encoding='utf-8') as handle:
            tree = ast.parse(handle.read(), filename=file)
    except (OSError, UnicodeDecodeError, SyntaxError):
        return []
    folder = osp.dirname(file)
    bases: List[str] = []
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
            isinstance(target, ast.Name) and target.id == '_base_' for target in node.targets
        ):
            try:
                value = ast.literal_eval(node.value)
            except (ValueError, TypeError, SyntaxError):
                continue
            names = [value] if isinstance(value, str) else list(value)
            bases += [osp.normpath(osp.join(folder, name)) for name in names if '::' not in name]
        elif isinstance(node, ast.With):
            for statement in node.body:
                if isinstance(statement, ast.ImportFrom) and statement.level > 0:
                    parent = folder
                    for _ in range(statement.level - 1):
                        parent = osp.dirname(parent)
                    module = (statement.module or '').replace('.', osp.sep)
                    bases.append(osp.normpath(osp.join(parent, module + '.py')))
    return bases
