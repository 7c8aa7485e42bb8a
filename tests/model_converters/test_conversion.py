"""A whole conversion: drops, failure lists, class head, colour order; released sizes vs configs."""

import json
import os.path as osp

import pytest
import torch

from maskfreevis.model_converters import (
    DETECTRON2_NON_MODEL_KEYS,
    ClassHeadOptions,
    StateDictMismatchError,
    TargetModel,
    class_list,
    convert_detectron2_state_dict,
    convert_state_dict,
    target_from_config_file,
    target_from_model_config,
)
from maskfreevis.model_converters.conversion import normalisation_warning
from tests.model_converters import detectron2_reference as d2
from tests.model_converters.small_targets import (
    DIM,
    NUM_CLASSES,
    NUM_QUERIES,
    build_small_video_model,
    small_detectron2_reference,
    target_of,
)

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIG_DIR = osp.join(REPO_ROOT, 'configs', 'maskfreevis')


def reference_state_dict(num_classes: int = NUM_CLASSES) -> dict:
    return small_detectron2_reference(num_classes).state_dict()


@pytest.fixture(scope='module')
def small_target():
    return target_of(build_small_video_model())


def test_non_model_buffers_must_be_dropped(small_target):
    with pytest.raises(StateDictMismatchError) as error:
        convert_state_dict(
            reference_state_dict(), convert_detectron2_state_dict, small_target, 'model_final.pth'
        )
    message = str(error.value)
    assert message.startswith('model_final.pth: ')
    assert (
        'source keys without a conversion rule (2):\n  criterion.empty_weight\n  criterion._iter'
    ) in message
    assert '--drop' in message


def test_missing_unexpected_and_misshapen_keys_are_all_listed(small_target):
    source = reference_state_dict()
    del source['sem_seg_head.pixel_decoder.mask_features.bias']
    source['sem_seg_head.predictor.unknown_layer.weight'] = torch.zeros(1)
    source['sem_seg_head.predictor.query_feat.weight'] = torch.zeros(NUM_QUERIES + 1, DIM)
    with pytest.raises(StateDictMismatchError) as error:
        convert_state_dict(
            source,
            convert_detectron2_state_dict,
            small_target,
            'bad.pth',
            drop_patterns=DETECTRON2_NON_MODEL_KEYS,
        )
    message = str(error.value)
    assert (
        'source keys without a conversion rule (1):\n  sem_seg_head.predictor.unknown_layer.weight'
    ) in message
    assert (
        'missing in the converted checkpoint (1):\n  track_head.pixel_decoder.mask_feature.bias'
    ) in message
    assert (
        'shape differs from the target model (1):\n  track_head.query_feat.weight: '
        f'converted [{NUM_QUERIES + 1}, {DIM}] vs model [{NUM_QUERIES}, {DIM}]'
    ) in message


def test_left_over_keys_are_listed():
    shapes = dict(target_of(build_small_video_model()).shapes)
    del shapes['track_head.level_embed.weight']
    with pytest.raises(
        StateDictMismatchError,
        match=r'left over, not in the target model '
        r'\(1\):\n  track_head.level_embed.weight',
    ):
        convert_state_dict(
            reference_state_dict(),
            convert_detectron2_state_dict,
            TargetModel(shapes, 'RGB', 'x'),
            'x.pth',
            drop_patterns=DETECTRON2_NON_MODEL_KEYS,
        )


def test_coco_class_head_reinitialised_by_default(small_target):
    source = reference_state_dict(num_classes=80)
    result = convert_state_dict(
        source,
        convert_detectron2_state_dict,
        small_target,
        'model_final_proj.pth',
        drop_patterns=DETECTRON2_NON_MODEL_KEYS,
    )
    weight = result.state_dict['track_head.cls_embed.weight']
    assert weight.shape == (NUM_CLASSES + 1, DIM)
    # the no-object row survives; class rows are fresh, bounded like nn.Linear's
    assert torch.equal(weight[-1], source['sem_seg_head.predictor.class_embed.weight'][-1])
    assert weight[:-1].abs().max() <= DIM**-0.5
    assert any(
        'class head re-initialised (the source predicts 80 classes, the target 5' in line
        for line in result.report
    )


def test_coco_class_head_mapped_onto_target_classes(small_target, tmp_path):
    targets = ['person', 'motorbike', 'giant_panda', 'sedan', 'snowboard']
    target_json = tmp_path / 'train.json'
    target_json.write_text(
        json.dumps(dict(categories=[dict(id=i + 1, name=name) for i, name in enumerate(targets)]))
    )
    source = reference_state_dict(num_classes=80)
    options = ClassHeadOptions(
        target_classes=str(target_json), class_table='coco-to-youtubevis2019'
    )
    result = convert_state_dict(
        source,
        convert_detectron2_state_dict,
        small_target,
        'proj.pth',
        drop_patterns=DETECTRON2_NON_MODEL_KEYS,
        class_head=options,
    )
    coco = class_list('coco')
    source_rows = source['sem_seg_head.predictor.class_embed.weight']
    weight = result.state_dict['track_head.cls_embed.weight']
    torch.testing.assert_close(weight[0], source_rows[coco.index('person')])
    torch.testing.assert_close(
        weight[1], (source_rows[coco.index('bicycle')] + source_rows[coco.index('motorcycle')]) / 2
    )
    torch.testing.assert_close(weight[3], source_rows[coco.index('car')])
    torch.testing.assert_close(weight[5], source_rows[-1])
    report = '\n'.join(result.report)
    assert 'motorbike <- bicycle + motorcycle' in report
    assert 'freshly initialised (1): giant_panda' in report


def test_converted_weights_load_strictly_into_maskfreevis():
    """This package's model has exactly the stock Mask2FormerVideo's state-dict layout."""
    from mmdet.registry import MODELS

    from tests.models.small_models import small_model_cfg

    model = MODELS.build(small_model_cfg(num_classes=NUM_CLASSES))
    result = convert_state_dict(
        reference_state_dict(),
        convert_detectron2_state_dict,
        target_from_model_config(small_model_cfg(num_classes=NUM_CLASSES), 'small MaskFreeVIS'),
        'reference.pth',
        drop_patterns=DETECTRON2_NON_MODEL_KEYS,
    )
    model.load_state_dict(result.state_dict, strict=True)


RELEASED = [
    # (config, backbone, backbone channels, queries): the released detectron2 models' sizes
    ('maskfreevis_r50_8xb2-6k_youtubevis2019.py', 'r50', (256, 512, 1024, 2048), 100),
    ('maskfreevis_r101_8xb2-6k_youtubevis2019.py', 'r101', (256, 512, 1024, 2048), 100),
    (
        'maskfreevis_swin-l-p4-w12-384-in21k_8xb1-12k_youtubevis2019.py',
        'swin-l',
        (192, 384, 768, 1536),
        200,
    ),
]


@pytest.mark.parametrize(
    'config, backbone, channels, queries', RELEASED, ids=[entry[1] for entry in RELEASED]
)
def test_released_checkpoint_names_fit_the_configs(config, backbone, channels, queries):
    """Full-size released layouts (built on the meta device: names and shapes only)."""
    with torch.device('meta'):
        if backbone == 'swin-l':
            backbone_module = d2.SwinTransformer(192, (2, 2, 18, 2), (6, 12, 24, 48), 12)
        else:
            backbone_module = d2.ResNet(int(backbone[1:]))
        source = d2.VideoMaskFormer(backbone_module, channels, num_queries=queries).state_dict()
    target = target_from_config_file(osp.join(CONFIG_DIR, config))
    result = convert_state_dict(
        source,
        convert_detectron2_state_dict,
        target,
        'released.pth',
        drop_patterns=DETECTRON2_NON_MODEL_KEYS,
    )
    assert set(result.state_dict) == set(target.shapes)
    assert target.channel_order == 'RGB'  # what the detectron2 models were trained on


def test_normalisation_warning_only_when_the_target_normalises_otherwise():
    released = ((123.675, 116.28, 103.53), (58.395, 57.12, 57.375))
    same = TargetModel(
        {}, 'RGB', 'cfg', mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375]
    )
    assert normalisation_warning(released, 'RGB', same) is None
    bgr = TargetModel({}, 'BGR', 'cfg', mean=[103.53, 116.28, 123.675], std=[57.375, 57.12, 58.395])
    assert normalisation_warning(released, 'RGB', bgr) is None  # same values, other order
    caffe = TargetModel({}, 'BGR', 'caffe.py', mean=[103.53, 116.28, 123.675], std=[1, 1, 1])
    assert normalisation_warning(released, 'RGB', caffe).startswith(
        'WARNING: caffe.py normalises with mean [103.53, 116.28, 123.675], std [1, 1, 1]'
    )
    assert normalisation_warning(released, 'RGB', TargetModel({}, 'RGB', 'x')) is None
