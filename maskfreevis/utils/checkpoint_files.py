"""Checkpoint files in a work_dir: atomic writes and finding the checkpoint to resume from.

Upstream bug: mmengine 0.10.7 ``Runner.load_or_resume`` with ``resume=True`` and no checkpoint
logs "Auto resumed from the latest checkpoint None." and silently trains from iteration 1, and it
trusts ``last_checkpoint`` blindly: when that names a deleted file (mmengine's ``CheckpointHook``
deletes the oldest checkpoint before writing the new one), ``--resume`` fails with
``FileNotFoundError`` although other checkpoints are there. :func:`resolve_auto_resume` decides
before the Runner is built and says what it found.
"""

import logging
import os
import os.path as osp
import re
from typing import Optional, Tuple

from mmengine.config import Config
from mmengine.logging import print_log

# Suffix of a checkpoint (or `last_checkpoint`) still being written; renamed away when complete.
PARTIAL_SUFFIX = '.partial'
# Checkpoints written by mmengine's CheckpointHook (default filename_tmpl).
_CHECKPOINT_NAME = re.compile(r'^(iter|epoch)_(\d+)\.pth$')


def write_text_atomically(path: str, text: str) -> None:
    """Replace ``path`` by a file holding ``text``; readers see the old or the new file, never
    a partly written one."""
    partial = path + PARTIAL_SUFFIX
    with open(partial, 'w') as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(partial, path)


def newest_checkpoint_in(work_dir: str) -> Optional[str]:
    """The ``iter_N.pth`` (or else ``epoch_N.pth``) with the largest N in ``work_dir``."""
    if not osp.isdir(work_dir):
        return None
    found = []
    for name in os.listdir(work_dir):
        match = _CHECKPOINT_NAME.match(name)
        if match and osp.isfile(osp.join(work_dir, name)):
            found.append((match.group(1) == 'iter', int(match.group(2)), name))
    return osp.join(work_dir, max(found)[2]) if found else None


def find_resumable_checkpoint(work_dir: str) -> Tuple[Optional[str], str]:
    """The checkpoint ``--resume`` (without a path) continues from, and why.

    ``last_checkpoint`` when it names an existing file; else the newest ``iter_N.pth`` /
    ``epoch_N.pth`` of ``work_dir``; else None.

    Args:
        work_dir: the run's work_dir.

    Returns:
        ``(path or None, explanation for the log)``.
    """
    pointer = osp.join(work_dir, 'last_checkpoint')
    named = None
    if osp.isfile(pointer):
        with open(pointer) as handle:
            named = handle.read().strip()
        if named and osp.isfile(named):
            return named, f'the last checkpoint of {work_dir}'
    newest = newest_checkpoint_in(work_dir)
    if named is not None:
        stale = f'{pointer} names {named!r}, which does not exist'
        if newest is not None:
            return newest, f'{stale}; using the newest checkpoint there instead'
        return None, f'{stale}, and there is no other checkpoint in {work_dir}'
    if newest is not None:
        return newest, f'the newest checkpoint of {work_dir} (no last_checkpoint file)'
    return None, f'no checkpoint has been saved in {work_dir} yet'


def resolve_auto_resume(cfg: Config) -> Optional[str]:
    """Turn ``resume=True`` without ``load_from`` into an explicit checkpoint, or into a fresh
    start that the log states clearly.

    Args:
        cfg: the full config (``resume``, ``load_from``, ``work_dir``); changed in place.

    Returns:
        The checkpoint training resumes from; None when it starts afresh or ``load_from`` /
        ``resume`` were already explicit.
    """
    if not cfg.get('resume', False) or cfg.get('load_from', None) is not None:
        return None
    checkpoint, why = find_resumable_checkpoint(cfg.work_dir)
    if checkpoint is None:
        cfg.resume = False
        print_log(
            f'--resume: nothing to resume, {why}. Training starts from iteration 1.',
            logger='current',
            level=logging.WARNING,
        )
        return None
    cfg.load_from = checkpoint
    print_log(f'--resume: resuming from {checkpoint} ({why}).', logger='current')
    return checkpoint
