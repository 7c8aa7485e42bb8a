"""Data files shipped inside installed packages, found without importing those packages.

The demo's material (weights, photographs, footage) comes with pip packages whose own imports are
heavy or pull other dependencies; locating their folder through the import system's finder does
not run their code.
"""

import importlib.util
from typing import Optional

__all__ = ['installed_package_dir']


def installed_package_dir(package: str) -> Optional[str]:
    """The folder of the installed top-level ``package`` (not imported), or None when absent."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return None
    return list(spec.submodule_search_locations)[0]
