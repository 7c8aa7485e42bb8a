"""``CheckpointMatchHook``: ``load_from`` / resume of weights that do not fit are refused."""

import pytest
import torch

from maskfreevis.utils.checkpoint_match import CheckpointMismatchError


@pytest.fixture
def four_wide_checkpoint(train_toy, tmp_path) -> str:
    train_toy(tmp_path / 'source', 2)
    return str(tmp_path / 'source' / 'iter_2.pth')


def test_mismatched_load_from_is_refused_naming_keys_and_shapes(
    train_toy, tmp_path, four_wide_checkpoint
):
    with pytest.raises(CheckpointMismatchError) as error:
        train_toy(
            tmp_path / 'other',
            2,
            load_from=four_wide_checkpoint,
            model=dict(type='HookTestToyModel', width=5),
        )
    message = str(error.value)
    assert four_wide_checkpoint in message
    assert 'linear.weight: checkpoint (1, 4), model (1, 5)' in message
    assert 'allow_partial_checkpoint=True' in message


def test_mismatched_resume_is_refused(train_toy, tmp_path):
    train_toy(tmp_path, 2)
    with pytest.raises(CheckpointMismatchError):
        train_toy(tmp_path, 4, resume=True, model=dict(type='HookTestToyModel', width=5))


def test_partial_load_on_request(train_toy, tmp_path, four_wide_checkpoint):
    extended = dict(type='HookTestToyModel', extra_layer=True)
    with pytest.raises(CheckpointMismatchError, match='missing from the checkpoint'):
        train_toy(tmp_path / 'refused', 2, load_from=four_wide_checkpoint, model=extended)
    runner = train_toy(
        tmp_path / 'other',
        2,
        load_from=four_wide_checkpoint,
        allow_partial_checkpoint=True,
        model=extended,
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.0)),
    )
    source = torch.load(four_wide_checkpoint, weights_only=True)['state_dict']
    torch.testing.assert_close(runner.model.linear.weight, source['linear.weight'])


def test_matching_load_from_loads(train_toy, tmp_path, four_wide_checkpoint):
    runner = train_toy(
        tmp_path / 'same',
        2,
        load_from=four_wide_checkpoint,
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.0)),
    )
    source = torch.load(four_wide_checkpoint, weights_only=True)['state_dict']
    torch.testing.assert_close(runner.model.linear.weight, source['linear.weight'])
