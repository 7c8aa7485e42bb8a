"""``export_local_rank``: the legacy launchers' ``--local_rank`` flag reaches mmengine."""

import os

from maskfreevis.utils import export_local_rank


def test_flag_exported_unless_the_launcher_set_the_variable(monkeypatch):
    monkeypatch.delenv('LOCAL_RANK', raising=False)
    export_local_rank(3)
    assert os.environ['LOCAL_RANK'] == '3'
    export_local_rank(0)  # torchrun's (here: the first call's) value wins
    assert os.environ['LOCAL_RANK'] == '3'
