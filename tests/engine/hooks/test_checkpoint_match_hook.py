"""``CheckpointMatchHook``: ``load_from`` / resume of weights that do not fit are refused, and so
is testing a checkpoint, or validating a training run, on a dataset of other classes."""

import os

import pytest
import torch
from mmdet.registry import DATASETS

from maskfreevis.engine import build_runner
from maskfreevis.utils.checkpoint_match import CheckpointMismatchError, ClassMismatchError


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


# Classes ----------------------------------------------------------------------------------------


@DATASETS.register_module(force=True)
class HookTestNamedData(torch.utils.data.Dataset):
    """16 fixed samples of the toy model (``x``, ``sum(x)``) with class names in their
    ``metainfo``, as the VIS datasets have."""

    def __init__(self, classes=('cat', 'dog'), ann_file: str = 'toy.json') -> None:
        self.inputs = torch.randn(16, 4, generator=torch.Generator().manual_seed(0))
        self.metainfo = dict(classes=tuple(classes))
        self.ann_file = ann_file

    def __len__(self) -> int:
        return len(self.inputs)

    def __getitem__(self, index: int) -> dict:
        return dict(inputs=self.inputs[index], data_samples=self.inputs[index].sum())


def named_data(classes, ann_file='toy.json') -> dict:
    return dict(type='HookTestNamedData', classes=classes, ann_file=ann_file)


def named_test_loader(classes) -> dict:
    """``test_dataloader`` / ``test_cfg`` / ``test_evaluator`` on toy data named ``classes``."""
    return dict(
        test_dataloader=dict(
            dataset=named_data(classes, 'test.json'),
            batch_size=4,
            num_workers=0,
            sampler=dict(type='DefaultSampler', shuffle=False),
            collate_fn=dict(type='default_collate'),
        ),
        test_cfg=dict(type='TestLoop'),
        test_evaluator=dict(type='HookTestToyMetric'),
    )


@pytest.fixture
def cat_dog_checkpoint(train_toy, tmp_path) -> str:
    """A checkpoint trained on classes ('cat', 'dog'), recorded in its meta."""
    train_toy(
        tmp_path / 'source',
        2,
        train_dataloader=dict(
            dataset=named_data(('cat', 'dog')),
            batch_size=4,
            num_workers=0,
            sampler=dict(type='InfiniteSampler', shuffle=False),
            collate_fn=dict(type='default_collate'),
        ),
    )
    path = str(tmp_path / 'source' / 'iter_2.pth')
    assert torch.load(path, weights_only=True)['meta']['dataset_meta']['classes'] == ('cat', 'dog')
    return path


def run_test(toy_config, work_dir, checkpoint: str, classes, **overrides):
    """``runner.test()`` of ``checkpoint`` on toy data named ``classes``; the runner."""
    cfg = toy_config(
        str(work_dir), 2, load_from=checkpoint, **named_test_loader(classes), **overrides
    )
    runner = build_runner(cfg)
    runner.test()
    return runner


@pytest.mark.parametrize(
    'classes, difference',
    [
        (('dog', 'cat'), "label 0 is 'cat' in checkpoint"),
        (('cat', 'horse'), "only in checkpoint CKPT: 'dog'; only in the test dataset (test.json)"),
    ],
)
def test_a_test_set_of_other_classes_is_refused_before_scoring(
    toy_config, cat_dog_checkpoint, tmp_path, classes, difference
):
    with pytest.raises(ClassMismatchError) as error:
        run_test(toy_config, tmp_path / 'test', cat_dog_checkpoint, classes)
    message = str(error.value)
    assert f"checkpoint {cat_dog_checkpoint}: (2) 'cat', 'dog'" in message
    assert f'the test dataset (test.json): (2) {", ".join(map(repr, classes))}' in message
    assert difference.replace('CKPT', cat_dog_checkpoint) in message
    assert 'test_dataloader.dataset.metainfo.classes=[cat,dog]' in message
    assert message.endswith('Refused; nothing was scored.')


def test_the_same_classes_are_scored(toy_config, cat_dog_checkpoint, tmp_path):
    runner = run_test(toy_config, tmp_path / 'test', cat_dog_checkpoint, ('cat', 'dog'))
    assert runner.test_evaluator.metrics[0].batches == 4


def test_other_classes_are_scored_on_request(toy_config, cat_dog_checkpoint, tmp_path):
    runner = run_test(
        toy_config,
        tmp_path / 'test',
        cat_dog_checkpoint,
        ('kitten', 'puppy'),
        allow_class_mismatch=True,
    )
    assert runner.test_evaluator.metrics[0].batches == 4
    log = open(runner.logger.log_file).read()
    assert "only in the test dataset (test.json): 'kitten', 'puppy'" in log
    assert 'Scoring anyway (allow_class_mismatch=True)' in log


def test_a_checkpoint_without_class_names_is_scored_with_a_warning(
    toy_config, cat_dog_checkpoint, tmp_path
):
    bare = str(tmp_path / 'bare.pth')
    torch.save(torch.load(cat_dog_checkpoint, weights_only=True)['state_dict'], bare)
    runner = run_test(toy_config, tmp_path / 'test', bare, ('cat', 'dog'))
    assert runner.test_evaluator.metrics[0].batches == 4
    log = open(runner.logger.log_file).read()
    assert f'Checkpoint {bare} records no class names (meta.dataset_meta.classes)' in log
    assert "label i is class i of ['cat', 'dog']" in log


def test_validation_outside_training_checks_the_classes(toy_config, cat_dog_checkpoint, tmp_path):
    cfg = toy_config(
        str(tmp_path / 'val'),
        2,
        load_from=cat_dog_checkpoint,
        val_dataloader=named_test_loader(('dog', 'cat'))['test_dataloader'],
        val_cfg=dict(type='ValLoop'),
        val_evaluator=dict(type='HookTestToyMetric'),
    )
    with pytest.raises(ClassMismatchError, match='the validation dataset'):
        build_runner(cfg).val()


def test_a_validation_set_of_other_classes_is_refused_before_training(train_toy, tmp_path):
    validation = dict(
        val_dataloader=dict(named_test_loader(('cat', 'dog', 'horse'))['test_dataloader']),
        val_cfg=dict(type='ValLoop'),
        val_evaluator=dict(type='HookTestToyMetric'),
        val_interval=2,
    )
    train_loader = dict(
        dataset=named_data(('cat', 'dog'), 'train.json'),
        batch_size=4,
        num_workers=0,
        sampler=dict(type='InfiniteSampler', shuffle=False),
        collate_fn=dict(type='default_collate'),
    )
    with pytest.raises(ClassMismatchError) as error:
        train_toy(tmp_path / 'run', 2, train_dataloader=train_loader, **validation)
    message = str(error.value)
    assert "the training dataset (train.json): (2) 'cat', 'dog'" in message
    assert "only in the validation dataset (test.json): 'horse'" in message
    assert 'val_dataloader.dataset.metainfo.classes=[cat,dog]' in message
    assert message.endswith('Refused; training did not start.')
    assert not [name for name in os.listdir(tmp_path / 'run') if name.endswith('.pth')]


def test_fine_tuning_from_a_checkpoint_of_other_classes_is_not_refused(
    train_toy, cat_dog_checkpoint, tmp_path
):
    train_loader = dict(
        dataset=named_data(('kitten', 'puppy')),
        batch_size=4,
        num_workers=0,
        sampler=dict(type='InfiniteSampler', shuffle=False),
        collate_fn=dict(type='default_collate'),
    )
    runner = train_toy(
        tmp_path / 'tuned', 2, load_from=cat_dog_checkpoint, train_dataloader=train_loader
    )
    assert runner.iter == 2
