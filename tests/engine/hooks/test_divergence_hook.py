"""``DivergenceHook``: a diverging run stops with the iteration and likely cause, unsaved."""

import os

import pytest
import torch

from maskfreevis.engine.hooks import DivergenceHook, TrainingDivergedError


def saved(work_dir) -> list:
    return sorted(name for name in os.listdir(work_dir) if name.endswith('.pth'))


def checkpoint_every_iteration() -> dict:
    return dict(checkpoint=dict(type='CheckpointHook', by_epoch=False, interval=1))


def test_healthy_run_is_left_alone(train_toy, tmp_path):
    runner = train_toy(tmp_path, 12)
    assert runner.iter == 12 and 'iter_12.pth' in saved(tmp_path)


def test_nan_loss_stops_before_its_checkpoint(train_toy, tmp_path):
    with pytest.raises(TrainingDivergedError, match=r'iteration 5: non-finite loss: loss=nan'):
        train_toy(
            tmp_path,
            10,
            model=dict(type='HookTestToyModel', nan_after=5),
            default_hooks=checkpoint_every_iteration(),
        )
    assert saved(tmp_path) == ['iter_1.pth', 'iter_2.pth', 'iter_3.pth', 'iter_4.pth']


def test_a_skipped_non_finite_step_is_not_divergence(train_toy, tmp_path):
    """With AMP an occasional inf / NaN loss is routine: the step is skipped."""
    runner = train_toy(tmp_path, 8, model=dict(type='HookTestToyModel', skipped_nan_calls=[3]))
    assert runner.iter == 8


def test_non_finite_losses_in_a_row_stop(train_toy, tmp_path):
    with pytest.raises(
        TrainingDivergedError,
        match=r'iteration 6: non-finite loss: loss=nan, for '
        r'3 iterations in a row',
    ):
        train_toy(tmp_path, 10, model=dict(type='HookTestToyModel', skipped_nan_calls=[4, 5, 6]))


def test_exploding_loss_stops_after_patience(train_toy, tmp_path):
    with pytest.raises(TrainingDivergedError) as error:
        train_toy(
            tmp_path,
            30,
            model=dict(type='HookTestToyModel', scale_after=10, scale=1e3),
            optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.0)),
            default_hooks=checkpoint_every_iteration(),
        )
    message = str(error.value)
    assert 'iteration 12: exploding loss' in message and '3 iterations in a row' in message
    assert 'optim_wrapper.optimizer.lr = 0.0' in message and 'iter_11.pth' in message
    assert 'iter_12.pth' not in saved(tmp_path)


def test_exploding_weights_stop_at_once(train_toy, tmp_path):
    with pytest.raises(TrainingDivergedError, match='iteration 1: exploding weights') as error:
        train_toy(tmp_path, 10, optim_wrapper=dict(optimizer=dict(type='SGD', lr=1e6)))
    assert 'learning rate too high' in str(error.value)
    assert 'No checkpoint of this run has been saved' in str(error.value)
    assert saved(tmp_path) == []


def test_thresholds_are_checked():
    with pytest.raises(ValueError, match='max_loss_ratio > 1'):
        DivergenceHook(max_loss_ratio=0.5)


def test_weights_are_checked_early_every_interval_and_before_each_save(train_toy, tmp_path):
    """window 5, interval 4, a checkpoint at iteration 10 only (and the last, 12)."""
    checked = []
    original = DivergenceHook._weight_problem

    def spy(hook, runner):
        checked.append(runner.iter + 1)
        return original(hook, runner)

    DivergenceHook._weight_problem = spy
    try:
        train_toy(
            tmp_path,
            12,
            custom_hooks=[dict(type='DivergenceHook', weight_check_interval=4)],
            default_hooks=dict(
                checkpoint=dict(type='SafeCheckpointHook', by_epoch=False, interval=10)
            ),
        )
    finally:
        DivergenceHook._weight_problem = original
    assert checked == [1, 2, 3, 4, 5, 8, 10, 12]


def test_between_weight_checks_an_iteration_costs_no_device_sync(train_toy, tmp_path):
    """The losses come from the values RuntimeInfoHook logged: checking them reads no tensor."""
    runner = train_toy(tmp_path, 8, custom_hooks=[dict(type='DivergenceHook')])
    hook = next(hook for hook in runner.hooks if isinstance(hook, DivergenceHook))
    outputs = dict(loss=torch.tensor(1.0), loss_cls=torch.tensor(0.5))
    runner.message_hub.update_scalar('train/loss', 1.0)
    runner.message_hub.update_scalar('train/loss_cls', 0.5)
    with torch.profiler.profile() as profile:
        hook.after_train_iter(runner, 8, outputs=outputs)  # iteration 9: no weight check due
    reads = [
        e.name for e in profile.events() if e.name in ('aten::item', 'aten::_local_scalar_dense')
    ]
    assert reads == []


def test_weights_that_explode_between_checks_are_never_saved(train_toy, tmp_path):
    """The step of iteration 3 blows the weights up; no check is due then, but the save is."""
    from mmengine.hooks import Hook

    class Explode(Hook):
        priority = 'HIGHEST'

        def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None):
            if runner.iter + 1 == 3:
                with torch.no_grad():
                    runner.model.linear.weight.mul_(1e6)

    with pytest.raises(TrainingDivergedError, match='iteration 3: exploding weights') as error:
        train_toy(
            tmp_path,
            10,
            extra_hooks=[Explode()],
            custom_hooks=[dict(type='DivergenceHook', window=1, weight_check_interval=100)],
            default_hooks=dict(
                checkpoint=dict(type='SafeCheckpointHook', by_epoch=False, interval=3)
            ),
        )
    assert 'No checkpoint of this run has been saved' in str(error.value)
    assert saved(tmp_path) == []
