"""Build mmengine's Runner the way every entry point of the package needs it.

``tools/train.py``, ``tools/test.py`` (also under ``mim train/test``) and the demo call
:func:`build_runner`, so distributed start-up on CPU-only machines and the hooks the package
relies on are the same everywhere, and configs need not list those hooks.
"""

from mmengine.config import Config
from mmengine.registry import RUNNERS
from mmengine.runner import Runner

from maskfreevis.utils import setup_cpu_distributed
from maskfreevis.utils.checkpoint_files import resolve_auto_resume

from .hooks import use_safe_checkpoint_hook

__all__ = ['DEFAULT_CUSTOM_HOOKS', 'add_default_custom_hooks', 'build_runner']

# Hooks every run gets unless its config already lists a hook of that type.
# CheckpointTrustHook: the config's `trusted_checkpoints` opt-in to a full unpickle.
# CheckpointMatchHook: refuses a checkpoint that does not fit the model.
# DivergenceHook: stops a diverging run before its checkpoint is saved.
DEFAULT_CUSTOM_HOOKS = (
    dict(type='CheckpointTrustHook'),
    dict(type='CheckpointMatchHook'),
    dict(type='DivergenceHook'),
)


def add_default_custom_hooks(cfg: Config) -> None:
    """Append each of :data:`DEFAULT_CUSTOM_HOOKS` whose type ``cfg.custom_hooks`` lacks.

    Idempotent: a hook type already in the config (with its own arguments) is left alone.
    """
    custom_hooks = list(cfg.get('custom_hooks', None) or [])
    present = {hook.get('type') for hook in custom_hooks}
    custom_hooks += [dict(hook) for hook in DEFAULT_CUSTOM_HOOKS if hook['type'] not in present]
    cfg.custom_hooks = custom_hooks


def build_runner(cfg: Config) -> Runner:
    """The Runner of a full config (``cfg.launcher`` as the tool's ``--launcher``).

    Sets up distributed data parallel when asked, also on machines without CUDA
    (:func:`maskfreevis.utils.setup_cpu_distributed`), adds the default custom hooks, makes the
    checkpoint hook a :class:`~maskfreevis.engine.hooks.SafeCheckpointHook`, resolves
    ``resume=True`` to a checkpoint
    (:func:`maskfreevis.utils.checkpoint_files.resolve_auto_resume`), then builds the config's
    ``runner_type`` or mmengine's :class:`Runner`.
    """
    setup_cpu_distributed(cfg)
    add_default_custom_hooks(cfg)
    use_safe_checkpoint_hook(cfg)  # atomic, weights-only-loadable checkpoints
    resolve_auto_resume(cfg)  # `--resume`: an explicit checkpoint, or a clear "nothing to resume"
    return RUNNERS.build(cfg) if 'runner_type' in cfg else Runner.from_cfg(cfg)
