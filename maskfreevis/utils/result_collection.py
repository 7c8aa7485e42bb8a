"""Removal of the empty ``.dist_test`` folder mmdet's tracking metrics leave in the cwd.

Upstream bug: mmdet 3.3.0 ``mmdet/evaluation/metrics/base_video_metric.py``
``collect_tracking_results_cpu`` creates ``.dist_test`` in the current working directory for the
per-rank result files of a multi-process evaluation, removes only its per-run sub-folder, and
never the folder itself, so every multi-process evaluation leaves an empty ``.dist_test`` behind.
"""

import contextlib
import os
import os.path as osp
from typing import Iterator

from mmengine.dist import is_main_process

# Where mmdet's `collect_tracking_results` puts its per-rank result files (relative to the cwd).
RESULT_COLLECTION_DIR = '.dist_test'


@contextlib.contextmanager
def removing_result_collection_dir(path: str = RESULT_COLLECTION_DIR) -> Iterator[None]:
    """Remove ``path`` after the ``with`` block if the block created it and it is empty.

    Only the main process removes it, after the block (mmdet's evaluation synchronises the ranks
    before it returns; ranks share the folder, so one rank removing it under another broke
    2-process runs). A folder that existed before, or that still holds files, is kept.
    """
    created_here = not osp.exists(path)
    try:
        yield
    finally:
        if created_here and is_main_process():
            try:
                os.rmdir(path)  # fails on a non-empty folder: kept
            except OSError:
                pass  # absent (nothing collected) or holding files that are not ours
