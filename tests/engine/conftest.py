"""A toy iteration-based training run (a linear model on fixed data) with the package's runtime,
and hooks that stand for a signal or a failed save at a chosen iteration."""

import copy
import itertools
import os
import signal
from typing import Callable, Optional, Sequence

import pytest
import torch
from mmdet.registry import DATASETS, METRICS, MODELS
from mmengine.config import Config
from mmengine.evaluator import BaseMetric
from mmengine.hooks import Hook
from mmengine.model import BaseModel
from torch.utils.data import Dataset

from maskfreevis.engine import build_runner


@MODELS.register_module(force=True)
class HookTestToyModel(BaseModel):
    """``y = w x + b`` fitted by squared error; ``nan_after`` makes the loss NaN from that call,
    ``scale_after`` multiplies it by ``scale`` from that call (simulated divergence);
    ``extra_layer`` adds an unused layer (a model a checkpoint only partly fits);
    ``skipped_nan_calls`` report a NaN loss whose gradient is zero (an AMP step skipped)."""

    def __init__(
        self,
        width: int = 4,
        nan_after: Optional[int] = None,
        scale_after: Optional[int] = None,
        scale: float = 1.0,
        extra_layer: bool = False,
        skipped_nan_calls: Sequence[int] = (),
    ) -> None:
        super().__init__()
        self.linear = torch.nn.Linear(width, 1)
        self.extra = torch.nn.Linear(1, 1) if extra_layer else None
        self.nan_after, self.scale_after, self.scale = nan_after, scale_after, scale
        self.skipped_nan_calls = set(skipped_nan_calls)
        self.calls = 0

    def forward(self, inputs, data_samples=None, mode='tensor'):
        prediction = self.linear(inputs)
        if mode != 'loss':
            return prediction
        self.calls += 1
        loss = ((prediction.squeeze(1) - data_samples) ** 2).mean() + 1.0
        if self.scale_after is not None and self.calls >= self.scale_after:
            loss = loss * self.scale
        if self.nan_after is not None and self.calls >= self.nan_after:
            loss = loss * float('nan')
        if self.calls in self.skipped_nan_calls:
            loss = loss * 0.0 + float('nan')  # d/dw = 0: the weights do not move
        return dict(loss=loss)


@DATASETS.register_module(force=True)
class HookTestToyData(Dataset):
    """16 fixed samples ``(x, y)``."""

    def __init__(self, width: int = 4) -> None:
        generator = torch.Generator().manual_seed(0)
        self.inputs = torch.randn(16, width, generator=generator)
        self.targets = self.inputs.sum(1)

    def __len__(self) -> int:
        return len(self.inputs)

    def __getitem__(self, index: int) -> dict:
        return dict(inputs=self.inputs[index], data_samples=self.targets[index])


@METRICS.register_module(force=True)
class HookTestToyMetric(BaseMetric):
    """``acc``: the number of validation batches seen, so each validation is better."""

    def __init__(self) -> None:
        super().__init__()
        self.batches = 0

    def process(self, data_batch, data_samples) -> None:
        self.batches += 1
        self.results.append(self.batches)

    def compute_metrics(self, results: list) -> dict:
        return dict(acc=float(self.batches))


def validation_every(interval: int) -> dict:
    """Config overrides that validate the toy model every ``interval`` iterations."""
    return dict(
        val_dataloader=dict(
            dataset=dict(type='HookTestToyData'),
            batch_size=4,
            num_workers=0,
            sampler=dict(type='DefaultSampler', shuffle=False),
            collate_fn=dict(type='default_collate'),
        ),
        val_cfg=dict(type='ValLoop'),
        val_evaluator=dict(type='HookTestToyMetric'),
        val_interval=interval,
    )


class SendSignal(Hook):
    """Sends ``signum`` to this process ``times`` times during training iteration ``at`` (before
    the step ends), or in validation batch ``at`` when ``in_validation``."""

    priority = 'VERY_HIGH'

    def __init__(
        self, at: int, signum: int = signal.SIGINT, times: int = 1, in_validation: bool = False
    ) -> None:
        self.at, self.signum, self.times, self.in_validation = at, signum, times, in_validation

    def _send(self) -> None:
        for _ in range(self.times):
            os.kill(os.getpid(), self.signum)

    def before_train_iter(self, runner, batch_idx: int, data_batch=None) -> None:
        if not self.in_validation and runner.iter + 1 == self.at:
            self._send()

    def before_val_iter(self, runner, batch_idx: int, data_batch=None) -> None:
        if self.in_validation and batch_idx + 1 == self.at:
            self._send()


class FailSave(Hook):
    """Stands for Ctrl-C (or ``error``) while the checkpoint of iteration ``at`` is written."""

    def __init__(self, at: int, error: BaseException = KeyboardInterrupt('during the save')):
        self.at, self.error = at, error

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        if checkpoint['meta']['iter'] == self.at:
            raise self.error


@pytest.fixture(name='send_signal')
def send_signal_fixture() -> type:
    """:class:`SendSignal`."""
    return SendSignal


@pytest.fixture(name='validation_every')
def validation_every_fixture() -> Callable[[int], dict]:
    """:func:`validation_every`."""
    return validation_every


@pytest.fixture(name='fail_save')
def fail_save_fixture() -> type:
    """:class:`FailSave`."""
    return FailSave


_run_numbers = itertools.count()


def toy_config(work_dir: str, max_iters: int, **overrides) -> Config:
    """A full config for :func:`build_runner` with the runtime of ``configs/_base_/
    default_runtime.py`` (Runner, training loop, hooks): SGD, a checkpoint every 2 iterations."""
    cfg = dict(
        # mmengine names the logger, visualizer and message hub after the experiment; runs in
        # the same second would share them.
        experiment_name=f'hook_test_{next(_run_numbers)}',
        model=dict(type='HookTestToyModel'),
        work_dir=work_dir,
        default_scope='mmdet',
        launcher='none',
        runner_type='CheckpointPolicyRunner',
        train_cfg=dict(type='InterruptibleIterBasedTrainLoop', max_iters=max_iters),
        train_dataloader=dict(
            dataset=dict(type='HookTestToyData'),
            batch_size=4,
            num_workers=0,
            sampler=dict(type='InfiniteSampler', shuffle=False),
            collate_fn=dict(type='default_collate'),
        ),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.01)),
        default_hooks=dict(
            checkpoint=dict(type='SafeCheckpointHook', by_epoch=False, interval=2),
            logger=dict(type='LoggerHook', interval=1),
        ),
        custom_hooks=[
            dict(type='WorkDirGuardHook'),
            dict(type='CheckpointMatchHook'),
            dict(type='DivergenceHook'),
        ],
        randomness=dict(seed=0),
        log_level='WARNING',
    )
    overrides = copy.deepcopy(overrides)
    if 'val_interval' in overrides:
        cfg['train_cfg']['val_interval'] = overrides.pop('val_interval')
    cfg.update(overrides)
    return Config(cfg)


@pytest.fixture(autouse=True)
def python_default_signal_handlers():
    """Python's own SIGINT handler (KeyboardInterrupt) and SIGTERM's default action during each
    test, whatever the test session was started with (a background job ignores SIGINT); the
    session's handlers are put back afterwards."""
    handlers = {signum: signal.getsignal(signum) for signum in (signal.SIGINT, signal.SIGTERM)}
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    yield
    for signum, handler in handlers.items():
        signal.signal(signum, handler)


@pytest.fixture(name='toy_config')
def toy_config_fixture() -> Callable:
    """:func:`toy_config`."""
    return toy_config


@pytest.fixture
def train_toy() -> Callable:
    """``train_toy(work_dir, max_iters, extra_hooks=(), **config_overrides)`` -> the runner,
    after training (exceptions propagate)."""

    def train(work_dir: str, max_iters: int, extra_hooks=(), **overrides):
        runner = build_runner(toy_config(str(work_dir), max_iters, **overrides))
        for hook in extra_hooks:
            runner.register_hook(hook)
        runner.train()
        return runner

    return train
