"""mmengine's ``CheckpointHook`` with checkpoints that are never lost and load without trust."""

import os
import os.path as osp
import signal
import time
import weakref
from collections import OrderedDict
from typing import Callable, Dict, List, Optional

import torch
from mmdet.registry import HOOKS
from mmengine.config import Config
from mmengine.dist import all_reduce, get_world_size, is_main_process
from mmengine.fileio import LocalBackend
from mmengine.hooks import CheckpointHook
from mmengine.logging import HistoryBuffer

from maskfreevis.utils.checkpoint_files import PARTIAL_SUFFIX, write_text_atomically

__all__ = ['SafeCheckpointHook']

# Keys of the plain form of a message hub ``HistoryBuffer`` inside a checkpoint.
_HISTORY_KEYS = ('log_history', 'count_history', 'max_length')


def history_buffers_to_arrays(log_scalars: Dict[str, object]) -> 'OrderedDict[str, object]':
    """The message hub's ``log_scalars`` with every ``HistoryBuffer`` as plain arrays.

    A pickled ``HistoryBuffer`` carries its statistics functions (rebuilt through
    ``builtins.getattr``, which torch's ``weights_only`` loader rightly refuses); the arrays and
    ``max_length`` are all its state.

    Args:
        log_scalars: ``{name: HistoryBuffer}`` from ``MessageHub.state_dict()``.

    Returns:
        ``{name: {'log_history': (n,) array, 'count_history': (n,) array, 'max_length': int}}``.
    """
    plain = OrderedDict()
    for name, value in log_scalars.items():
        if isinstance(value, HistoryBuffer):
            log_history, count_history = value.data
            value = dict(
                log_history=log_history, count_history=count_history, max_length=value.max_length
            )
        plain[name] = value
    return plain


def arrays_to_history_buffers(log_scalars: Dict[str, object]) -> 'OrderedDict[str, object]':
    """Inverse of :func:`history_buffers_to_arrays`; other values are kept as they are."""
    rebuilt = OrderedDict()
    for name, value in log_scalars.items():
        if isinstance(value, dict) and set(value) == set(_HISTORY_KEYS):
            value = HistoryBuffer(value['log_history'], value['count_history'], value['max_length'])
        rebuilt[name] = value
    return rebuilt


class _DeferredRemovals:
    """A file backend whose ``remove``/``rmtree`` are recorded instead of done."""

    def __init__(self, backend) -> None:
        self.backend = backend
        self.pending: List[str] = []

    def remove(self, path: str) -> None:
        self.pending.append(path)

    def rmtree(self, path: str) -> None:
        self.pending.append(path)

    def __getattr__(self, name: str):
        return getattr(self.backend, name)


class _AtomicallySavingRunner:
    """The runner, except that ``save_checkpoint`` goes through the hook's atomic write."""

    def __init__(self, runner, write: Callable) -> None:
        self.runner = runner
        self._write = write

    def save_checkpoint(self, out_dir: str, filename: str, *args, **kwargs) -> None:
        self._write(self.runner, out_dir, filename, *args, **kwargs)

    def __getattr__(self, name: str):
        return getattr(self.runner, name)


@HOOKS.register_module()
class SafeCheckpointHook(CheckpointHook):
    """``CheckpointHook`` whose checkpoints survive interrupts and load with ``weights_only=True``.

    Same arguments and behaviour as :class:`mmengine.hooks.CheckpointHook`, plus:

    * **no trust needed to load**: the message hub's history buffers are written as plain arrays
      and rebuilt on load, so the file holds only tensors, numpy values and containers (see
      :mod:`maskfreevis.utils.checkpoint_loading`); ``--resume`` needs no full unpickle;
    * **atomic files**: each checkpoint is written to ``<name>.partial`` and renamed when
      complete, ``last_checkpoint`` likewise, so an interrupted save never leaves a truncated
      checkpoint nor a ``last_checkpoint`` naming one (local file systems; on other backends the
      upload itself is the unit);
    * **old ones removed last**: with ``max_keep_ckpts`` the oldest checkpoint, and with
      ``save_best`` the previous best one, is deleted only after the new one exists (mmengine
      deletes first, so an interrupt in between left no checkpoint at all);
    * **a checkpoint on interrupt** (``save_on_interrupt``, iteration-based training): the first
      SIGINT (Ctrl-C) or SIGTERM lets the running iteration finish, saves a checkpoint and stops
      with ``KeyboardInterrupt``, so ``--resume`` continues from there; a second signal (more
      than 2 s later: torchrun forwards the first one to its workers) stops at once. All
      processes of a distributed run stop after the same iteration.

    Args:
        save_on_interrupt: save a checkpoint and stop on the first SIGINT / SIGTERM.
        *args, **kwargs: :class:`mmengine.hooks.CheckpointHook` arguments.
    """

    INTERRUPT_SIGNALS = (signal.SIGINT, signal.SIGTERM)
    # A signal this soon after the first one is the same interrupt forwarded by a launcher.
    REPEAT_GRACE_S = 2.0

    def __init__(self, *args, save_on_interrupt: bool = True, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.save_on_interrupt = save_on_interrupt
        self._interrupted_by: Optional[str] = None
        self._interrupted_at = 0.0
        self._previous_handlers: Dict[int, object] = {}
        self._loop: Optional[weakref.ref] = None

    # Checkpoint content ---------------------------------------------------------------------

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        """Write history buffers as arrays (``checkpoint`` is a fresh copy, changed in place)."""
        message_hub = checkpoint.get('message_hub')
        if isinstance(message_hub, dict) and 'log_scalars' in message_hub:
            message_hub['log_scalars'] = history_buffers_to_arrays(message_hub['log_scalars'])

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        """Rebuild the history buffers before the Runner resumes its message hub from them."""
        message_hub = checkpoint.get('message_hub')
        if isinstance(message_hub, dict) and 'log_scalars' in message_hub:
            message_hub['log_scalars'] = arrays_to_history_buffers(message_hub['log_scalars'])

    # Atomic writes, removal after the new checkpoint exists --------------------------------

    def before_train(self, runner) -> None:
        super().before_train(runner)
        self._remove_partial_files(runner)
        self._install_interrupt_handlers(runner)

    def _remove_partial_files(self, runner) -> None:
        """Remove what an earlier interrupted save left (``*.partial``, never loaded)."""
        if not (is_main_process() and self._on_local_disk() and osp.isdir(self.out_dir)):
            return
        for name in os.listdir(self.out_dir):
            if name.endswith(PARTIAL_SUFFIX):
                os.remove(osp.join(self.out_dir, name))
                runner.logger.info(f'Removed {name}, left by an interrupted checkpoint save.')

    def _on_local_disk(self) -> bool:
        backend = self.file_backend
        if isinstance(backend, _DeferredRemovals):
            backend = backend.backend
        return isinstance(backend, LocalBackend)

    def _write_checkpoint(self, runner, out_dir: str, filename: str, *args, **kwargs) -> None:
        """``runner.save_checkpoint`` into ``<filename>.partial``, then renamed to ``filename``."""
        if not self._on_local_disk():
            runner.save_checkpoint(out_dir, filename, *args, **kwargs)
            return
        try:
            runner.save_checkpoint(out_dir, filename + PARTIAL_SUFFIX, *args, **kwargs)
        except OSError as error:  # e.g. a full disk: say which file, and that nothing is lost
            raise OSError(
                error.errno,
                f'Could not write checkpoint {osp.join(out_dir, filename)} '
                f'({error.strerror or error}); the earlier checkpoints and '
                'last_checkpoint are unchanged',
            ) from error
        if is_main_process():  # save_checkpoint writes on the main process only
            os.replace(osp.join(out_dir, filename + PARTIAL_SUFFIX), osp.join(out_dir, filename))

    def _remove(self, path: str) -> None:
        if self.file_backend.isfile(path):
            self.file_backend.remove(path)
        elif self.file_backend.isdir(path):  # deepspeed checkpoints are directories
            self.file_backend.rmtree(path)

    def _save_checkpoint_with_step(self, runner, step: int, meta: dict) -> None:
        """Save the checkpoint of ``step``; only then drop those beyond ``max_keep_ckpts``."""
        runner = getattr(runner, 'runner', runner)  # unwrapped when called by the best-save
        dropped = []
        if self.max_keep_ckpts > 0 and not (self.keep_ckpt_ids and self.keep_ckpt_ids[-1] == step):
            while len(self.keep_ckpt_ids) >= self.max_keep_ckpts:
                dropped.append(self.keep_ckpt_ids.popleft())
            self.keep_ckpt_ids.append(step)
            runner.message_hub.update_info('keep_ckpt_ids', list(self.keep_ckpt_ids))
        filename = self.filename_tmpl.format(step)
        self.last_ckpt = self.file_backend.join_path(self.out_dir, filename)
        runner.message_hub.update_info('last_ckpt', self.last_ckpt)
        self._write_checkpoint(
            runner,
            self.out_dir,
            filename,
            self.file_client_args,
            save_optimizer=self.save_optimizer,
            save_param_scheduler=self.save_param_scheduler,
            meta=meta,
            by_epoch=self.by_epoch,
            backend_args=self.backend_args,
            **self.args,
        )
        if not is_main_process():
            return
        write_text_atomically(osp.join(runner.work_dir, 'last_checkpoint'), self.last_ckpt)
        for old_step in dropped:
            self._remove(
                self.file_backend.join_path(self.out_dir, self.filename_tmpl.format(old_step))
            )

    def _save_best_checkpoint(self, runner, metrics: dict) -> None:
        """mmengine's best-checkpoint logic, writing atomically and removing the old best last."""
        if not self.save_best:
            return
        deferred = _DeferredRemovals(self.file_backend)
        self.file_backend = deferred
        try:
            super()._save_best_checkpoint(
                _AtomicallySavingRunner(runner, self._write_checkpoint), metrics
            )
        finally:
            self.file_backend = deferred.backend
        if is_main_process():
            kept = {
                getattr(self, 'best_ckpt_path', None),
                self.last_ckpt,
                *getattr(self, 'best_ckpt_path_dict', {}).values(),
            }
            for path in deferred.pending:
                if path not in kept:
                    self._remove(path)

    # Checkpoint on interrupt ---------------------------------------------------------------

    def _install_interrupt_handlers(self, runner) -> None:
        if not self.save_on_interrupt or self.by_epoch:
            return
        # The handler acts only while this run's training loop is on the stack: a run that
        # died of an exception never reaches after_train to put the old handlers back.
        self._loop = weakref.ref(runner.train_loop)
        try:
            for signum in self.INTERRUPT_SIGNALS:
                self._previous_handlers[signum] = signal.signal(signum, self._on_interrupt)
        except ValueError:  # not the main thread: signals cannot be caught here
            self._restore_interrupt_handlers()
            runner.logger.info(
                'SafeCheckpointHook: not in the main thread, so no checkpoint '
                'is saved on an interrupt.'
            )

    def _restore_interrupt_handlers(self) -> None:
        for signum, handler in self._previous_handlers.items():
            signal.signal(signum, handler)
        self._previous_handlers = {}

    def _training(self, frame) -> bool:
        """Whether ``frame`` runs inside this hook's training loop."""
        loop = self._loop() if self._loop is not None else None
        while frame is not None and loop is not None:
            if frame.f_code is type(loop).run.__code__ and frame.f_locals.get('self') is loop:
                return True
            frame = frame.f_back
        return False

    def _pass_on(self, signum: int, frame) -> None:
        """Give the signal the behaviour it had before this hook (KeyboardInterrupt, exit)."""
        previous = self._previous_handlers.get(signum, signal.SIG_DFL)
        self._restore_interrupt_handlers()
        if callable(previous):
            previous(signum, frame)
        elif previous == signal.SIG_DFL:
            os.kill(os.getpid(), signum)

    def _on_interrupt(self, signum: int, frame) -> None:
        if not self._training(frame):  # left behind by a run that ended
            self._pass_on(signum, frame)
            return
        now = time.monotonic()
        if self._interrupted_by is None:
            self._interrupted_by, self._interrupted_at = signal.Signals(signum).name, now
            print(
                f'{self._interrupted_by} received: finishing this iteration, saving a '
                f'checkpoint, then stopping (send it again after {self.REPEAT_GRACE_S:.0f} s to '
                'stop at once, without a checkpoint).',
                flush=True,
            )
        elif now - self._interrupted_at >= self.REPEAT_GRACE_S:
            self._pass_on(signum, frame)
        # else: the same Ctrl-C forwarded by a launcher (torchrun sends it on to its workers)

    def _interrupt_requested(self) -> bool:
        """Whether any process got an interrupt (all processes agree)."""
        requested = self._interrupted_by is not None
        if get_world_size() > 1:
            flag = torch.tensor([float(requested)])
            all_reduce(flag, op='max')
            requested = bool(flag.item())
        return requested

    def after_train_iter(self, runner, batch_idx: int, data_batch=None, outputs=None) -> None:
        super().after_train_iter(runner, batch_idx, data_batch, outputs)
        if not self._previous_handlers and self._interrupted_by is None:
            return  # no handlers installed (or by-epoch training): nothing to check
        if not self._interrupt_requested():
            return
        step = runner.iter + 1
        if self.last_ckpt != self.file_backend.join_path(
            self.out_dir, self.filename_tmpl.format(step)
        ):
            runner.logger.info(f'Saving checkpoint at {step} iterations (interrupted)')
            self._save_checkpoint(runner)
        self._restore_interrupt_handlers()
        raise KeyboardInterrupt(
            f'Training stopped by {self._interrupted_by or "an interrupt of another process"} '
            f'after iteration {step}; checkpoint {self.last_ckpt} saved. Continue with '
            '`tools/train.py CONFIG --resume` (same --work-dir).'
        )

    def after_train(self, runner) -> None:
        self._restore_interrupt_handlers()
        super().after_train(runner)


def use_safe_checkpoint_hook(cfg: Config) -> None:
    """Make the config's checkpoint hook a :class:`SafeCheckpointHook`.

    mmengine's ``CheckpointHook`` (the default of every mmdet config, also when
    ``default_hooks`` has no ``checkpoint`` entry) is replaced, keeping its arguments; another
    checkpoint hook type, or ``checkpoint=None`` (no checkpoints), is left alone.

    Args:
        cfg: the full config; changed in place.
    """
    if cfg.get('default_hooks', None) is None:
        cfg.default_hooks = dict()
    default_hooks = cfg.default_hooks
    if 'checkpoint' not in default_hooks:
        default_hooks['checkpoint'] = dict(type='SafeCheckpointHook', interval=1)  # as mmengine's
        return
    checkpoint = default_hooks['checkpoint']
    if isinstance(checkpoint, dict) and checkpoint.get('type') in (
        'CheckpointHook',
        'mmengine.CheckpointHook',
    ):
        checkpoint['type'] = 'SafeCheckpointHook'
