"""``CheckpointTrustHook``: the config's ``trusted_checkpoints`` only, only while the run lasts."""

from types import SimpleNamespace

import pytest
from mmengine.config import Config

from maskfreevis.engine.hooks import CheckpointTrustHook
from maskfreevis.utils import is_trusted_checkpoint


@pytest.fixture(autouse=True)
def no_env_trust(monkeypatch):
    monkeypatch.delenv('MASKFREEVIS_TRUST_CHECKPOINTS', raising=False)


def test_listed_checkpoints_are_trusted_from_before_run_to_after_run(tmp_path):
    work_dir = tmp_path / 'work'
    listed = tmp_path / 'elsewhere' / 'listed.pth'
    unlisted = tmp_path / 'elsewhere' / 'unlisted.pth'
    runner = SimpleNamespace(
        work_dir=str(work_dir),
        cfg=Config(dict(trusted_checkpoints=[str(listed), 'https://example.org/model.pth'])),
    )
    hook = CheckpointTrustHook()

    hook.before_run(runner)
    assert is_trusted_checkpoint(str(listed))
    assert is_trusted_checkpoint('https://example.org/model.pth')
    assert not is_trusted_checkpoint(str(unlisted))
    assert not is_trusted_checkpoint('https://example.org/other.pth')
    # A file placed in the run's own work_dir is no safer than anywhere else.
    assert not is_trusted_checkpoint(str(work_dir / 'iter_2.pth'))

    hook.after_run(runner)
    assert not is_trusted_checkpoint(str(listed))


def test_a_single_path_string_is_one_trusted_file(tmp_path):
    """``--cfg-options trusted_checkpoints=x.pth`` gives a string, not a list of characters."""
    listed = str(tmp_path / 'x.pth')
    runner = SimpleNamespace(work_dir=str(tmp_path), cfg=Config(dict(trusted_checkpoints=listed)))
    hook = CheckpointTrustHook()
    hook.before_run(runner)
    try:
        assert is_trusted_checkpoint(listed)
        assert not is_trusted_checkpoint(str(tmp_path / 'other.pth'))
    finally:
        hook.after_run(runner)


def test_old_import_location_still_works():
    with pytest.deprecated_call():
        from maskfreevis.utils import CheckpointTrustHook as moved
    assert moved is CheckpointTrustHook
