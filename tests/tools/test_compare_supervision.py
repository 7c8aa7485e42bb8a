"""The supervision comparison's command line: one run command per variant, a tiny end-to-end run."""

import json
import os.path as osp
import subprocess
import sys

import pytest

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
SCRIPT = osp.join(REPO_ROOT, 'tools', 'analysis_tools', 'compare_supervision.py')


@pytest.fixture(scope='module')
def cmp(load_tool):
    return load_tool('analysis_tools/compare_supervision.py')


def test_run_command_passes_overrides_to_every_variant(cmp):
    args = cmp.parse_args(
        [
            '--iters',
            '5',
            '--cfg-options',
            'model.track_head.criterion.loss_pair.dilation=1',
            'randomness.deterministic=True',
        ]
    )
    for variant in cmp.VARIANTS:
        command = cmp.run_command(args, variant, 1, '/tmp/out/' + variant + '/seed1')
        config = cmp.VARIANT_CONFIGS['real-imagery'][variant]
        assert command[command.index('--config') + 1].endswith(config)
        overrides = command[command.index('--cfg-options') + 1 :]
        assert overrides == [
            'default_hooks.checkpoint.save_optimizer=False',
            'model.track_head.criterion.loss_pair.dilation=1',
            'randomness.deterministic=True',
        ]
        assert command[command.index('--seed') + 1] == '1'
        assert command[command.index('--iters') + 1] == '5'


def test_variants_with_the_same_image_stage_share_it_per_seed(cmp):
    args = cmp.parse_args([])
    stage_dirs = {
        variant: cmp.run_command(args, variant, 2, f'/tmp/out/{variant}/seed2')
        for variant in cmp.VARIANTS
    }
    stage_dirs = {
        variant: command[command.index('--pretraining-dir') + 1]
        for variant, command in stage_dirs.items()
    }
    assert stage_dirs['maskfreevis'] == stage_dirs['no_tk']
    assert stage_dirs['maskfreevis'].endswith('seed2')
    assert len({stage_dirs[v] for v in ('maskfreevis', 'proj_only', 'mask_sup')}) == 3
    synthetic = cmp.parse_args(['--dataset', 'synthetic'])
    command = cmp.run_command(synthetic, 'maskfreevis', 0, '/tmp/out/maskfreevis/seed0')
    assert '--pretraining-dir' not in command
    assert command[command.index('--data-root') + 1] == 'data/synthetic_vis'


@pytest.mark.slow
def test_tiny_comparison_end_to_end(tmp_path):
    out_dir = tmp_path / 'cmp'
    command = [
        sys.executable,
        SCRIPT,
        '--out-dir',
        str(out_dir),
        '--data-root',
        str(tmp_path / 'data'),
        '--iters',
        '2',
        '--train-videos',
        '2',
        '--val-videos',
        '2',
        '--frames',
        '4',
        '--seeds',
        '0',
        '1',
        '--variants',
        'maskfreevis',
        'mask_sup',
    ]
    process = subprocess.run(
        command, capture_output=True, text=True, cwd=str(tmp_path), timeout=900
    )
    assert process.returncode == 0, process.stdout[-3000:] + process.stderr[-3000:]
    with open(out_dir / 'comparison.json') as handle:
        summary = json.load(handle)
    for variant in ('maskfreevis', 'mask_sup'):
        row = summary['summaries']['mask_ap']['table'][variant]
        assert row['complete'], (out_dir / variant / 'seed0' / 'run.log').read_text()[-2000:]
        assert 0.0 <= row['mean_AP'] <= 1.0
    markdown = (out_dir / 'comparison.md').read_text()
    assert markdown.startswith('### Mask AP per category') and 'Class-agnostic' in markdown
    assert osp.isfile(out_dir / 'mask_sup' / 'seed1' / 'results.json')

    # the same folders asked for another setting: refused before anything starts, results kept
    finished = (out_dir / 'mask_sup' / 'seed1' / 'results.json').read_text()
    command[command.index('--iters') + 1] = '3'
    process = subprocess.run(
        command, capture_output=True, text=True, cwd=str(tmp_path), timeout=300
    )
    assert process.returncode != 0 and 'Traceback' not in process.stderr
    assert 'holds a finished run of another command' in process.stderr
    assert '--rerun' in process.stderr and str(out_dir / 'maskfreevis' / 'seed0') in process.stderr
    assert (out_dir / 'mask_sup' / 'seed1' / 'results.json').read_text() == finished
