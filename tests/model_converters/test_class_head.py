"""Fitting a class head to other classes: mapped rows, fresh rows, the no-object row."""

import pytest
import torch

from maskfreevis.model_converters import map_class_head, reinitialise_class_head
from maskfreevis.model_converters.class_head import fresh_linear_rows

SOURCE = ('cat', 'dog', 'car', 'truck')


def source_head(dim: int = 6):
    weight = torch.arange((len(SOURCE) + 1) * dim, dtype=torch.float32).view(-1, dim)
    return weight, torch.arange(len(SOURCE) + 1, dtype=torch.float32) * 10


def test_equal_names_map_without_a_table():
    weight, bias = source_head()
    result = map_class_head(weight, bias, SOURCE, ('dog', 'fox', 'cat'))
    assert torch.equal(result.weight[0], weight[1]) and torch.equal(result.weight[2], weight[0])
    assert result.bias.tolist()[::2] == [10.0, 0.0]
    assert result.fresh == ['fox']
    assert torch.equal(result.weight[-1], weight[-1]) and result.bias[-1] == bias[-1]
    assert result.sources == {'dog': ['dog'], 'cat': ['cat']}


def test_several_sources_average_and_unknown_entries_are_reported():
    weight, bias = source_head()
    table = {'car': 'vehicle', 'truck': 'vehicle', 'cat': 'pet', 'boat': 'vehicle'}
    result = map_class_head(weight, bias, SOURCE, ('vehicle', 'pet'), table)
    torch.testing.assert_close(result.weight[0], (weight[2] + weight[3]) / 2)
    assert result.bias[0] == 25.0
    assert result.unused_table_entries == ['boat -> vehicle']
    text = result.describe()
    assert 'vehicle <- car + truck' in text and 'boat -> vehicle' in text


def test_fresh_rows_are_seeded_and_bounded_like_nn_linear():
    first, first_bias = fresh_linear_rows(3, 16, seed=5)
    again, _ = fresh_linear_rows(3, 16, seed=5)
    other, _ = fresh_linear_rows(3, 16, seed=6)
    assert torch.equal(first, again) and not torch.equal(first, other)
    assert first.abs().max() <= 0.25 and first_bias.abs().max() <= 0.25


def test_reinitialise_keeps_only_the_no_object_row():
    weight, bias = source_head()
    result = reinitialise_class_head(weight, bias, num_target_classes=7, seed=1)
    assert result.weight.shape == (8, 6) and result.bias.shape == (8,)
    assert torch.equal(result.weight[-1], weight[-1])
    assert 'all 7 class rows' in result.describe()


def test_bad_rows_or_nothing_shared_raise():
    weight, bias = source_head()
    with pytest.raises(ValueError, match=r'has 5 rows but 3 source classes'):
        map_class_head(weight, bias, SOURCE[:3], ('cat',))
    with pytest.raises(ValueError, match='no source class maps to any target class'):
        map_class_head(weight, bias, SOURCE, ('ape', 'owl'))
