"""The atomic file backend, atomic text writes and the choice of the checkpoint ``--resume``
continues from."""

import logging
import os
import os.path as osp

import pytest
from mmengine.config import Config

from maskfreevis.utils import checkpoint_files
from maskfreevis.utils.checkpoint_files import (
    ATOMIC_BACKEND,
    PARTIAL_SUFFIX,
    AtomicLocalBackend,
    find_resumable_checkpoint,
    newest_checkpoint_in,
    resolve_auto_resume,
    write_text_atomically,
)


def touch(path) -> str:
    with open(path, 'wb') as handle:
        handle.write(b'x')
    return str(path)


def test_atomic_write_replaces_and_leaves_no_partial_file(tmp_path):
    path = str(tmp_path / 'last_checkpoint')
    write_text_atomically(path, 'old')
    write_text_atomically(path, 'new')
    with open(path) as handle:
        assert handle.read() == 'new'
    assert os.listdir(tmp_path) == ['last_checkpoint']


def test_newest_checkpoint_prefers_iterations_and_ignores_other_files(tmp_path):
    for name in (
        'iter_5.pth',
        'iter_40.pth',
        'epoch_100.pth',
        'best_acc_iter_90.pth',
        'iter_60.pth' + PARTIAL_SUFFIX,
        'notes.txt',
    ):
        touch(tmp_path / name)
    assert newest_checkpoint_in(str(tmp_path)) == str(tmp_path / 'iter_40.pth')
    assert newest_checkpoint_in(str(tmp_path / 'missing')) is None


@pytest.mark.parametrize(
    'files, pointer, expected, reason',
    [
        (['iter_2.pth', 'iter_4.pth'], 'iter_2.pth', 'iter_2.pth', 'last checkpoint'),
        (['iter_2.pth'], 'iter_4.pth', 'iter_2.pth', 'does not exist; using the newest'),
        ([], 'iter_4.pth', None, 'no other checkpoint'),
        (['iter_6.pth'], None, 'iter_6.pth', 'no last_checkpoint file'),
        ([], None, None, 'no checkpoint has been saved'),
    ],
)
def test_resumable_checkpoint(tmp_path, files, pointer, expected, reason):
    for name in files:
        touch(tmp_path / name)
    if pointer is not None:
        write_text_atomically(str(tmp_path / 'last_checkpoint'), str(tmp_path / pointer))
    found, why = find_resumable_checkpoint(str(tmp_path))
    assert found == (str(tmp_path / expected) if expected else None)
    assert reason in why


def test_auto_resume_becomes_an_explicit_checkpoint(tmp_path):
    checkpoint = touch(tmp_path / 'iter_4.pth')
    cfg = Config(dict(resume=True, load_from=None, work_dir=str(tmp_path)))
    assert resolve_auto_resume(cfg) == checkpoint
    assert cfg.resume and cfg.load_from == checkpoint


def test_nothing_to_resume_says_so_and_starts_afresh(tmp_path, monkeypatch):
    logged = []
    monkeypatch.setattr(
        checkpoint_files,
        'print_log',
        lambda message, **kwargs: logged.append((message, kwargs.get('level'))),
    )
    cfg = Config(dict(resume=True, load_from=None, work_dir=str(tmp_path)))
    assert resolve_auto_resume(cfg) is None
    assert not cfg.resume, 'mmengine would log "resumed from the latest checkpoint None"'
    ((message, level),) = logged
    assert 'nothing to resume' in message and 'iteration 1' in message
    assert level == logging.WARNING


@pytest.mark.parametrize('resume, load_from', [(False, None), (True, 'given.pth')])
def test_explicit_settings_are_left_alone(tmp_path, resume, load_from):
    touch(tmp_path / 'iter_4.pth')
    cfg = Config(dict(resume=resume, load_from=load_from, work_dir=str(tmp_path)))
    assert resolve_auto_resume(cfg) is None
    assert cfg.resume == resume and cfg.load_from == load_from
    assert osp.isfile(tmp_path / 'iter_4.pth')


def test_the_backend_is_registered_for_backend_args():
    from mmengine.fileio import get_file_backend

    assert isinstance(
        get_file_backend('x', backend_args=dict(backend=ATOMIC_BACKEND)), AtomicLocalBackend
    )


def test_backend_writes_atomically_and_makes_folders(tmp_path):
    backend = AtomicLocalBackend()
    path = tmp_path / 'new' / 'iter_2.pth'
    backend.put(b'old', path)
    backend.put(b'new', path)
    backend.put_text('text', tmp_path / 'note.txt')
    assert path.read_bytes() == b'new' and (tmp_path / 'note.txt').read_text() == 'text'
    assert not list(tmp_path.rglob('*' + PARTIAL_SUFFIX))


def test_backend_removes_only_when_asked_and_keeps_what_it_is_told(tmp_path):
    backend = AtomicLocalBackend()
    old, kept, folder = (
        touch(tmp_path / 'iter_2.pth'),
        touch(tmp_path / 'iter_4.pth'),
        tmp_path / 'ds',
    )
    folder.mkdir()
    backend.remove(old)
    backend.remove(kept)
    backend.rmtree(str(folder))
    backend.remove(str(tmp_path / 'gone.pth'))
    assert osp.isfile(old) and folder.is_dir()
    assert backend.apply_removals(keep=(kept,)) == [old, str(folder)]
    assert not osp.exists(old) and osp.isfile(kept) and not folder.exists()
    assert backend.apply_removals() == []
