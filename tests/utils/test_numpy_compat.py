"""``numpy_float_alias``: mmdet 3.3.0's ``np.float`` works inside the block, not outside."""

import numpy as np
import pytest

from maskfreevis.utils import numpy_float_alias


def test_alias_exists_only_inside_the_block():
    assert 'float' not in np.__dict__
    with numpy_float_alias():
        assert np.float is float
        assert np.zeros(2, dtype=np.float).dtype == np.float64
    assert 'float' not in np.__dict__


def test_alias_removed_after_an_exception():
    with pytest.raises(RuntimeError):
        with numpy_float_alias():
            raise RuntimeError('evaluation failed')
    assert 'float' not in np.__dict__
