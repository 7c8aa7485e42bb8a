"""The supervision comparison's table maths on hand-made results, and run reuse."""

import sys

import pytest

from maskfreevis.analysis import supervision_comparison as cmp


def result(ap: float, ap50: float, ap75: float) -> dict:
    return dict(mask_ap=dict(AP=ap, AP50=ap50, AP75=ap75))


def test_summary_means_spread_ratio_and_targets():
    runs = {
        'maskfreevis': {0: result(0.40, 0.70, 0.40), 1: result(0.44, 0.74, 0.42)},
        'no_tk': {0: result(0.30, 0.60, 0.30), 1: result(0.32, 0.62, 0.30)},
        'proj_only': {0: result(0.20, 0.50, 0.20), 1: result(0.21, 0.52, 0.20)},
        'mask_sup': {0: result(0.50, 0.80, 0.50), 1: result(0.46, 0.78, 0.48)},
    }
    summary = cmp.summarise(runs, [0, 1])
    method = summary['table']['maskfreevis']
    assert method['mean_AP'] == pytest.approx(0.42)
    assert method['spread_AP'] == pytest.approx(0.04)
    assert summary['ratio_1_to_4']['AP'] == pytest.approx(0.42 / 0.48)
    assert summary['target_ratio_met']  # 0.875 >= 0.85
    margins = {(m['better'], m['worse']): m for m in summary['ordering']}
    full_vs_proj = margins[('maskfreevis', 'proj_only')]
    assert full_vs_proj['gap'] == pytest.approx(0.42 - 0.205) and full_vs_proj['target']
    assert full_vs_proj['seed_spread'] == pytest.approx(0.04)
    assert margins[('no_tk', 'proj_only')]['gap'] == pytest.approx(0.31 - 0.205)
    full_vs_no_tk = margins[('maskfreevis', 'no_tk')]
    assert full_vs_no_tk['gap'] == pytest.approx(0.42 - 0.31) and not full_vs_no_tk['target']
    assert summary['target_ordering_met']
    markdown = cmp.to_markdown(summary, [0, 1], 'AP table')
    assert markdown.startswith('### AP table')
    assert '0.400 / 0.700 / 0.400' in markdown and '**met**' in markdown
    assert (
        '(1) - (3): +0.215' in markdown
        and '(1) - (2): +0.110 vs seed spread 0.040 (reported)' in markdown
    )


def test_the_temporal_term_is_reported_not_required():
    runs = {
        'maskfreevis': {0: result(0.40, 0.7, 0.4), 1: result(0.42, 0.7, 0.4)},
        'no_tk': {0: result(0.44, 0.7, 0.4), 1: result(0.45, 0.7, 0.4)},  # (2) ahead of (1)
        'proj_only': {0: result(0.20, 0.5, 0.2), 1: result(0.22, 0.5, 0.2)},
    }
    summary = cmp.summarise(runs, [0, 1])
    assert summary['target_ordering_met']
    margins = {(m['better'], m['worse']): m for m in summary['ordering']}
    assert not margins[('maskfreevis', 'no_tk')]['met']


def test_other_result_blocks_are_summarised():
    runs = {
        v: {0: dict(best_prediction_iou=dict(mean=m, above_0_5=f))}
        for v, m, f in (('maskfreevis', 0.6, 0.7), ('mask_sup', 0.8, 0.9))
    }
    summary = cmp.summarise(runs, [0], 'best_prediction_iou', ('mean', 'above_0_5'))
    assert summary['table']['mask_sup']['mean_above_0_5'] == pytest.approx(0.9)
    assert summary['ratio_1_to_4']['mean'] == pytest.approx(0.75)
    assert not summary['target_ratio_met'] and 'ordering' not in summary


def test_results_without_a_newer_metric_still_summarise():
    runs = {
        'maskfreevis': {0: dict(best_prediction_iou=dict(mean=0.6, above_0_5=0.7))},  # older run
        'mask_sup': {
            0: dict(best_prediction_iou=dict(mean=0.8, above_0_5=0.9, class_accuracy=0.5))
        },
    }
    metrics = ('mean', 'above_0_5', 'class_accuracy')
    summary = cmp.summarise(runs, [0], 'best_prediction_iou', metrics)
    assert summary['table']['maskfreevis']['mean_class_accuracy'] is None
    assert summary['table']['mask_sup']['mean_class_accuracy'] == pytest.approx(0.5)
    assert summary['ratio_1_to_4']['mean'] == pytest.approx(0.75)
    assert summary['ratio_1_to_4']['class_accuracy'] is None
    markdown = cmp.to_markdown(summary, [0], 'IoU table')
    assert '0.600 / 0.700 / –' in markdown and 'its class right –' in markdown


def test_missed_targets_and_failed_runs_are_reported():
    runs = {
        'maskfreevis': {0: result(0.30, 0.5, 0.2), 1: result(0.10, 0.3, 0.1)},
        'no_tk': {0: result(0.25, 0.5, 0.2), 1: result(0.15, 0.3, 0.1)},
        'proj_only': {0: dict(error='exit code 1'), 1: result(0.1, 0.2, 0.1)},
        'mask_sup': {0: result(0.50, 0.8, 0.5), 1: result(0.50, 0.8, 0.5)},
    }
    summary = cmp.summarise(runs, [0, 1])
    assert summary['ratio_1_to_4']['AP'] == pytest.approx(0.4)
    assert not summary['target_ratio_met']
    assert 'ordering' not in summary  # (3) incomplete: no ordering verdict
    markdown = cmp.to_markdown(summary, [0, 1], 'AP table')
    assert 'failed' in markdown and '**missed**' in markdown


def test_finished_runs_of_the_same_command_are_reused(tmp_path):
    out_dir, counter = tmp_path / 'run', tmp_path / 'count.txt'

    def fake_run(ap):  # a "training run" that counts itself and writes results.json
        code = (
            'import json, sys; open(sys.argv[2], "a").write("x"); '
            'json.dump(dict(mask_ap=dict(AP=float(sys.argv[3]))), '
            'open(sys.argv[1] + "/results.json", "w"))'
        )
        return [sys.executable, '-c', code, str(out_dir), str(counter), str(ap)]

    first = cmp.run_one(fake_run(0.5), str(out_dir), threads=1)
    assert first['mask_ap']['AP'] == 0.5 and 'reused' not in first
    again = cmp.run_one(fake_run(0.5), str(out_dir), threads=1)
    assert again['reused'] and again['mask_ap']['AP'] == 0.5
    assert counter.read_text() == 'x'  # not trained twice
    changed = cmp.run_one(fake_run(0.25), str(out_dir), threads=1)
    assert changed['mask_ap']['AP'] == 0.25 and counter.read_text() == 'xx'
    forced = cmp.run_one(fake_run(0.25), str(out_dir), threads=1, rerun=True)
    assert 'reused' not in forced and counter.read_text() == 'xxx'
    failed = cmp.run_one([sys.executable, '-c', 'raise SystemExit(3)'], str(out_dir), 1)
    assert 'exit code 3' in failed['error']
    assert not (out_dir / 'results.json').exists()  # a failed run leaves no stale results
