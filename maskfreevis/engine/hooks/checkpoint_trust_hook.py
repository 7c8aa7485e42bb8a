"""Hook applying the config's ``trusted_checkpoints`` opt-in."""

import contextlib
from typing import Optional

from mmdet.registry import HOOKS
from mmengine.hooks import Hook

from maskfreevis.utils.checkpoint_loading import trust_checkpoints

__all__ = ['CheckpointTrustHook']


@HOOKS.register_module()
class CheckpointTrustHook(Hook):
    """Trust the checkpoints the config lists in ``trusted_checkpoints``, while the run lasts.

    Every checkpoint is loaded with torch's ``weights_only`` loader, and the package's own
    checkpoints (resume included) need nothing more. A checkpoint that does (one written by plain
    mmengine or an older version of this package) is fully unpickled only if the user listed it:
    ``trusted_checkpoints = ['path/or/url.pth', 'dir/']`` (a directory covers the files below it).
    The run's own ``work_dir`` is not trusted: a file placed there is no safer than anywhere else.
    mmengine calls ``before_run`` before ``load_or_resume``, so ``load_from`` and ``--resume``
    see the list.
    """

    priority = 'HIGHEST'

    def __init__(self) -> None:
        self._trust_context: Optional[contextlib.ExitStack] = None

    def before_run(self, runner) -> None:
        """Start trusting the listed checkpoints (before mmengine loads or resumes)."""
        trusted = runner.cfg.get('trusted_checkpoints', None) or []
        if isinstance(trusted, str):  # `--cfg-options trusted_checkpoints=x.pth` gives a string
            trusted = [trusted]
        self._trust_context = contextlib.ExitStack()
        self._trust_context.enter_context(trust_checkpoints(trusted))

    def after_run(self, runner) -> None:
        """Stop trusting them."""
        if self._trust_context is not None:
            self._trust_context.close()
            self._trust_context = None
