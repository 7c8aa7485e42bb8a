"""The target layout read from a model config."""

from maskfreevis.model_converters import target_from_model_config
from tests.model_converters.small_targets import small_video_model_cfg


def test_shapes_and_colour_order_from_the_model_config():
    cfg = small_video_model_cfg()
    cfg.init_cfg = dict(type='Pretrained', checkpoint='does/not/exist.pth')  # never read
    target = target_from_model_config(cfg, 'small')
    assert target.shapes['track_head.query_feat.weight'] == (8, 64)
    assert target.shapes['backbone.bn1.num_batches_tracked'] == ()
    assert target.channel_order == 'RGB'
    cfg.data_preprocessor.bgr_to_rgb = False
    assert target_from_model_config(cfg, 'small').channel_order == 'BGR'
