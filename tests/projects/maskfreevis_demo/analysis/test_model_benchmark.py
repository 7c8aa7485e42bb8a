"""Smoke test of the model benchmark (the numbers are the tool's job) and its summary maths."""

import math

import pytest

from maskfreevis_demo.analysis import model_benchmark as bench


def test_same_batch_with_and_without_masks():
    batch = bench.benchmark_batch(clips=2, frames=3, size=(32, 48), objects=2)
    assert [tuple(x.shape) for x in batch['inputs']] == [(3, 3, 32, 48)] * 2
    frame = batch['data_samples'][1][2].gt_instances
    assert frame.masks.masks.shape == (2, 32, 48) and frame.bboxes.shape == (2, 4)
    boxes = bench.benchmark_batch(clips=2, frames=3, size=(32, 48), objects=2, with_masks=False)[
        'data_samples'
    ][1][2].gt_instances
    assert 'masks' not in boxes
    assert boxes.bboxes.equal(frame.bboxes) and boxes.instances_ids.equal(frame.instances_ids)


@pytest.mark.parametrize('kind, loss_terms', [('maskfreevis', 60), ('mask2former', 30)])
def test_worker_measures_one_training_step(load_tool, kind, loss_terms):
    config = load_tool('analysis_tools/benchmark_model.py').CONFIGS[kind]
    report = bench.run_worker(
        kind, config, clips=2, frames=2, size=(32, 64), objects=1, repeats=1, warmup=0
    )
    assert report['finite'] and report['loss_terms'] == loss_terms
    assert len(report['times_s']) == len(report['cpu_times_s']) == len(report['peaks_mib']) == 1
    assert report['times_s'][0] > 0 and report['saved_mib'] > 0


def test_summary_ratios_and_verdict():
    def report(step, peak):
        return dict(
            times_s=[step, 3 * step],
            cpu_times_s=[step, step],
            peaks_mib=[peak, peak],
            saved_mib=peak / 2,
            loss_terms=4,
            finite=True,
        )

    reports = dict(
        maskfreevis=[report(1.0, 100.0), report(1.0, 140.0)],
        mask2former=[report(1.0, 100.0), report(1.0, 100.0)],
    )
    summary, ratios = bench.summarise_rounds(reports)
    assert summary['maskfreevis']['median_step_s'] == pytest.approx(2.0)
    assert summary['maskfreevis']['max_peak_mib'] == 140.0 and summary['maskfreevis']['steps'] == 4
    assert ratios['median_peak_mib'] == pytest.approx(1.2) and ratios['max_peak_mib'] == 1.4
    text = bench.format_report(summary, ratios, 'toy', 'peak RSS growth')
    assert 'max 1.40x) -> MISSED' in text and 'MaskFreeVIS, boxes' in text


def test_a_stock_value_of_zero_is_not_measured():
    # peak RSS growth is 0 in a process whose high-water mark an earlier test already set
    def report(peak):
        return dict(
            times_s=[1.0],
            cpu_times_s=[1.0],
            peaks_mib=[peak],
            saved_mib=1.0,
            loss_terms=4,
            finite=True,
        )

    summary, ratios = bench.summarise_rounds(
        dict(maskfreevis=[report(0.0)], mask2former=[report(0.0)])
    )
    assert math.isnan(ratios['median_peak_mib']) and ratios['median_step_s'] == 1.0
    text = bench.format_report(summary, ratios, 'toy', 'peak RSS growth')
    assert text.endswith('-> not measured (a stock value of 0)')
