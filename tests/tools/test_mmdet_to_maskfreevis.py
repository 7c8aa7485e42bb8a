"""``tools/model_converters/mmdet_to_maskfreevis.py``: an mmdet COCO Mask2Former checkpoint with
its class head mapped onto video classes."""

import json

import torch
from mmengine.config import Config

from tests.model_converters.small_targets import build_small_video_model, small_video_model_cfg


def test_coco_checkpoint_converted_with_mapped_class_head(load_tool, tmp_path, capsys):
    tool = load_tool('model_converters/mmdet_to_maskfreevis.py')
    config = tmp_path / 'small_model.py'
    Config(dict(model=small_video_model_cfg(), default_scope='mmdet')).dump(str(config))
    coco_model = build_small_video_model(num_classes=80).state_dict()
    source = tmp_path / 'mask2former_coco.pth'
    torch.save(
        {
            'state_dict': {
                key.replace('track_head.', 'panoptic_head.', 1): value
                for key, value in coco_model.items()
            },
            'meta': {},
        },
        source,
    )
    classes = tmp_path / 'train.json'
    classes.write_text(
        json.dumps(
            dict(
                categories=[
                    dict(id=i, name=name)
                    for i, name in enumerate(['person', 'sedan', 'ape', 'truck', 'snowboard'], 1)
                ]
            )
        )
    )
    output = tmp_path / 'converted.pth'
    assert (
        tool.main(
            [
                str(config),
                str(source),
                str(output),
                '--target-classes',
                str(classes),
                '--class-table',
                'coco-to-youtubevis2019',
            ]
        )
        == 0
    )
    assert 'snowboard <- skis + snowboard' in capsys.readouterr().out
    model = build_small_video_model()
    model.load_state_dict(torch.load(output, weights_only=True)['state_dict'], strict=True)
