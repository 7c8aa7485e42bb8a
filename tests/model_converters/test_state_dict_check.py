"""The key and shape check of a converted state dict."""

import pytest
import torch

from maskfreevis.model_converters import (
    StateDictMismatchError,
    compare_state_dicts,
    require_exact_match,
)


def test_every_difference_is_listed_under_its_heading():
    converted = {'a': torch.zeros(2), 'b': torch.zeros(3), 'x': torch.zeros(1)}
    comparison = compare_state_dicts(
        converted, {'a': (2,), 'b': (4,), 'c': (1,)}, unconverted=['old.k']
    )
    assert not comparison.ok
    assert comparison.describe().splitlines() == [
        'source keys without a conversion rule (1):',
        '  old.k',
        'missing in the converted checkpoint (1):',
        '  c',
        'left over, not in the target model (1):',
        '  x',
        'shape differs from the target model (1):',
        '  b: converted [3] vs model [4]',
    ]


def test_exact_match_passes_and_mismatch_names_the_source():
    require_exact_match({'a': torch.zeros(2)}, {'a': (2,)}, 'ok.pth')
    with pytest.raises(
        StateDictMismatchError,
        match=r'^bad.pth: the converted weights do not '
        r'fit the target model.\nmissing in the converted checkpoint \(1\):\n  a',
    ):
        require_exact_match({}, {'a': (2,)}, 'bad.pth')
