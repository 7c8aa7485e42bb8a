"""A training run's claim on its work_dir: no earlier run's checkpoints replaced unasked, one
run at a time.

mmengine 0.10.7 trains into whatever ``work_dir`` it is given: a second run there, without
``--resume``, writes ``iter_N.pth`` and ``last_checkpoint`` over the first run's, and two runs
started together both exit 0 with only the later one's checkpoints left. Here:

* :func:`check_no_earlier_run` refuses a fresh start (no ``resume``) in a work_dir that holds
  checkpoints (``iter_N.pth``, ``epoch_N.pth``, ``best_*.pth``, or a ``last_checkpoint`` naming
  one) unless the config says ``overwrite_work_dir = True``;
* :class:`WorkDirLock` is a lock file (``training.lock``, created atomically with ``O_EXCL``,
  holding the pid, host, process start time and command line). A lock whose process is gone (same
  host, the pid dead or reused) is stale and taken over with a message; one held by a live
  process is refused, naming it;
* :func:`check_work_dir_is_folder` names a ``work_dir`` that is an existing file, or empty (an
  unset variable: mmengine would write into the current folder);
* :func:`dump_would_replace_config` tells when mmengine's config dump (``work_dir/<config file
  name>``, written in training and testing alike) is the config file itself, which it replaced
  with the flattened copy (its ``_base_`` and comments lost, the run's ``--cfg-options`` baked
  in); :class:`~maskfreevis.engine.CheckpointPolicyRunner` then leaves the file as it is.

:class:`~maskfreevis.engine.hooks.WorkDirGuardHook` applies them when training starts, for every
way of running a config; ``tools/train.py`` also checks before anything is built, so a refused
run writes nothing at all.
"""

import json
import os
import os.path as osp
import re
import socket
import sys
import time
from typing import List, Optional

from mmengine.logging import print_log

__all__ = [
    'LOCK_NAME',
    'OVERWRITE_OPTION',
    'WorkDirError',
    'WorkDirLock',
    'check_no_earlier_run',
    'check_work_dir_for_training',
    'check_work_dir_is_folder',
    'dump_would_replace_config',
    'earlier_checkpoints',
    'overwrite_allowed',
]

LOCK_NAME = 'training.lock'
# The config option that allows a fresh run over an earlier run's checkpoints.
OVERWRITE_OPTION = 'overwrite_work_dir'
_CHECKPOINT_FILE = re.compile(r'^((iter|epoch)_\d+|best_.+)\.pth$')


class WorkDirError(RuntimeError):
    """The work_dir cannot take this training run (a file, another run's checkpoints, locked)."""


def check_work_dir_is_folder(work_dir: str) -> None:
    """Raise :class:`WorkDirError` if ``work_dir`` is empty, or exists and is not a folder."""
    if not str(work_dir).strip():
        raise WorkDirError(
            f'work_dir is empty ({work_dir!r}: an unset variable in --work-dir "$DIR"?); the run '
            'would write its logs, checkpoints and config into the current folder. Give a folder '
            '(tools: --work-dir DIR).'
        )
    if osp.exists(work_dir) and not osp.isdir(work_dir):
        raise WorkDirError(
            f'work_dir {work_dir} is an existing file, not a folder; choose a folder for the '
            "run's logs and checkpoints (tools: --work-dir DIR)."
        )


def dump_would_replace_config(config_file: Optional[str], work_dir: str) -> bool:
    """Whether mmengine's config dump, ``work_dir/<config file name>``, is ``config_file`` itself.

    That happens with ``--work-dir`` the config's own folder, and when a run's dumped config is
    tested or trained again (``tools/test.py work_dirs/x/x.py CKPT`` puts ``work_dir`` there).

    Args:
        config_file: the file the config was read from (``cfg.filename``; None: not from a file).
        work_dir: the run's work_dir.
    """
    if not config_file or not work_dir:
        return False
    dump = osp.join(work_dir, osp.basename(config_file))
    return osp.exists(dump) and osp.exists(config_file) and osp.samefile(dump, config_file)


def earlier_checkpoints(work_dir: str) -> List[str]:
    """The checkpoint files of earlier runs in ``work_dir``, sorted, and ``last_checkpoint`` when
    it names a checkpoint that exists (possibly in another ``out_dir``)."""
    if not osp.isdir(work_dir):
        return []
    found = [name for name in os.listdir(work_dir) if _CHECKPOINT_FILE.match(name)]
    pointer = osp.join(work_dir, 'last_checkpoint')
    if osp.isfile(pointer):
        with open(pointer) as handle:
            named = handle.read().strip()
        if named and osp.isfile(named):
            found.append('last_checkpoint')
    return sorted(found)


def check_no_earlier_run(work_dir: str, resume: bool, overwrite: bool) -> None:
    """Refuse a fresh training run over an earlier run's checkpoints.

    Args:
        work_dir: the run's work_dir.
        resume: the run continues from a checkpoint (``resume`` in the config).
        overwrite: the config's ``overwrite_work_dir``.

    Raises:
        WorkDirError: ``work_dir`` holds checkpoints, and the run neither resumes nor overwrites.
    """
    found = earlier_checkpoints(work_dir)
    if not found or resume or overwrite:
        return
    shown = ', '.join(found[:4]) + (f' and {len(found) - 4} more' if len(found) > 4 else '')
    raise WorkDirError(
        f'work_dir {work_dir} already holds checkpoints of an earlier run ({shown}); a new run '
        'there would replace them. Continue that run with --resume, or choose another '
        f'--work-dir, or, to train afresh over them, pass --overwrite-work-dir '
        f'(config: {OVERWRITE_OPTION} = True).'
    )


def _process_start(pid: int) -> Optional[str]:
    """The start time of process ``pid`` in clock ticks since boot (Linux), or None."""
    try:
        with open(f'/proc/{pid}/stat') as handle:
            stat = handle.read()
    except OSError:
        return None
    # The command name (field 2) may hold spaces; the start time is field 22.
    return stat.rsplit(')', 1)[-1].split()[19]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


class WorkDirLock:
    """The lock file that marks ``work_dir`` as used by one training run.

    Args:
        work_dir: the folder to lock (created if missing).
    """

    def __init__(self, work_dir: str) -> None:
        self.work_dir = work_dir
        self.path = osp.join(work_dir, LOCK_NAME)
        self.held = False

    def _describe(self) -> dict:
        pid = os.getpid()
        return dict(
            pid=pid,
            host=socket.gethostname(),
            process_start=_process_start(pid),
            started=time.strftime('%Y-%m-%d %H:%M:%S'),
            command=' '.join([osp.basename(sys.executable)] + sys.argv),
        )

    def holder(self) -> Optional[dict]:
        """What the lock file says about its holder (``{}`` if unreadable), or None if no lock."""
        try:
            with open(self.path) as handle:
                text = handle.read()
        except FileNotFoundError:
            return None
        try:
            holder = json.loads(text)
        except ValueError:
            return {}
        return holder if isinstance(holder, dict) else {}

    @staticmethod
    def _ours(holder: dict) -> bool:
        return holder.get('pid') == os.getpid() and holder.get('host') == socket.gethostname()

    @staticmethod
    def _stale(holder: dict) -> bool:
        """Whether the holder is a process of this host that no longer runs."""
        if holder.get('host') != socket.gethostname() or not isinstance(holder.get('pid'), int):
            return False
        pid = holder['pid']
        if not _alive(pid):
            return True
        start = holder.get('process_start')
        return start is not None and _process_start(pid) not in (None, start)  # pid reused

    def _refusal(self, holder: dict) -> WorkDirError:
        who = (
            f'pid {holder.get("pid")} on {holder.get("host")}, started {holder.get("started")}: '
            f'{holder.get("command")}'
            if holder
            else 'a lock file that cannot be read'
        )
        return WorkDirError(
            f'work_dir {self.work_dir} is in use by another training run ({who}). Wait for it '
            f'to finish, or choose another --work-dir; if that run is no longer running (e.g. '
            f'on another machine that shares this folder), delete {self.path}.'
        )

    def check(self) -> None:
        """Raise :class:`WorkDirError` if another live run holds the lock (takes nothing)."""
        holder = self.holder()
        if holder is None or self._ours(holder) or self._stale(holder):
            return
        raise self._refusal(holder)

    def acquire(self) -> None:
        """Take the lock (a lock of this process, or of a process that is gone, is taken over).

        Raises:
            WorkDirError: another live run holds it.
        """
        os.makedirs(self.work_dir, exist_ok=True)
        for _ in range(3):
            try:
                descriptor = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                holder = self.holder()
                if holder is None:
                    continue  # released in the meantime
                if not holder:  # being written by its creator right now, or left empty
                    time.sleep(0.5)
                    holder = self.holder()
                    if holder is None:
                        continue
                if holder and self._ours(holder):
                    self.held = True
                    return
                if holder and not self._stale(holder):
                    raise self._refusal(holder) from None
                print_log(
                    f'Taking over {self.path}, left by a run that is no longer running '
                    f'({holder or "unreadable"}).',
                    logger='current',
                )
                try:
                    os.remove(self.path)
                except FileNotFoundError:
                    pass
                continue
            with os.fdopen(descriptor, 'w') as handle:
                json.dump(self._describe(), handle)
                handle.flush()
                os.fsync(handle.fileno())
            self.held = True
            return
        raise self._refusal(self.holder() or {})

    def release(self) -> None:
        """Remove the lock file if this process holds it."""
        if not self.held:
            return
        self.held = False
        holder = self.holder()
        if holder is not None and self._ours(holder):
            os.remove(self.path)


def check_work_dir_for_training(cfg) -> None:
    """All the checks of a training run's ``cfg.work_dir``, taking nothing (for a tool to fail
    before it builds anything; :class:`~maskfreevis.engine.hooks.WorkDirGuardHook` takes the lock).

    Args:
        cfg: the full config (``work_dir``, ``resume``, ``overwrite_work_dir``).

    Raises:
        WorkDirError: naming the problem and the options.
    """
    work_dir = cfg.work_dir
    check_work_dir_is_folder(work_dir)
    check_no_earlier_run(work_dir, bool(cfg.get('resume', False)), overwrite_allowed(cfg))
    WorkDirLock(work_dir).check()


def overwrite_allowed(cfg) -> bool:
    """The config's ``overwrite_work_dir`` (``--cfg-options`` may give the string ``'True'``)."""
    value = cfg.get(OVERWRITE_OPTION, False)
    return value if isinstance(value, bool) else str(value).lower() in ('1', 'true', 'yes')
