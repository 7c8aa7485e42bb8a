"""``--local_rank`` / ``--local-rank`` from legacy launchers, for mmengine.

Upstream bug: ``python -m torch.distributed.launch`` (deprecated, but what ``mim train --gpus``
of openmim 0.3.9 starts) passes the local rank as a command-line flag (``--local_rank`` before
torch 2.0, ``--local-rank`` since) instead of the ``LOCAL_RANK`` environment variable that
torchrun sets and that mmengine 0.10.7 (``mmengine/dist/utils.py``) reads.
"""

import os


def export_local_rank(local_rank: int) -> None:
    """Set ``LOCAL_RANK`` from the parsed flag unless the launcher already exported it.

    Args:
        local_rank: the value of the tool's ``--local_rank`` / ``--local-rank`` argument.
    """
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(local_rank)
