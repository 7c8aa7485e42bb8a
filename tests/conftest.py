"""Fixtures shared by every test folder."""
import importlib.util
import os.path as osp
from types import ModuleType
from typing import Callable

import pytest

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
