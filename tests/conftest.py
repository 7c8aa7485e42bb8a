"""Fixtures shared by every test folder."""

import importlib.util
import os
import os.path as osp
from types import ModuleType
from typing import Callable, Optional

import pytest
import torch

REPO_ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))


def _load_tool(relative_path: str) -> ModuleType:
    """Import a script under ``tools/`` (a folder of scripts, not a package) by its path."""
    path = osp.join(REPO_ROOT, 'tools', relative_path)
    name = 'maskfreevis_tool_' + osp.splitext(relative_path)[0].replace('/', '_')
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope='session')
def load_tool() -> Callable[[str], ModuleType]:
    """``load_tool('analysis_tools/benchmark_losses.py')`` -> the imported script."""
    return _load_tool


class _MakesDirectoryWhenUnpickled:
    """Stands for a malicious payload: unpickling it calls ``os.makedirs(marker)``."""

    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self):
        return os.makedirs, (self.marker,)


def _write_crafted_checkpoint(path: str, state_dict: Optional[dict] = None) -> str:
    """Save a checkpoint-looking file at ``path`` whose unpickling would create a directory;
    returns that directory's path (the marker that must never appear)."""
    marker = path + '.code_was_executed'
    torch.save(
        {
            'state_dict': state_dict or {'w': torch.ones(2)},
            'meta': {'iter': 2},
            'payload': _MakesDirectoryWhenUnpickled(marker),
        },
        path,
    )
    return marker


@pytest.fixture(scope='session')
def write_crafted_checkpoint() -> Callable[..., str]:
    """``marker = write_crafted_checkpoint(path, state_dict=None)``: a crafted pickle."""
    return _write_crafted_checkpoint
