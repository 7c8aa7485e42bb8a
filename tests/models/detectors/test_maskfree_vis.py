"""MaskFreeVIS detector: colours for the losses, valid cells, training and prediction."""
import numpy as np
import pytest
import torch
from mmdet.registry import MODELS
from skimage.color import rgb2lab

from maskfreevis.models.detectors import MaskFreeVIS
from maskfreevis.testing import ClipSpec, synthetic_batch
from tests.models.small_models import small_model_cfg

BGR_A = (10, 120, 240)  # RGB (240, 120, 10)
BGR_B = (200, 30, 90)
BGR_C = (90, 200, 30)


def expected_lab(rgb) -> np.ndarray:
    """scikit-image CIE-Lab (D65) of one RGB colour in 0..255."""
    return rgb2lab(np.asarray(rgb, dtype=np.float64).reshape(1, 1, 3) / 255.0)[0, 0]


def flat_clip(num_frames, height, width, bgr, video_id):
    """Uniform-colour clip with one instance; returns (inputs, data sample) like the packer."""
    frames, sample = synthetic_batch([ClipSpec(num_frames, (height, width), num_objects=1,
                                               video_id=video_id)]).values()
    frames = frames[0].clone()
    frames[:] = torch.tensor(bgr, dtype=torch.uint8)[None, :, None, None]
    return frames, sample[0]


def build(**preprocessor):
    cfg = small_model_cfg()
    cfg.data_preprocessor.update(preprocessor)
    model = MODELS.build(cfg)
    model.train()
    return model


@pytest.fixture(scope='module')
def model():
    torch.manual_seed(0)
    return build()


def colour_batch(model):
    """Clip 0: 64 x 96 colour A with a colour-C block on cells (1..2, 3..5) and a cell split in
    half A/C at cell (5, 10); clip 1: 40 x 64 colour B, padded to 64 x 96."""
    frames_a, sample_a = flat_clip(3, 64, 96, BGR_A, 0)
    frames_a[:, :, 4:12, 12:24] = torch.tensor(BGR_C, dtype=torch.uint8)[None, :, None, None]
    frames_a[:, :, 20:24, 40:42] = torch.tensor(BGR_C, dtype=torch.uint8)[None, :, None, None]
    frames_b, sample_b = flat_clip(3, 40, 64, BGR_B, 1)
    data = model.data_preprocessor(
        dict(inputs=[frames_a, frames_b], data_samples=[sample_a, sample_b]), True)
    return data['inputs'], data['data_samples']


def test_lab_frames_on_the_mask_grid_match_scikit_image(model):
    inputs, samples = colour_batch(model)
    assert inputs.shape == (2, 3, 3, 64, 96)
    lab, valid = model.mask_grid_colours(inputs, samples)
    assert lab.shape == (2, 3, 3, 16, 24) and lab.dtype == torch.float32
    assert valid.shape == (2, 3, 16, 24) and valid.dtype == torch.bool

    lab_a, lab_c = expected_lab(BGR_A[::-1]), expected_lab(BGR_C[::-1])
    half = expected_lab((np.asarray(BGR_A[::-1]) + np.asarray(BGR_C[::-1])) / 2)
    clip_a = lab[0].permute(0, 2, 3, 1).numpy()  # (T, h, w, 3)
    np.testing.assert_allclose(clip_a[:, 0, 0], np.tile(lab_a, (3, 1)), atol=0.01)
    np.testing.assert_allclose(clip_a[:, 1:3, 3:6], np.broadcast_to(lab_c, (3, 2, 3, 3)),
                               atol=0.01)
    np.testing.assert_allclose(clip_a[:, 5, 10], np.tile(half, (3, 1)), atol=0.01)
    assert valid[0].all()

    # clip 1 is 40 x 64: cells with centre 4 (y + .5) < 40 and 4 (x + .5) < 64 are valid
    assert valid[1, :, :10, :16].all()
    assert not valid[1, :, 10:].any() and not valid[1, :, :, 16:].any()
    clip_b = lab[1].permute(0, 2, 3, 1).numpy()
    np.testing.assert_allclose(clip_b[:, :10, :16],
                               np.broadcast_to(expected_lab(BGR_B[::-1]), (3, 10, 16, 3)),
                               atol=0.01)


@pytest.mark.parametrize('preprocessor', [
    dict(bgr_to_rgb=False),  # frames stay BGR: the detector flips them
    dict(mean=None, std=None),  # no normalisation to undo
])
def test_lab_frames_do_not_depend_on_the_preprocessor_settings(model, preprocessor):
    reference, valid = model.mask_grid_colours(*colour_batch(model))
    other = build(**preprocessor)
    lab, other_valid = other.mask_grid_colours(*colour_batch(other))
    assert torch.equal(other_valid, valid)
    # padding differs (mean colour vs black) but is invalid; every valid cell agrees
    valid = valid[:, :, None].expand_as(lab)
    torch.testing.assert_close(lab[valid], reference[valid], atol=1e-3, rtol=0)


def test_inputs_and_data_samples_must_agree(model):
    inputs, samples = colour_batch(model)
    with pytest.raises(ValueError, match='data samples describe'):
        model.mask_grid_colours(inputs[:, :2], samples)
    with pytest.raises(ValueError, match='must be'):
        model.loss(inputs[0], samples)


def test_training_step_passes_colours_to_the_head(model):
    received = {}
    head_loss = model.track_head.loss

    def recording_loss(x, data_samples, lab=None, valid_masks=None):
        received.update(lab=lab, valid=valid_masks)
        return head_loss(x, data_samples, lab=lab, valid_masks=valid_masks)

    inputs, samples = colour_batch(model)
    model.track_head.loss = recording_loss
    try:
        losses = model.loss(inputs, samples)
    finally:
        del model.track_head.loss  # back to the class method
    lab, valid = model.mask_grid_colours(inputs, samples)
    torch.testing.assert_close(received['lab'], lab)
    assert torch.equal(received['valid'], valid)
    assert all(torch.isfinite(value) for value in losses.values())


@pytest.mark.parametrize('num_frames', [2, 4])
def test_predict_returns_masks_at_the_original_frame_size(model, num_frames):
    model.eval()
    try:
        batch = synthetic_batch([ClipSpec(num_frames, (64, 96), ori_shape=(128, 192), seed=3)])
        data = model.data_preprocessor(batch, False)
        with torch.no_grad():
            (result, ) = model(**data, mode='predict')
    finally:
        model.train()
    assert len(result) == num_frames
    for frame in range(num_frames):
        pred = result[frame].pred_track_instances
        assert pred.masks.shape == (10, 128, 192) and pred.masks.dtype == torch.bool
        assert pred.bboxes.shape == (10, 4) and pred.scores.shape == (10, )
        assert ((pred.labels >= 0) & (pred.labels < 5)).all()


def test_is_registered_and_rejects_a_head_without_colour_losses():
    assert MODELS.get('MaskFreeVIS') is MaskFreeVIS
    cfg = small_model_cfg()
    cfg.track_head.type = 'Mask2FormerTrackHead'
    cfg.track_head.num_frames = 2
    with pytest.raises(TypeError, match='MaskFreeTrackHead'):
        MODELS.build(cfg)
