"""Hook that claims the work_dir for a training run (:mod:`maskfreevis.engine.work_dir_guard`)."""

import atexit
from typing import Optional

from mmdet.registry import HOOKS
from mmengine.dist import is_main_process
from mmengine.hooks import Hook

from ..process_agreement import any_process
from ..work_dir_guard import WorkDirError, WorkDirLock, check_no_earlier_run, overwrite_allowed

__all__ = ['WorkDirGuardHook']


@HOOKS.register_module()
class WorkDirGuardHook(Hook):
    """Before training: refuse to replace an earlier run's checkpoints, and lock the work_dir.

    * A run that does not resume, in a work_dir that holds checkpoints, stops with
      :class:`~maskfreevis.engine.work_dir_guard.WorkDirError` naming the folder and the ways
      on (``--resume``, another ``--work-dir``, ``overwrite_work_dir = True``).
    * ``training.lock`` in the work_dir marks it as used by this run until training ends, or
      until the process exits (a run stopped by an interrupt or an error); a second run there
      stops naming the first one's pid, host and command. A lock left by a process that was
      killed is taken over (same host, process gone).

    Runs before any other hook's ``before_train`` (``priority='VERY_HIGH'``), so nothing is
    written into the work_dir of a refused run after mmengine's own start-up (its log folder and
    config copy; ``tools/train.py`` checks before even those). The main process decides; in a
    distributed run all processes stop together.
    """

    priority = 'VERY_HIGH'

    def __init__(self) -> None:
        self._lock: Optional[WorkDirLock] = None

    def before_train(self, runner) -> None:
        """Check for an earlier run and take the lock (main process), or raise."""
        problem: Optional[WorkDirError] = None
        if is_main_process():
            try:
                check_no_earlier_run(
                    runner.work_dir,
                    bool(runner.cfg.get('resume', False)),
                    overwrite_allowed(runner.cfg),
                )
                self._lock = WorkDirLock(runner.work_dir)
                self._lock.acquire()
                # mmengine calls no hook when training stops by an exception
                atexit.register(self._lock.release)
            except WorkDirError as error:
                problem = error
        if any_process(problem is not None):
            raise problem or WorkDirError(
                f'work_dir {runner.work_dir}: refused by the main process (see its log).'
            )

    def after_train(self, runner) -> None:
        """Release the lock."""
        if self._lock is not None:
            self._lock.release()
            atexit.unregister(self._lock.release)
            self._lock = None
