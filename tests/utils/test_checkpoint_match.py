"""Checkpoints whose weights do not fit the model are refused, naming keys and shapes."""

import pytest
import torch

from maskfreevis.utils.checkpoint_match import (
    CheckpointMismatchError,
    ClassMismatchError,
    check_checkpoint_matches,
    check_dataset_classes,
    checkpoint_classes,
    describe_class_difference,
    describe_mismatch,
    load_model_checkpoint,
    metainfo_fix,
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


def test_checkpoint_classes_read_from_meta():
    assert checkpoint_classes({'meta': {'dataset_meta': {'classes': ['a', 'b']}}}) == ('a', 'b')
    assert checkpoint_classes({'meta': {'dataset_meta': {'classes': 'ab'}}}) is None
    assert checkpoint_classes({'meta': {}}) is None
    assert checkpoint_classes(Head(2).state_dict()) is None


def test_class_lists_that_differ_name_both_and_the_fix():
    same = check_dataset_classes(('a', 'b'), ['a', 'b'], 'checkpoint c.pth', 'the test set', 'x')
    assert same is None
    with pytest.raises(ClassMismatchError) as error:
        check_dataset_classes(
            ('a', 'b', 'c'), ('a', 'c', 'b'), 'checkpoint c.pth', 'the test set', 'test_dataloader'
        )
    message = str(error.value)
    assert "checkpoint c.pth: (3) 'a', 'b', 'c'" in message
    assert "the test set: (3) 'a', 'c', 'b'" in message
    assert "label 1 is 'b' in checkpoint c.pth, 'c' in the test set" in message
    assert '--cfg-options "test_dataloader.dataset.metainfo.classes=[a,b,c]"' in message
    assert 'allow_class_mismatch = True' in message


def test_names_the_command_line_cannot_carry_are_given_for_the_config():
    fix = metainfo_fix('test_dataloader', ('sea lion', 'dog'))
    assert '--cfg-options' not in fix
    assert "test_dataloader = dict(dataset=dict(metainfo=dict(classes=('sea lion', 'dog'))))" in fix


def test_a_name_listed_twice_is_a_difference():
    line = describe_class_difference(('a', 'a', 'b'), ('a', 'b'), 'one', 'two')
    assert line == '3 names in one, 2 in two'


def test_class_mismatch_can_be_allowed():
    message = check_dataset_classes(('a',), ('b',), 'checkpoint', 'the test set', 't', allow=True)
    assert "only in checkpoint: 'a'; only in the test set: 'b'" in message


def test_the_refusal_names_the_run_that_wrote_the_checkpoint():
    checkpoint = {
        'state_dict': Head(4).state_dict(),
        'meta': {'experiment_name': 'maskfreevis_r18_1xb4-800iter_synthetic_20261207_144608'},
    }
    with pytest.raises(CheckpointMismatchError) as error:
        check_checkpoint_matches(Head(7), checkpoint, 'old.pth')
    assert (
        'It was written by the run maskfreevis_r18_1xb4-800iter_synthetic_20261207_144608 '
        '(meta.experiment_name): use it with the config it was trained with, '
        'maskfreevis_r18_1xb4-800iter_synthetic.py'
    ) in str(error.value)


def test_a_checkpoint_of_the_release_or_mmdet_says_to_convert_it():
    detectron2 = {'model': {'sem_seg_head.predictor.class_embed.weight': torch.zeros(2)}}
    mmdet = {'state_dict': {'panoptic_head.cls_embed.weight': torch.zeros(2)}}
    for checkpoint, tool in ((detectron2, 'detectron2'), (mmdet, 'mmdet')):
        with pytest.raises(CheckpointMismatchError) as error:
            check_checkpoint_matches(Head(7), checkpoint, 'release.pth')
        assert (
            f'convert it first, python tools/model_converters/{tool}_to_maskfreevis.py CONFIG '
            'release.pth OUT.pth'
        ) in str(error.value)
