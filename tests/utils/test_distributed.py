"""``--launcher pytorch`` outside torchrun: a clear error instead of ``KeyError: 'RANK'``."""

import pytest
from mmengine.config import Config

from maskfreevis.utils import setup_cpu_distributed
from maskfreevis.utils.distributed import TORCHRUN_VARIABLES


def test_missing_torchrun_variables_are_named(monkeypatch):
    for name in TORCHRUN_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv('LOCAL_RANK', '0')  # what tools/train.py exports from --local_rank
    with pytest.raises(
        RuntimeError,
        match='missing: RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT.*tools/dist_train.sh',
    ):
        setup_cpu_distributed(Config(dict(launcher='pytorch')))


def test_other_launchers_are_left_alone(monkeypatch):
    monkeypatch.delenv('RANK', raising=False)
    assert setup_cpu_distributed(Config(dict(launcher='none'))) is False
