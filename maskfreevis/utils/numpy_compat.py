"""numpy 2 compatibility for code in mmdet 3.3.0 that still uses removed numpy aliases.

Upstream bug: ``mmdet/evaluation/functional/ytviseval.py`` (``YTVISeval.accumulate``, lines 444-445)
uses ``np.float``, which numpy 1.24 removed, so YouTube-VIS evaluation crashes under numpy 2 with
``AttributeError: module 'numpy' has no attribute 'float'``.
"""

import contextlib
from typing import Iterator

import numpy as np


@contextlib.contextmanager
def numpy_float_alias() -> Iterator[None]:
    """Provide ``np.float`` (= ``float``, what it always meant) only inside the ``with`` block."""
    already_defined = 'float' in np.__dict__
    if not already_defined:
        np.float = float  # type: ignore[attr-defined]
    try:
        yield
    finally:
        if not already_defined:
            del np.float  # type: ignore[attr-defined]
