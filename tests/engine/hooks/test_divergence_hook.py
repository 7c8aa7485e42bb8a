"""``DivergenceHook``: a diverging run stops with the iteration and likely cause, unsaved."""

import os

import pytest

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
