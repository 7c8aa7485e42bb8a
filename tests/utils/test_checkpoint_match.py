"""Checkpoints whose weights do not fit the model are refused, naming keys and shapes."""

import pytest
import torch

from maskfreevis.utils.checkpoint_match import (
    CheckpointMismatchError,
    check_checkpoint_matches,
    describe_mismatch,
    load_model_checkpoint,
)


class Head(torch.nn.Module):
    def __init__(self, num_classes: int) -> None:
        super().__init__()
        self.cls = torch.nn.Linear(8, num_classes + 1)
        self.norm = torch.nn.BatchNorm1d(8)


def test_mismatch_lines_name_shapes_missing_and_unexpected_keys():
    model = Head(7).state_dict()
    checkpoint = {'module.' + key: value for key, value in Head(4).state_dict().items()}
    checkpoint['extra.weight'] = torch.zeros(1)
    del checkpoint['module.norm.bias']
    del checkpoint['module.norm.num_batches_tracked']  # may be missing, as mmengine allows
    lines = describe_mismatch(model, checkpoint)
    assert lines[0] == (
        'shape differs (2): cls.weight: checkpoint (5, 8), model (8, 8); '
        'cls.bias: checkpoint (5,), model (8,)'
    )
    assert lines[1] == 'missing from the checkpoint (1): norm.bias'
    assert lines[2] == 'not in the model (1): extra.weight'
    assert describe_mismatch(model, Head(7).state_dict()) == []


def test_refusal_names_the_file_and_how_to_load_partially():
    with pytest.raises(CheckpointMismatchError) as error:
        check_checkpoint_matches(Head(7), {'state_dict': Head(4).state_dict()}, 'old.pth')
    message = str(error.value)
    assert 'old.pth' in message and 'cls.weight: checkpoint (5, 8), model (8, 8)' in message
    assert 'allow_partial_checkpoint' in message and 'num_classes' in message
    lines = check_checkpoint_matches(Head(7), Head(4).state_dict(), 'old.pth', allow_partial=True)
    assert len(lines) == 1


def test_long_lists_are_shortened():
    model = {f'layer{i}.weight': torch.zeros(2) for i in range(20)}
    lines = describe_mismatch(model, {})
    assert lines[0].startswith('missing from the checkpoint (20): layer0.weight;')
    assert lines[0].endswith('... 12 more')


def test_load_model_checkpoint_refuses_then_loads_partially_on_request(tmp_path):
    path = str(tmp_path / 'four_classes.pth')
    source = Head(4)
    torch.save({'state_dict': source.state_dict(), 'meta': {'iter': 3}}, path)
    target = Head(7)
    before = target.cls.weight.clone()
    with pytest.raises(CheckpointMismatchError):
        load_model_checkpoint(target, path, {})
    assert torch.equal(target.cls.weight, before), 'nothing was loaded'
    loaded = load_model_checkpoint(target, path, {'allow_partial_checkpoint': True})
    assert loaded['meta']['iter'] == 3
    assert torch.equal(target.norm.weight, source.norm.weight)
    assert torch.equal(target.cls.weight, before), 'the misfit layer keeps its values'
