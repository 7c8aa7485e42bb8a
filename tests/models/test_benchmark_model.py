"""Smoke test of tools/analysis_tools/benchmark_model.py (the numbers are the tool's job)."""
import argparse

import pytest


@pytest.fixture(scope='module')
def tool(load_tool):
    return load_tool('analysis_tools/benchmark_model.py')


def test_same_batch_with_and_without_masks(tool):
    batch = tool.synthetic_batch(clips=2, frames=3, size=(32, 48), objects=2)
    assert [tuple(x.shape) for x in batch['inputs']] == [(3, 3, 32, 48)] * 2
    frame = batch['data_samples'][1][2].gt_instances
    assert frame.masks.masks.shape == (2, 32, 48) and frame.bboxes.shape == (2, 4)
    boxes = tool.drop_masks(batch)['data_samples'][1][2].gt_instances
    assert 'masks' not in boxes
    assert boxes.bboxes.equal(frame.bboxes) and boxes.instances_ids.equal(frame.instances_ids)


@pytest.mark.parametrize('kind, loss_terms', [('maskfreevis', 60), ('mask2former', 30)])
def test_worker_measures_one_training_step(tool, kind, loss_terms):
    args = argparse.Namespace(worker=kind, clips=2, frames=2, size=(32, 64), objects=1,
                              repeats=1, warmup=0, device='cpu', threads=1)
    report = tool.run_worker(args)
    assert report['finite'] and report['loss_terms'] == loss_terms
    assert len(report['times_s']) == len(report['cpu_times_s']) == len(report['peaks_mib']) == 1
    assert report['times_s'][0] > 0 and report['saved_mib'] > 0
