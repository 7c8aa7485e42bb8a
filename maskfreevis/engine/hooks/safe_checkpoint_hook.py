"""mmengine's ``CheckpointHook`` with checkpoints that are never lost and load without trust."""

import os
import os.path as osp
from collections import OrderedDict
from typing import Dict

import numpy as np
import torch
from mmdet.registry import HOOKS
from mmengine.dist import is_main_process
from mmengine.hooks import CheckpointHook
from mmengine.logging import HistoryBuffer

from maskfreevis.utils.checkpoint_files import ATOMIC_BACKEND, PARTIAL_SUFFIX, AtomicLocalBackend

__all__ = ['SafeCheckpointHook', 'history_buffers_to_tensors', 'tensors_to_history_buffers']

# Keys of the plain form of a message hub ``HistoryBuffer`` inside a checkpoint.
_HISTORY_KEYS = ('log_history', 'count_history', 'max_length')


def history_buffers_to_tensors(log_scalars: Dict[str, object]) -> 'OrderedDict[str, object]':
    """The message hub's ``log_scalars`` with every ``HistoryBuffer`` as plain tensors.

    A pickled ``HistoryBuffer`` carries its statistics functions (rebuilt through
    ``builtins.getattr``, which torch's ``weights_only`` loader rightly refuses) and numpy arrays
    (not on torch's list either); its state is two arrays and ``max_length``. Tensors made from the
    arrays keep their values and dtypes exactly.

    Args:
        log_scalars: ``{name: HistoryBuffer}`` from ``MessageHub.state_dict()``.

    Returns:
        ``{name: {'log_history': (n,) tensor, 'count_history': (n,) tensor, 'max_length': int}}``.
    """
    plain = OrderedDict()
    for name, value in log_scalars.items():
        if isinstance(value, HistoryBuffer):
            log_history, count_history = value.data
            value = dict(
                log_history=torch.from_numpy(np.ascontiguousarray(log_history)),
                count_history=torch.from_numpy(np.ascontiguousarray(count_history)),
                max_length=int(value.max_length),
            )
        plain[name] = value
    return plain


def tensors_to_history_buffers(log_scalars: Dict[str, object]) -> 'OrderedDict[str, object]':
    """Inverse of :func:`history_buffers_to_tensors`; also reads the numpy form of earlier
    checkpoints. Other values are kept as they are."""
    rebuilt = OrderedDict()
    for name, value in log_scalars.items():
        if isinstance(value, dict) and set(value) == set(_HISTORY_KEYS):
            log_history, count_history = (
                item.numpy() if isinstance(item, torch.Tensor) else np.asarray(item)
                for item in (value['log_history'], value['count_history'])
            )
            value = HistoryBuffer(log_history, count_history, value['max_length'])
        rebuilt[name] = value
    return rebuilt


def _numpy_scalars_to_python(value):
    """``value`` with numpy scalars (e.g. the message hub's ``eta``) as Python numbers, inside
    dicts, lists and tuples."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, dict):
        return type(value)((key, _numpy_scalars_to_python(item)) for key, item in value.items())
    if isinstance(value, (list, tuple)) and not hasattr(value, '_fields'):
        return type(value)(_numpy_scalars_to_python(item) for item in value)
    return value


@HOOKS.register_module()
class SafeCheckpointHook(CheckpointHook):
    """``CheckpointHook`` whose checkpoints survive interrupts and load with ``weights_only=True``.

    Same arguments and behaviour as :class:`mmengine.hooks.CheckpointHook`, plus:

    * **no trust needed to load**: the message hub's history buffers are written as tensors and
      its numpy scalars as Python numbers, and rebuilt on load, so the file holds only tensors
      and Python containers: plain ``torch.load`` (``weights_only=True`` since torch 2.6) and a
      plain mmengine ``Runner`` resume from it;
    * **atomic files** (local ``out_dir``): unless ``backend_args`` names another backend, files
      go through the registered :class:`~maskfreevis.utils.checkpoint_files.AtomicLocalBackend`:
      each checkpoint is written to ``<name>.partial`` and renamed when complete, so an
      interrupted save never leaves a truncated checkpoint. Leftover ``.partial`` files are
      removed when training starts;
    * **old ones removed last**: with ``max_keep_ckpts`` the oldest checkpoint, and with
      ``save_best`` the previous best one, is deleted only after the new one exists (mmengine
      deletes first, so an interrupt in between left no checkpoint at all);
    * **a checkpoint on interrupt** (``save_on_interrupt``, with the
      :class:`~maskfreevis.engine.loops.InterruptibleIterBasedTrainLoop`): when the loop is about
      to stop on SIGINT / SIGTERM, the iteration's checkpoint is saved first, so ``--resume``
      continues from there.

    Args:
        save_on_interrupt: save a checkpoint when an interrupt stops training.
        *args, **kwargs: :class:`mmengine.hooks.CheckpointHook` arguments.
    """

    def __init__(self, *args, save_on_interrupt: bool = True, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.save_on_interrupt = save_on_interrupt
        out_dir = str(self.out_dir) if self.out_dir is not None else ''
        if self.backend_args is None and self.file_client_args is None and '://' not in out_dir:
            self.backend_args = dict(backend=ATOMIC_BACKEND)

    # Checkpoint content ---------------------------------------------------------------------

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        """Make the message hub and meta plain (``checkpoint``: a fresh copy, changed in place)."""
        message_hub = checkpoint.get('message_hub')
        if isinstance(message_hub, dict):
            if 'log_scalars' in message_hub:
                message_hub['log_scalars'] = history_buffers_to_tensors(message_hub['log_scalars'])
            if 'runtime_info' in message_hub:
                message_hub['runtime_info'] = _numpy_scalars_to_python(message_hub['runtime_info'])
        if isinstance(checkpoint.get('meta'), dict):
            checkpoint['meta'] = _numpy_scalars_to_python(checkpoint['meta'])

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        """Rebuild the history buffers before the Runner resumes its message hub from them."""
        message_hub = checkpoint.get('message_hub')
        if isinstance(message_hub, dict) and 'log_scalars' in message_hub:
            message_hub['log_scalars'] = tensors_to_history_buffers(message_hub['log_scalars'])

    # Saving, then removing -----------------------------------------------------------------

    def before_train(self, runner) -> None:
        """mmengine's set-up (which may drop checkpoints beyond ``max_keep_ckpts`` of a resumed
        run), and what an earlier interrupted save left (``*.partial``) removed."""
        super().before_train(runner)
        self._apply_removals(runner)
        if not (is_main_process() and self._atomic() and osp.isdir(self.out_dir)):
            return
        for name in os.listdir(self.out_dir):
            if name.endswith(PARTIAL_SUFFIX):
                os.remove(osp.join(self.out_dir, name))
                runner.logger.info(f'Removed {name}, left by an interrupted checkpoint save.')

    def after_train_iter(self, runner, batch_idx: int, data_batch=None, outputs=None) -> None:
        """mmengine's periodic save, the interrupted iteration's save, then the removals."""
        super().after_train_iter(runner, batch_idx, data_batch, outputs)
        if self._interrupted(runner) and not self._saved_at(runner.iter + 1):
            runner.logger.info(f'Saving checkpoint at {runner.iter + 1} iterations (interrupted)')
            # No public call saves a checkpoint outside the interval; this method of the base
            # class is pinned by tests/engine/hooks/test_safe_checkpoint_hook.py.
            self._save_checkpoint(runner)
        self._apply_removals(runner)

    def after_train_epoch(self, runner) -> None:
        super().after_train_epoch(runner)
        self._apply_removals(runner)

    def after_val_epoch(self, runner, metrics) -> None:
        super().after_val_epoch(runner, metrics)
        self._apply_removals(runner)

    def _interrupted(self, runner) -> bool:
        """Whether the training loop stops after this iteration because of an interrupt."""
        if not self.save_on_interrupt or self.by_epoch:
            return False
        stop_requested = getattr(runner.train_loop, 'stop_requested', None)
        return bool(stop_requested is not None and stop_requested())

    def _saved_at(self, step: int) -> bool:
        return self.last_ckpt == self.file_backend.join_path(
            self.out_dir, self.filename_tmpl.format(step)
        )

    def _atomic(self) -> bool:
        return isinstance(getattr(self, 'file_backend', None), AtomicLocalBackend)

    def _apply_removals(self, runner) -> None:
        """Delete the checkpoints mmengine dropped, now that their successors exist."""
        if not self._atomic():
            return
        if not is_main_process():
            self.file_backend.pending_removals = []
            return
        kept = (
            self.last_ckpt,
            getattr(self, 'best_ckpt_path', None),
            *(getattr(self, 'best_ckpt_path_dict', None) or {}).values(),
        )
        for path in self.file_backend.apply_removals(keep=tuple(str(p) for p in kept if p)):
            runner.logger.info(f'Removed {path} (superseded).')
