"""``import maskfreevis`` registers the package's classes and changes nothing else in the process:
mmengine's checkpoint loaders, torch's safe globals and the signal handlers stay as they were."""

import json
import subprocess
import sys

# Runs in a fresh interpreter: what the process looks like before and after the import.
PROBE = """
import json, signal
import torch
import mmdet.datasets, mmdet.engine, mmdet.evaluation, mmdet.models  # mmdet's own registrations
from mmengine.fileio.backends import backends
from mmengine.runner.checkpoint import CheckpointLoader

def state():
    return dict(
        loaders={prefix: f'{loader.__module__}.{loader.__name__}'
                 for prefix, loader in CheckpointLoader._schemes.items()},
        safe_globals=sorted(map(str, torch.serialization.get_safe_globals())),
        handlers={signal.Signals(signum).name: repr(signal.getsignal(signum))
                  for signum in (signal.SIGINT, signal.SIGTERM)},
        file_backends=sorted(backends),
    )

before = state()
import maskfreevis
print(json.dumps(dict(before=before, after=state())))
"""


def test_import_changes_nothing_but_registrations():
    result = subprocess.run(
        [sys.executable, '-c', PROBE], capture_output=True, text=True, timeout=300, check=True
    )
    states = json.loads(result.stdout.strip().splitlines()[-1])
    before, after = states['before'], states['after']
    for prefix in ('', 'http://', 'https://'):  # local paths and URLs: still mmengine's
        assert after['loaders'][prefix] == before['loaders'][prefix]
        assert after['loaders'][prefix].startswith('mmengine.')
    assert set(after['loaders']) - set(before['loaders']) == {'imagenet-bundled://'}
    assert after['safe_globals'] == before['safe_globals']
    assert after['handlers'] == before['handlers']
    assert set(after['file_backends']) - set(before['file_backends']) == {'atomic_local'}


def test_the_library_never_imports_the_demo_distribution():
    """The dependency runs one way: maskfreevis_demo imports maskfreevis, never the reverse (a
    wheel of the library alone must import and train)."""
    import ast
    import glob
    import os.path as osp

    package = osp.join(osp.dirname(osp.dirname(osp.abspath(__file__))), 'maskfreevis')
    offenders = []
    for path in glob.glob(osp.join(package, '**', '*.py'), recursive=True):
        with open(path) as handle:
            tree = ast.parse(handle.read(), path)
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or '']
            else:
                continue
            offenders += [
                f'{path}:{node.lineno}'
                for name in names
                if name.split('.')[0] == 'maskfreevis_demo'
            ]
    assert not offenders, offenders
