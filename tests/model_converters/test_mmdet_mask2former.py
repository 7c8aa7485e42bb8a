"""mmdet Mask2Former (COCO, ``panoptic_head``) and Mask2FormerVideo (``track_head``) checkpoints."""

import json

import pytest
import torch

from maskfreevis.model_converters import (
    ClassHeadOptions,
    StateDictMismatchError,
    class_list,
    convert_mmdet_state_dict,
    convert_state_dict,
)
from tests.model_converters.small_targets import NUM_CLASSES, build_small_video_model, target_of


@pytest.fixture(scope='module')
def target():
    model = build_small_video_model()
    return model, target_of(model)


def coco_instance_checkpoint() -> dict:
    """What mmdet's COCO instance Mask2Former stores: 80 classes, the head as panoptic_head."""
    model = build_small_video_model(num_classes=80)
    return {
        key.replace('track_head.', 'panoptic_head.', 1): value
        for key, value in model.state_dict().items()
    }


def test_coco_instance_checkpoint_mapped_onto_video_classes(target, tmp_path):
    model, target_model = target
    source = coco_instance_checkpoint()
    classes = ['person', 'sedan', 'ape', 'truck', 'tennis_racket']
    categories = tmp_path / 'train.json'
    categories.write_text(
        json.dumps(dict(categories=[dict(id=i, name=name) for i, name in enumerate(classes, 1)]))
    )
    result = convert_state_dict(
        source,
        convert_mmdet_state_dict,
        target_model,
        'mask2former_coco.pth',
        class_head=ClassHeadOptions(
            target_classes=str(categories), class_table='coco-to-youtubevis2019'
        ),
    )
    model.load_state_dict(result.state_dict, strict=True)
    coco = class_list('coco')
    rows = source['panoptic_head.cls_embed.weight']
    assert torch.equal(model.track_head.cls_embed.weight[1], rows[coco.index('car')])
    assert torch.equal(model.track_head.cls_embed.weight[4], rows[coco.index('tennis racket')])
    assert torch.equal(model.backbone.conv1.weight, source['backbone.conv1.weight'])
    assert 'class head mapped from coco (80 classes)' in result.report[0]


def test_video_checkpoint_of_the_same_classes_is_kept(target):
    model, target_model = target
    source = build_small_video_model(num_classes=NUM_CLASSES).state_dict()
    result = convert_state_dict(source, convert_mmdet_state_dict, target_model, 'vis.pth')
    assert result.report[0].startswith('class head kept (5 classes + no-object)')
    model.load_state_dict(result.state_dict, strict=True)
    assert torch.equal(model.track_head.cls_embed.weight, source['track_head.cls_embed.weight'])


def test_keys_outside_backbone_and_head_are_listed(target):
    _, target_model = target
    source = coco_instance_checkpoint()
    source['ema.backbone.conv1.weight'] = torch.zeros(1)
    with pytest.raises(
        StateDictMismatchError,
        match=r'without a conversion rule \(1\):\n'
        r'  ema.backbone.conv1.weight',
    ):
        convert_state_dict(source, convert_mmdet_state_dict, target_model, 'm.pth')
