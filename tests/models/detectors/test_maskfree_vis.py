"""MaskFreeVIS detector: preprocessor and head agree on the mask grid; training, prediction."""

import pytest
import torch
from mmdet.registry import MODELS

from maskfreevis.models.detectors import MaskFreeVIS
from maskfreevis.testing import ClipSpec, synthetic_batch
from tests.models.small_models import small_model_cfg


@pytest.fixture(scope='module')
def model():
    torch.manual_seed(0)
    model = MODELS.build(small_model_cfg())
    model.train()
    return model


def batch():
    return synthetic_batch(
        [ClipSpec(3, (64, 96), seed=1), ClipSpec(3, (40, 64), seed=2, video_id=1)]
    )


def test_training_step_hands_the_preprocessor_colours_to_the_criterion(model):
    received = {}
    criterion = model.track_head.criterion
    real_forward = criterion.forward

    def recording_forward(all_cls_scores, all_mask_preds, gts, lab=None, valid_masks=None):
        received.update(lab=lab, valid=valid_masks)
        return real_forward(all_cls_scores, all_mask_preds, gts, lab, valid_masks)

    data = model.data_preprocessor(batch(), True)
    criterion.forward = recording_forward
    try:
        losses = model.loss(**data)
    finally:
        del criterion.forward  # back to the class method
    lab, valid = model.data_preprocessor.mask_grid_colours(data['inputs'], data['data_samples'])
    assert torch.equal(received['lab'], lab) and torch.equal(received['valid'], valid)
    assert lab.shape == (2, 3, 3, 16, 24) and not valid[1, :, 10:].any()
    assert all(torch.isfinite(value) for value in losses.values())


def test_inputs_must_be_clips(model):
    data = model.data_preprocessor(batch(), True)
    with pytest.raises(ValueError, match=r'must be \(B, T, C, H, W\)'):
        model.loss(data['inputs'][0], data['data_samples'])


@pytest.mark.parametrize('num_frames', [2, 4])
def test_predict_returns_masks_at_the_original_frame_size(model, num_frames):
    model.eval()
    try:
        test_batch = synthetic_batch([ClipSpec(num_frames, (64, 96), ori_shape=(128, 192), seed=3)])
        data = model.data_preprocessor(test_batch, False)
        with torch.no_grad():
            (result,) = model(**data, mode='predict')
    finally:
        model.train()
    assert len(result) == num_frames
    for frame in range(num_frames):
        pred = result[frame].pred_track_instances
        assert pred.masks.shape == (10, 128, 192) and pred.masks.dtype == torch.bool
        assert pred.bboxes.shape == (10, 4) and pred.scores.shape == (10,)
        assert ((pred.labels >= 0) & (pred.labels < 5)).all()


def test_is_registered_and_rejects_a_head_without_a_criterion():
    assert MODELS.get('MaskFreeVIS') is MaskFreeVIS
    cfg = small_model_cfg()
    del cfg.track_head['criterion']
    cfg.track_head.update(
        type='Mask2FormerTrackHead',
        num_frames=2,
        loss_cls=dict(type='CrossEntropyLoss', class_weight=[1.0] * 6),
    )
    with pytest.raises(TypeError, match='MaskFreeTrackHead'):
        MODELS.build(cfg)


def test_needs_the_preprocessor_that_computes_colours():
    cfg = small_model_cfg()
    cfg.data_preprocessor.type = 'TrackDataPreprocessor'
    del cfg.data_preprocessor['mask_stride']
    with pytest.raises(TypeError, match=r'MaskFreeDataPreprocessor\), got TrackDataPreprocessor'):
        MODELS.build(cfg)


def test_preprocessor_and_head_must_share_the_mask_stride():
    cfg = small_model_cfg()
    cfg.data_preprocessor.mask_stride = 8
    with pytest.raises(
        ValueError,
        match=r'data_preprocessor.mask_stride is 8 but '
        r'track_head.strides\[0\] is 4',
    ):
        MODELS.build(cfg)
