"""Checkpoint files in a work_dir: atomic writes and finding the checkpoint to resume from.

Upstream bugs (mmengine 0.10.7):

* ``LocalBackend.put`` (used by ``save_checkpoint``) writes the final file in place, so an
  interrupted save leaves a truncated checkpoint under its real name; ``CheckpointHook`` deletes
  the oldest checkpoint (``max_keep_ckpts``) and the previous best one *before* writing the new
  one. :class:`AtomicLocalBackend`, a file backend registered under ``'atomic_local'``, writes
  through ``<name>.partial`` and a rename, and holds removals back until
  :meth:`AtomicLocalBackend.apply_removals` (called by
  :class:`maskfreevis.engine.hooks.SafeCheckpointHook` once the new checkpoint exists).
* ``Runner.load_or_resume`` with ``resume=True`` and no checkpoint
  logs "Auto resumed from the latest checkpoint None." and silently trains from iteration 1, and
  it trusts ``last_checkpoint`` blindly: when that names a deleted file, or is empty (it is
  written in place, after the checkpoint), ``--resume`` fails although other checkpoints are
  there. :func:`resolve_auto_resume` decides before the Runner is built and says what it found.
"""

import logging
import os
import os.path as osp
import re
from pathlib import Path
from typing import List, Optional, Tuple, Union

from mmengine.config import Config
from mmengine.fileio import LocalBackend, register_backend
from mmengine.logging import print_log

# Suffix of a checkpoint (or `last_checkpoint`) still being written; renamed away when complete.
PARTIAL_SUFFIX = '.partial'
# Checkpoints written by mmengine's CheckpointHook (default filename_tmpl).
_CHECKPOINT_NAME = re.compile(r'^(iter|epoch)_(\d+)\.pth$')
# Name of the registered file backend (``backend_args=dict(backend=ATOMIC_BACKEND)``).
ATOMIC_BACKEND = 'atomic_local'


def write_text_atomically(path: str, text: str) -> None:
    """Replace ``path`` by a file holding ``text``; readers see the old or the new file, never
    a partly written one."""
    partial = path + PARTIAL_SUFFIX
    with open(partial, 'w') as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(partial, path)


@register_backend(ATOMIC_BACKEND)
class AtomicLocalBackend(LocalBackend):
    """Local files written atomically, and removed only when asked to apply the removals.

    * ``put`` / ``put_text`` write ``<path>.partial``, flush it to disk and rename it to
      ``path``: readers see the old file or the complete new one, never part of one. A failed
      write (full disk) names the file and leaves the earlier file as it was.
    * ``remove`` / ``rmtree`` are recorded; :meth:`apply_removals` carries them out. mmengine's
      ``CheckpointHook`` removes the checkpoint that ``max_keep_ckpts`` (or a new best one)
      pushes out *before* saving the new one; with this backend the removal happens after.

    Each instance keeps its own pending removals (mmengine builds one backend per call of
    ``get_file_backend``); the checkpoint hook's ``file_backend`` is the one that removes.
    """

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.pending_removals: List[str] = []

    def _write_atomically(
        self,
        data: Union[bytes, str],
        filepath: Union[str, Path],
        mode: str,
        encoding: Optional[str] = None,
    ) -> None:
        filepath = str(filepath)
        os.makedirs(osp.dirname(osp.abspath(filepath)), exist_ok=True)
        partial = filepath + PARTIAL_SUFFIX
        try:
            with open(partial, mode, encoding=encoding) as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
        except OSError as error:  # e.g. a full disk: say which file, and that nothing is lost
            if osp.exists(partial):
                os.remove(partial)
            raise OSError(
                error.errno,
                f'Could not write {filepath} ({error.strerror or error}); the earlier files '
                'there (checkpoints, last_checkpoint) are unchanged',
            ) from error
        os.replace(partial, filepath)

    def put(self, obj: bytes, filepath: Union[str, Path]) -> None:
        """Write ``obj`` to ``filepath`` atomically."""
        self._write_atomically(obj, filepath, 'wb')

    def put_text(self, obj: str, filepath: Union[str, Path], encoding: str = 'utf-8') -> None:
        """Write ``obj`` to ``filepath`` atomically."""
        self._write_atomically(obj, filepath, 'w', encoding)

    def remove(self, filepath: Union[str, Path]) -> None:
        """Remove ``filepath`` at the next :meth:`apply_removals`."""
        self.pending_removals.append(str(filepath))

    def rmtree(self, dir_path: Union[str, Path]) -> None:
        """Remove the folder ``dir_path`` (a deepspeed checkpoint) at the next
        :meth:`apply_removals`."""
        self.pending_removals.append(str(dir_path))

    def apply_removals(self, keep: Tuple[str, ...] = ()) -> List[str]:
        """Remove what :meth:`remove` / :meth:`rmtree` recorded, except the paths in ``keep``.

        Returns:
            The paths removed.
        """
        kept = {osp.abspath(path) for path in keep if path}
        removed = []
        for path in self.pending_removals:
            if osp.abspath(path) in kept:
                continue
            if osp.isdir(path):
                super().rmtree(path)
            elif osp.exists(path):
                super().remove(path)
            else:
                continue
            removed.append(path)
        self.pending_removals = []
        return removed


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
