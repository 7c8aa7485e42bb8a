"""``build_runner`` adds nothing to the config; ``CheckpointPolicyRunner`` loads checkpoints by the
package's policy and resolves ``--resume``."""

import hashlib
import inspect
import itertools
import os.path as osp

import pytest
import torch
from mmdet.registry import MODELS
from mmengine.config import Config
from mmengine.model import BaseModel
from mmengine.runner import Runner

from maskfreevis.engine import CheckpointPolicyRunner, WorkDirError, build_runner
from maskfreevis.utils import TRUST_ENV_VAR, UntrustedCheckpointError
from maskfreevis.utils.checkpoint_loading import CheckpointDownloadError


@MODELS.register_module(force=True)
class RunnerTestToyModel(BaseModel):
    """The smallest model a Runner builds (one weight, never run)."""

    def __init__(self) -> None:
        super().__init__()
        self.weight = torch.nn.Parameter(torch.zeros(3))

    def forward(self, inputs, data_samples=None, mode='tensor'):
        return inputs


_run_numbers = itertools.count()


def minimal_config(work_dir, **overrides) -> Config:
    cfg = dict(
        experiment_name=f'runner_test_{next(_run_numbers)}',
        model=dict(type='RunnerTestToyModel'),
        work_dir=str(work_dir),
        default_scope='mmdet',
        launcher='none',
        runner_type='CheckpointPolicyRunner',
        log_level='WARNING',
    )
    cfg.update(overrides)
    return Config(cfg)


def hook_types(runner) -> list:
    return [type(hook).__name__ for hook in runner.hooks]


def test_build_runner_adds_nothing_to_the_config(tmp_path):
    cfg = minimal_config(tmp_path / 'a', custom_hooks=[dict(type='EMAHook')])
    built = build_runner(cfg.copy())
    plain = Runner.from_cfg(minimal_config(tmp_path / 'b', custom_hooks=[dict(type='EMAHook')]))
    assert isinstance(built, CheckpointPolicyRunner)
    assert hook_types(built) == hook_types(plain)
    assert 'CheckpointMatchHook' not in hook_types(built)  # what the config did not ask for


def test_without_runner_type_it_is_mmengines_runner(tmp_path):
    cfg = minimal_config(tmp_path)
    cfg.pop('runner_type')
    assert type(build_runner(cfg)) is Runner


def test_a_work_dir_that_is_a_file_is_named(tmp_path):
    a_file = tmp_path / 'notes.txt'
    a_file.write_text('mine')
    with pytest.raises(WorkDirError, match=f'work_dir {a_file} is an existing file'):
        build_runner(minimal_config(a_file))
    assert a_file.read_text() == 'mine'


def test_load_from_goes_through_the_policy_loader(tmp_path, write_crafted_checkpoint, monkeypatch):
    monkeypatch.delenv(TRUST_ENV_VAR, raising=False)
    crafted = str(tmp_path / 'crafted.pth')
    marker = write_crafted_checkpoint(crafted, state_dict={'weight': torch.ones(3)})
    runner = build_runner(minimal_config(tmp_path / 'work'))
    with pytest.raises(
        UntrustedCheckpointError, match=f"Refusing to unpickle checkpoint '{crafted}'"
    ):
        runner.load_checkpoint(crafted)
    assert not osp.exists(marker)
    trusting = build_runner(minimal_config(tmp_path / 'trusting', trusted_checkpoints=crafted))
    trusting.load_checkpoint(crafted)
    assert torch.equal(trusting.model.weight.detach(), torch.ones(3))
    assert osp.isdir(marker), 'the file the config trusts was unpickled in full'


def test_load_checkpoint_strips_wrapper_prefixes_and_calls_the_hooks(tmp_path):
    path = str(tmp_path / 'wrapped.pth')
    torch.save({'state_dict': {'module.weight': torch.full((3,), 2.0)}, 'meta': {}}, path)
    seen = []

    from mmengine.hooks import Hook

    class Seen(Hook):
        def after_load_checkpoint(self, runner, checkpoint):
            seen.append(sorted(checkpoint['state_dict']))

    runner = build_runner(minimal_config(tmp_path / 'work'))
    runner.register_hook(Seen())
    checkpoint = runner.load_checkpoint(path)
    assert torch.equal(runner.model.weight.detach(), torch.full((3,), 2.0))
    assert seen == [['module.weight']] and 'meta' in checkpoint


# mmengine 0.10.7's Runner.load_or_resume, which skips loading when ``_has_loaded`` is set, the
# flag CheckpointPolicyRunner.load_checkpoint sets as mmengine's own load_checkpoint does.
LOAD_OR_RESUME_SHA256 = '9c653d074f9216315d8fe9fb6db0e24e7bbcd386b4f5dfb9d8932be55bb6e68b'


def test_the_runner_flag_it_sets_is_the_one_mmengine_0_10_7_reads():
    source = inspect.getsource(Runner.load_or_resume)
    assert 'if self._has_loaded:' in source
    assert hashlib.sha256(source.encode()).hexdigest() == LOAD_OR_RESUME_SHA256, source
    assert 'self._has_loaded = True' in inspect.getsource(Runner.load_checkpoint)


@MODELS.register_module(force=True)
class RunnerTestPretrainedToy(BaseModel):
    """A one-layer model that starts from pretrained weights (``init_cfg``); never run."""

    def __init__(self, init_cfg=None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.linear = torch.nn.Linear(4, 1)

    def forward(self, inputs, data_samples=None, mode='tensor'):
        return inputs


def test_pretrained_weights_that_cannot_be_downloaded_are_named(train_toy, tmp_path, monkeypatch):
    monkeypatch.setenv('TORCH_HOME', str(tmp_path / 'torch_home'))
    url = 'http://127.0.0.1:9/toy.pth'
    with pytest.raises(CheckpointDownloadError) as error:
        train_toy(
            tmp_path / 'run',
            2,
            model=dict(
                type='RunnerTestPretrainedToy',
                init_cfg=dict(type='Pretrained', checkpoint=url),
            ),
        )
    message = str(error.value)
    assert 'the connection was refused' in message
    assert f"model.init_cfg.checkpoint = '{url}'" in message
    assert '--cfg-options model.init_cfg.checkpoint=PATH.pth' in message
    assert str(tmp_path / 'torch_home' / 'hub' / 'checkpoints') in message


def test_the_config_dump_never_replaces_the_config_file_itself(tmp_path):
    """With --work-dir the config's own folder, mmengine replaced the user's config (its _base_
    and comments) with the flattened dump."""
    own = tmp_path / 'own'
    own.mkdir()
    config_file = own / 'my_experiment.py'
    minimal_config(own, log_level='INFO').dump(str(config_file))
    text = config_file.read_text() + '# my notes\n'
    config_file.write_text(text)
    runner = build_runner(Config.fromfile(str(config_file)))
    assert config_file.read_text() == text
    log = open(runner.logger.log_file).read()
    assert f'Not writing the resolved config over {config_file}' in log
    # elsewhere the resolved config is written as mmengine does
    elsewhere = minimal_config(tmp_path / 'work')
    elsewhere.dump(str(tmp_path / 'other.py'))
    build_runner(Config.fromfile(str(tmp_path / 'other.py')))
    assert (tmp_path / 'work' / 'other.py').is_file()
