"""Renaming by key rules and dropping by pattern."""

import pytest
import torch

from maskfreevis.model_converters import KeyRule, drop_keys, rename_state_dict


def test_templates_functions_transforms_and_unmatched_keys():
    rules = [
        KeyRule(r'a\.(\d+)\.w', lambda m: f'b.{int(m[1]) * 2}.w'),
        KeyRule(r'c\.(w|b)', r'd.\1', transform=lambda t: t * 2),
    ]
    state = {'a.3.w': torch.ones(1), 'c.b': torch.ones(2), 'c.bias': torch.ones(3)}
    result = rename_state_dict(state, rules)
    assert list(result.state_dict) == ['b.6.w', 'd.b']
    assert result.state_dict['d.b'].tolist() == [2.0, 2.0]
    assert result.renamed_from == {'b.6.w': 'a.3.w', 'd.b': 'c.b'}
    assert result.unmatched == ['c.bias']  # rules match whole keys only


def test_two_sources_for_one_key_raise():
    with pytest.raises(ValueError, match=r"'x.a' and 'y.a' both convert to 'z.a'"):
        rename_state_dict(
            {'x.a': torch.ones(1), 'y.a': torch.ones(1)}, [KeyRule(r'[xy]\.(a)', r'z.\1')]
        )


def test_drop_keys_by_shell_pattern():
    kept, dropped = drop_keys(
        {'criterion._iter': 1, 'criterion.w': 2, 'backbone.x': 3}, ['criterion.*']
    )
    assert list(kept) == ['backbone.x'] and dropped == ['criterion._iter', 'criterion.w']
