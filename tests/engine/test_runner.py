"""``build_runner``: default hooks added once, the config's own hooks kept."""

from mmdet.registry import MODELS
from mmengine.config import Config
from mmengine.model import BaseModel

from maskfreevis.engine import DEFAULT_CUSTOM_HOOKS, add_default_custom_hooks, build_runner

DEFAULT_TYPES = [hook['type'] for hook in DEFAULT_CUSTOM_HOOKS]


@MODELS.register_module(force=True)
class RunnerTestToyModel(BaseModel):
    """The smallest model a Runner builds (no parameters, never run)."""

    def forward(self, inputs, data_samples=None, mode='tensor'):
        return inputs


def test_the_trust_hook_is_a_default():
    assert 'CheckpointTrustHook' in DEFAULT_TYPES


def test_defaults_added_once_after_the_configs_hooks():
    cfg = Config(dict(custom_hooks=[dict(type='EMAHook')]))
    add_default_custom_hooks(cfg)
    add_default_custom_hooks(cfg)
    assert [hook['type'] for hook in cfg.custom_hooks] == ['EMAHook'] + DEFAULT_TYPES


def test_configs_own_trust_hook_is_left_alone():
    own = dict(type='CheckpointTrustHook', priority='LOW')
    cfg = Config(dict(custom_hooks=[own]))
    add_default_custom_hooks(cfg)
    assert cfg.custom_hooks[0] == own
    assert [hook['type'] for hook in cfg.custom_hooks].count('CheckpointTrustHook') == 1
    assert len(cfg.custom_hooks) == len(DEFAULT_CUSTOM_HOOKS)


def test_built_runner_has_the_trust_hook(tmp_path):
    cfg = Config(
        dict(
            model=dict(type='RunnerTestToyModel'),
            work_dir=str(tmp_path),
            default_scope='mmdet',
            launcher='none',
        )
    )
    runner = build_runner(cfg)
    assert 'CheckpointTrustHook' in [type(hook).__name__ for hook in runner.hooks]
