"""``removing_result_collection_dir``: mmdet's empty ``.dist_test`` folder is removed safely."""

import os
import os.path as osp

import pytest

from maskfreevis.utils import result_collection
from maskfreevis.utils.result_collection import removing_result_collection_dir


@pytest.mark.parametrize('main_process', [True, False])
def test_cleanup_is_safe_across_ranks(tmp_path, monkeypatch, main_process):
    """Ranks share mmdet's .dist_test: only the main process removes it, and only when empty; a
    folder already gone (removed by another rank) is no error."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(result_collection, 'is_main_process', lambda: main_process)
    outcomes = {
        'empty': lambda: os.makedirs('.dist_test'),
        'gone': lambda: None,  # another rank removed it already
        'kept': lambda: (os.makedirs('.dist_test'), open('.dist_test/part_1.pkl', 'w').close()),
    }
    for outcome, collect in outcomes.items():
        with removing_result_collection_dir():
            collect()
        exists = osp.isdir(tmp_path / '.dist_test')
        if outcome == 'empty':
            assert exists != main_process  # removed by the main process only
        elif outcome == 'kept':
            assert exists  # files inside: never deleted
        else:
            assert not exists
        if exists:
            for name in os.listdir(tmp_path / '.dist_test'):
                os.remove(tmp_path / '.dist_test' / name)
            os.rmdir(tmp_path / '.dist_test')


def test_a_folder_that_was_there_before_is_kept(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    os.makedirs('.dist_test')
    with removing_result_collection_dir():
        pass
    assert osp.isdir(tmp_path / '.dist_test')
