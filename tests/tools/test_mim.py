"""After a non-editable ``pip install .``, ``mim train`` and ``mim test`` find our configs and
tools."""

import glob
import os
import os.path as osp
import shutil

import pytest

from .conftest import DEMO_CONFIG, PYTHON, REPO_ROOT, run_tool, tiny_run_options

# What a source distribution contains; the rest of the checkout (venv, work dirs) is not copied.
SOURCE_ITEMS = (
    'maskfreevis',
    'configs',
    'tools',
    'requirements',
    'requirements.txt',
    'model-index.yml',
    'setup.py',
    'MANIFEST.in',
    'README.md',
)


def install_copy(target: str, scratch: str) -> None:
    """``pip install --target`` a copy of the checkout, so the build cannot touch the checkout."""
    source = osp.join(scratch, 'source')
    os.makedirs(source)
    for item in SOURCE_ITEMS:
        path = osp.join(REPO_ROOT, item)
        if osp.isdir(path):
            shutil.copytree(
                path, osp.join(source, item), ignore=shutil.ignore_patterns('__pycache__', '.mim')
            )
        else:
            shutil.copy(path, source)
    run_tool(
        [
            PYTHON,
            '-m',
            'pip',
            'install',
            '--no-deps',
            '--no-build-isolation',
            '--quiet',
            '--target',
            target,
            source,
        ]
    )


@pytest.mark.slow
def test_mim_train_and_test_after_pip_install(tiny_dataset, tmp_path):
    mim = osp.join(osp.dirname(PYTHON), 'mim')
    if not osp.exists(mim):
        pytest.fail('openmim is not installed in the test environment (see Makefile)')
    target = str(tmp_path / 'site')
    install_copy(target, str(tmp_path))
    installed_configs = osp.join(target, 'maskfreevis', '.mim', 'configs')
    assert osp.isfile(osp.join(installed_configs, 'maskfreevis', osp.basename(DEMO_CONFIG)))
    assert osp.isfile(osp.join(target, 'maskfreevis', '.mim', 'tools', 'train.py'))

    # Run from an unrelated directory: mim must find config and script inside the installed package.
    env = {'PYTHONPATH': target}
    work_dir = str(tmp_path / 'work')
    options = tiny_run_options(tiny_dataset, 2)
    run_tool(
        [
            mim,
            'train',
            'maskfreevis',
            osp.basename(DEMO_CONFIG),
            '--work-dir',
            work_dir,
            '--cfg-options',
            *options,
        ],
        cwd=str(tmp_path),
        env_overrides=env,
    )
    checkpoint = osp.join(work_dir, 'iter_2.pth')
    assert osp.isfile(checkpoint)

    result = run_tool(
        [
            mim,
            'test',
            'maskfreevis',
            osp.basename(DEMO_CONFIG),
            '--checkpoint',
            checkpoint,
            '--work-dir',
            work_dir,
            '--cfg-options',
            *options,
        ],
        cwd=str(tmp_path),
        env_overrides=env,
    )
    assert 'youtube_vis/segm_mAP' in result.stdout + result.stderr
    assert glob.glob(osp.join(work_dir, '*', '*.log'))
