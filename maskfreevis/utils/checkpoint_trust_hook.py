"""Hook that lets a run fully unpickle the checkpoints it wrote itself (see ``checkpoint_loading``)."""
import contextlib
from typing import Optional

from mmengine.hooks import Hook
from mmdet.registry import HOOKS

from .checkpoint_loading import trust_checkpoints


@HOOKS.register_module()
class CheckpointTrustHook(Hook):
    """Trust the run's own ``work_dir`` and the config's ``trusted_checkpoints`` while it runs.

    mmengine calls ``before_run`` before ``load_or_resume``, so ``resume=True`` (which reads the
    run's own work_dir) and ``load_from`` of a listed file can unpickle mmengine's full checkpoints,
    while a checkpoint from anywhere else still goes through torch's ``weights_only`` loader.
    """

    priority = 'HIGHEST'

    def __init__(self) -> None:
        self._trust_context: Optional[contextlib.ExitStack] = None

    def before_run(self, runner) -> None:
        trusted = [runner.work_dir] + list(runner.cfg.get('trusted_checkpoints', None) or [])
        self._trust_context = contextlib.ExitStack()
        self._trust_context.enter_context(trust_checkpoints(trusted))

    def after_run(self, runner) -> None:
        if self._trust_context is not None:
            self._trust_context.close()
            self._trust_context = None
