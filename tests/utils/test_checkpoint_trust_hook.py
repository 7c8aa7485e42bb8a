"""``CheckpointTrustHook`` trusts the run's work_dir and ``trusted_checkpoints`` only while it runs."""
from types import SimpleNamespace

from mmengine.config import Config

from maskfreevis.utils import CheckpointTrustHook, is_trusted_checkpoint


def test_trust_lasts_from_before_run_to_after_run(tmp_path, monkeypatch):
    monkeypatch.delenv('MASKFREEVIS_TRUST_CHECKPOINTS', raising=False)
    work_dir = tmp_path / 'work'
    listed = tmp_path / 'elsewhere' / 'listed.pth'
    unlisted = tmp_path / 'elsewhere' / 'unlisted.pth'
    runner = SimpleNamespace(
        work_dir=str(work_dir),
        cfg=Config(dict(trusted_checkpoints=[str(listed), 'https://example.org/model.pth'])))
    hook = CheckpointTrustHook()

    hook.before_run(runner)
    assert is_trusted_checkpoint(str(work_dir / 'iter_2.pth'))
    assert is_trusted_checkpoint(str(listed))
    assert is_trusted_checkpoint('https://example.org/model.pth')
    assert not is_trusted_checkpoint(str(unlisted))
    assert not is_trusted_checkpoint('https://example.org/other.pth')

    hook.after_run(runner)
    assert not is_trusted_checkpoint(str(work_dir / 'iter_2.pth'))
    assert not is_trusted_checkpoint(str(listed))
