"""ProgressBarHook: counts iterations, keeps the last validation metrics and the timings."""

from types import SimpleNamespace

import torch
from mmdet.registry import HOOKS

from maskfreevis.engine import ProgressBarHook


def run_loop(hook, runner, iterations):
    hook.before_train(runner)
    for _ in range(iterations):
        hook.after_train_iter(runner, 0, outputs=dict(loss=torch.tensor(0.5)))
        runner.iter += 1


def test_training_bar_and_timing(capsys):
    hook = ProgressBarHook()
    runner = SimpleNamespace(iter=0, max_iters=3)
    run_loop(hook, runner, 3)
    assert hook._bar.n == 3
    assert hook.timings['train_s'] >= 0 and 'eval_s' not in hook.timings
    bar = capsys.readouterr().err
    assert 'training' in bar and '3/3' in bar and 'loss=0.500' in bar


def test_resumed_run_starts_at_its_iteration():
    hook = ProgressBarHook()
    runner = SimpleNamespace(iter=2, max_iters=4)
    run_loop(hook, runner, 2)
    assert hook._bar.n == 4 and 'train_s' in hook.timings


def test_disabled_bar_draws_nothing_and_still_times(capsys):
    hook = ProgressBarHook(enabled=False)
    run_loop(hook, SimpleNamespace(iter=0, max_iters=2), 2)
    assert 'train_s' in hook.timings and capsys.readouterr().err == ''


def test_validation_metrics_are_kept():
    hook = ProgressBarHook(enabled=False)
    runner = SimpleNamespace(val_dataloader=[None, None])
    hook.before_val_epoch(runner)
    hook.after_val_iter(runner, 0)
    hook.after_val_iter(runner, 1)
    hook.after_val_epoch(runner, metrics={'youtube_vis/segm_mAP': 0.25})
    assert hook.metrics == {'youtube_vis/segm_mAP': 0.25} and hook.timings['eval_s'] >= 0
    hook.before_val_epoch(runner)
    hook.after_val_epoch(runner, metrics=None)
    assert hook.metrics == {}


def test_registered_for_configs():
    assert HOOKS.get('ProgressBarHook') is ProgressBarHook
