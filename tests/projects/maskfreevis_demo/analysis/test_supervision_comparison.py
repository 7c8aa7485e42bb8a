"""The supervision comparison's table maths on hand-made results, and run reuse."""

import json
import sys

import pytest

from maskfreevis_demo.analysis import supervision_comparison as cmp


def result(ap: float, ap50: float, ap75: float) -> dict:
    return dict(mask_ap=dict(AP=ap, AP50=ap50, AP75=ap75))


def test_summary_means_spread_ratio_and_paired_contrasts():
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
    assert summary['target_ratio_met']  # 0.875 >= 0.70
    full_vs_proj = summary['contrasts']['maskfreevis - proj_only']
    # per seed 0.20 and 0.23: mean 0.215, sd 0.0212, t(0.975, 1) = 12.706
    assert full_vs_proj['per_seed'] == pytest.approx([0.20, 0.23])
    assert full_vs_proj['mean'] == pytest.approx(0.215)
    half = 12.7062047 * 0.03 / 2**0.5 / 2**0.5
    assert full_vs_proj['ci'] == pytest.approx([0.215 - half, 0.215 + half], abs=1e-6)
    assert full_vs_proj['role'] == 'target'
    assert summary['contrasts']['maskfreevis - no_tk']['role'] == 'reported'
    assert summary['contrasts']['no_tk - proj_only']['mean'] == pytest.approx(0.105)
    # two seeds: a wide t interval, still above 0
    assert summary['target_contrast_met'] and summary['no_collapse']
    assert 'bootstrap' not in summary and 'video_ci' not in full_vs_proj
    markdown = cmp.to_markdown(summary, [0, 1], 'AP table')
    assert markdown.startswith('### AP table')
    assert '0.400 / 0.700 / 0.400' in markdown and 'target AP >= 0.7: **met**' in markdown
    assert '| (1) - (3) | +0.200 / +0.230 | +0.215 |' in markdown
    assert 'above 0 by both intervals: **met**' in markdown


def test_paired_difference_by_hand():
    five = cmp.paired_difference([0.30, 0.32, 0.31, 0.35, 0.30], [0.28, 0.29, 0.30, 0.30, 0.29])
    assert five['per_seed'] == pytest.approx([0.02, 0.03, 0.01, 0.05, 0.01])
    assert five['mean'] == pytest.approx(0.024)
    sd = (sum((d - 0.024) ** 2 for d in [0.02, 0.03, 0.01, 0.05, 0.01]) / 4) ** 0.5
    assert five['sd'] == pytest.approx(sd)
    half = 2.7764451 * sd / 5**0.5  # t(0.975, 4)
    assert five['ci'] == pytest.approx([0.024 - half, 0.024 + half], abs=1e-6)
    one = cmp.paired_difference([0.3], [0.2])
    assert one['mean'] == pytest.approx(0.1) and one['ci'] is None


def test_video_bootstrap_interval_joins_the_contrasts():
    """Records where (1) finds every object and (3) none: the difference over videos is 1."""
    found = dict(scores=[0.9], true_positive=[[1]], ignored=[[0]], num_gt=1)
    missed = dict(scores=[0.9], true_positive=[[0]], ignored=[[0]], num_gt=1)

    def records(entry):
        return dict(
            video_ids=list(range(6)),
            iou_thresholds=[0.5],
            categories={'1': [dict(entry, video=v) for v in range(6)]},
        )

    runs = {
        'maskfreevis': {0: result(1.0, 1.0, 1.0), 1: result(1.0, 1.0, 1.0)},
        'proj_only': {0: result(0.0, 0.0, 0.0), 1: result(0.0, 0.0, 0.0)},
    }
    by_variant = {
        'maskfreevis': {0: records(found), 1: records(found)},
        'proj_only': {0: records(missed), 1: records(missed)},
    }
    summary = cmp.summarise(runs, [0, 1], records=by_variant)
    assert summary['bootstrap']['num_videos'] == 6
    assert summary['bootstrap']['variants']['maskfreevis'] == pytest.approx([1.0, 1.0])
    assert summary['contrasts']['maskfreevis - proj_only']['video_ci'] == pytest.approx([1.0, 1.0])
    assert summary['target_contrast_met']  # t interval of (1, 1) is [1, 1] too
    assert 'interval over videos' in cmp.to_markdown(summary, [0, 1], 'AP')


def test_the_temporal_term_is_reported_not_required():
    runs = {
        'maskfreevis': {
            0: result(0.40, 0.7, 0.4),
            1: result(0.42, 0.7, 0.4),
            2: result(0.41, 0.7, 0.4),
        },
        'no_tk': {0: result(0.44, 0.7, 0.4), 1: result(0.45, 0.7, 0.4), 2: result(0.46, 0.7, 0.4)},
        'proj_only': {
            0: result(0.20, 0.5, 0.2),
            1: result(0.22, 0.5, 0.2),
            2: result(0.21, 0.5, 0.2),
        },
    }
    summary = cmp.summarise(runs, [0, 1, 2])
    assert summary['target_contrast_met']  # (1) - (3) = 0.20 every seed
    assert summary['contrasts']['maskfreevis - no_tk']['ci'][1] < 0  # (2) ahead, only reported


def test_other_result_blocks_are_summarised():
    runs = {
        v: {0: dict(best_prediction_iou=dict(mean=m, above_0_5=f))}
        for v, m, f in (('maskfreevis', 0.6, 0.7), ('mask_sup', 0.8, 0.9))
    }
    summary = cmp.summarise(runs, [0], 'best_prediction_iou', ('mean', 'above_0_5'))
    assert summary['table']['mask_sup']['mean_above_0_5'] == pytest.approx(0.9)
    assert summary['ratio_1_to_4']['mean'] == pytest.approx(0.75)
    assert summary['target_ratio_met'] and summary['contrasts'] == {}  # 0.75 >= 0.70


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
    # (3) incomplete: no contrast with it, no verdict
    assert list(summary['contrasts']) == ['maskfreevis - no_tk']
    assert 'target_contrast_met' not in summary
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
    forced = cmp.run_one(fake_run(0.25), str(out_dir), threads=1, rerun=True)
    assert forced['mask_ap']['AP'] == 0.25 and 'reused' not in forced
    assert counter.read_text() == 'xx'
    failed = cmp.run_one([sys.executable, '-c', 'raise SystemExit(3)'], str(out_dir), 1, True)
    assert 'exit code 3' in failed['error']
    assert not (out_dir / 'results.json').exists()  # a failed run leaves no stale results


def test_a_finished_run_of_another_command_is_kept_and_named(tmp_path):
    """Continuing a comparison from another checkout (or with another setting) once deleted
    every finished run's results before training it again."""
    finished_dir, empty_dir = tmp_path / 'maskfreevis' / 'seed0', tmp_path / 'no_tk' / 'seed0'
    finished_dir.mkdir(parents=True)
    (finished_dir / 'results.json').write_text('{"mask_ap": {"AP": 0.5}}')
    (finished_dir / 'command.json').write_text(json.dumps(['python', 'old/run_demo.py']))
    marker = tmp_path / 'started'
    start = [sys.executable, '-c', f'open({str(marker)!r}, "w")']
    jobs = {('maskfreevis', 0): (start, str(finished_dir)), ('no_tk', 0): (start, str(empty_dir))}
    with pytest.raises(FileExistsError) as error:
        cmp.run_all(jobs, parallel=1, threads=1)
    assert str(finished_dir) in str(error.value) and 'old/run_demo.py' in str(error.value)
    assert '--rerun' in str(error.value)
    assert not marker.exists()  # refused before any job started
    assert (finished_dir / 'results.json').read_text() == '{"mask_ap": {"AP": 0.5}}'
    with pytest.raises(FileExistsError):
        cmp.run_one(start, str(finished_dir), threads=1)
    assert (finished_dir / 'command.json').exists()
