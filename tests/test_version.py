"""Package metadata."""

import maskfreevis
from maskfreevis.version import parse_version_info


def test_version_info_matches_version():
    assert maskfreevis.version_info == parse_version_info(maskfreevis.__version__)


def test_parse_version_info():
    assert parse_version_info('1.2.3') == (1, 2, 3)
    assert parse_version_info('0.1.0rc1') == (0, 1, 0, 'rc1')
