"""MaskFreeDataPreprocessor: mask-grid colours and valid cells, per-clip GT mask padding."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from mmdet.registry import MODELS
from mmdet.structures.mask import BitmapMasks
from skimage.color import rgb2lab

from maskfreevis.models.data_preprocessors import MaskFreeDataPreprocessor, mask_grid_lab
from maskfreevis.models.losses import rgb_to_lab
from maskfreevis.testing import ClipSpec, synthetic_batch

BGR_A = (10, 120, 240)  # RGB (240, 120, 10)
BGR_B = (200, 30, 90)
BGR_C = (90, 200, 30)
MEAN, STD = [123.675, 116.28, 103.53], [58.395, 57.12, 57.375]


def build(**overrides) -> MaskFreeDataPreprocessor:
    cfg = dict(
        type='MaskFreeDataPreprocessor',
        mean=MEAN,
        std=STD,
        bgr_to_rgb=True,
        pad_size_divisor=32,
        mask_stride=4,
    )
    cfg.update(overrides)
    return MODELS.build(cfg)


def expected_lab(rgb) -> np.ndarray:
    """scikit-image CIE-Lab (D65) of one RGB colour in 0..255."""
    return rgb2lab(np.asarray(rgb, dtype=np.float64).reshape(1, 1, 3) / 255.0)[0, 0]


def flat_clip(num_frames, height, width, bgr, video_id):
    """Uniform-colour clip with one instance; returns (frames, data sample) like the packer."""
    frames, sample = synthetic_batch(
        [ClipSpec(num_frames, (height, width), num_objects=1, video_id=video_id)]
    ).values()
    frames = frames[0].clone()
    frames[:] = torch.tensor(bgr, dtype=torch.uint8)[None, :, None, None]
    return frames, sample[0]


def colour_batch():
    """Clip 0: 64 x 96 colour A with a colour-C block on cells (1..2, 3..5) and a cell split in
    half A/C at cell (5, 10); clip 1: 40 x 64 colour B, padded to 64 x 96."""
    frames_a, sample_a = flat_clip(3, 64, 96, BGR_A, 0)
    frames_a[:, :, 4:12, 12:24] = torch.tensor(BGR_C, dtype=torch.uint8)[None, :, None, None]
    frames_a[:, :, 20:24, 40:42] = torch.tensor(BGR_C, dtype=torch.uint8)[None, :, None, None]
    frames_b, sample_b = flat_clip(3, 40, 64, BGR_B, 1)
    return dict(inputs=[frames_a, frames_b], data_samples=[sample_a, sample_b])


def attached(data):
    """``(B, T, 3, h, w)`` Lab and ``(B, T, h, w)`` valid cells the frames carry."""
    clips = data['data_samples']
    lab = torch.stack([torch.stack([c[t].mask_grid_lab for t in range(len(c))]) for c in clips])
    valid = torch.stack([torch.stack([c[t].mask_grid_valid for t in range(len(c))]) for c in clips])
    return lab, valid


def test_lab_frames_on_the_mask_grid_match_scikit_image():
    data = build()(colour_batch(), True)
    assert data['inputs'].shape == (2, 3, 3, 64, 96)
    lab, valid = attached(data)
    assert lab.shape == (2, 3, 3, 16, 24) and lab.dtype == torch.float32
    assert valid.shape == (2, 3, 16, 24) and valid.dtype == torch.bool

    lab_a, lab_c = expected_lab(BGR_A[::-1]), expected_lab(BGR_C[::-1])
    half = expected_lab((np.asarray(BGR_A[::-1]) + np.asarray(BGR_C[::-1])) / 2)
    clip_a = lab[0].permute(0, 2, 3, 1).numpy()  # (T, h, w, 3)
    np.testing.assert_allclose(clip_a[:, 0, 0], np.tile(lab_a, (3, 1)), atol=0.01)
    np.testing.assert_allclose(clip_a[:, 1:3, 3:6], np.broadcast_to(lab_c, (3, 2, 3, 3)), atol=0.01)
    np.testing.assert_allclose(clip_a[:, 5, 10], np.tile(half, (3, 1)), atol=0.01)
    assert valid[0].all()

    # clip 1 is 40 x 64: cells with centre 4 (y + .5) < 40 and 4 (x + .5) < 64 are valid
    assert valid[1, :, :10, :16].all()
    assert not valid[1, :, 10:].any() and not valid[1, :, :, 16:].any()
    clip_b = lab[1].permute(0, 2, 3, 1).numpy()
    np.testing.assert_allclose(
        clip_b[:, :10, :16], np.broadcast_to(expected_lab(BGR_B[::-1]), (3, 10, 16, 3)), atol=0.01
    )


@pytest.mark.parametrize(
    'settings',
    [
        dict(bgr_to_rgb=False),  # frames stay BGR: the preprocessor flips them
        dict(mean=None, std=None),  # no normalisation to undo
    ],
)
def test_lab_frames_do_not_depend_on_the_preprocessor_settings(settings):
    reference, valid = attached(build()(colour_batch(), True))
    lab, other_valid = attached(build(**settings)(colour_batch(), True))
    assert torch.equal(other_valid, valid)
    # padding differs (mean colour vs black) but is invalid; every valid cell agrees
    valid = valid[:, :, None].expand_as(lab)
    torch.testing.assert_close(lab[valid], reference[valid], atol=1e-3, rtol=0)


@pytest.mark.parametrize(
    'settings',
    [dict(), dict(bgr_to_rgb=False), dict(mean=None, std=None), dict(pad_size_divisor=1)],
)
def test_colours_are_bit_identical_to_the_former_detector_path(settings):
    """Before, the detector rebuilt the colours from the normalised batch; same bits now."""
    preprocessor = build(**settings)
    batch = synthetic_batch(
        [ClipSpec(3, (62, 90), seed=4), ClipSpec(3, (50, 70), seed=5, video_id=1)]
    )
    data = preprocessor(batch, True)
    lab, valid = attached(data)
    # the former MaskFreeVIS.mask_grid_colours, written out
    frames = data['inputs'].flatten(0, 1).float()
    if preprocessor._enable_normalize:
        frames = frames * preprocessor.std.view(1, -1, 1, 1) + preprocessor.mean.view(1, -1, 1, 1)
    if not preprocessor._channel_conversion:
        frames = frames.flip(1)
    frames = F.avg_pool2d(frames, kernel_size=4, stride=4, ceil_mode=True)
    former = rgb_to_lab(frames).unflatten(0, lab.shape[:2])
    assert torch.equal(lab, former)
    assert valid.shape == former[:, :, 0].shape
    if settings.get('pad_size_divisor') == 1:  # 62 x 90: partial edge cells (centre 90 >= 90)
        assert former.shape[-2:] == (16, 23)
        assert valid[0, :, :15, :22].all()
        assert not valid[0, :, 15].any() and not valid[0, :, :, 22].any()


def test_mask_grid_lab_pools_in_ceil_mode_and_checks_its_input():
    rgb = torch.zeros(2, 3, 6, 9)
    rgb[:, :, 4:, 8:] = 255.0  # the 2 x 1 corner of a partial cell
    lab = mask_grid_lab(rgb, 4)
    assert lab.shape == (2, 3, 2, 3) and lab.dtype == torch.float32
    assert lab[:, 0, 1, 2].tolist() == pytest.approx([100.0] * 2, abs=1e-3)  # white alone
    assert lab[:, 0, :, :2].abs().max() == 0  # black
    with torch.autocast('cpu', dtype=torch.bfloat16):
        assert mask_grid_lab(rgb.bfloat16(), 4).dtype == torch.float32
    with pytest.raises(ValueError, match=r'\(G, 3, H, W\)'):
        mask_grid_lab(torch.zeros(3, 6, 9), 4)


def test_frame_metainfo_must_describe_the_inputs():
    preprocessor = build()
    data = preprocessor(colour_batch(), False)
    with pytest.raises(ValueError, match='data samples describe'):
        preprocessor.mask_grid_colours(data['inputs'][:, :2], data['data_samples'])


@pytest.mark.parametrize('mask_clip_first', [True, False])
def test_mixed_batch_pads_the_masks_of_mask_clips_only(mask_clip_first):
    specs = [
        ClipSpec(3, (64, 96), with_masks=True, seed=3),
        ClipSpec(3, (40, 50), seed=4, video_id=1),
    ]
    if not mask_clip_first:
        specs = specs[::-1]
    originals = [
        [frame.gt_instances.masks.masks.copy() for frame in clip]
        for clip in synthetic_batch(specs)['data_samples']
        if 'masks' in clip[0].gt_instances
    ]
    data = build()(synthetic_batch(specs), True)
    mask_clip, box_clip = data['data_samples'][:: 1 if mask_clip_first else -1]
    for frame, original in zip(mask_clip, originals[0]):
        masks = frame.gt_instances.masks
        assert isinstance(masks, torch.Tensor) and masks.dtype == torch.bool
        assert masks.shape == (len(original), 64, 96)
        assert torch.equal(masks, torch.from_numpy(original).bool())
    for frame in box_clip:
        assert 'masks' not in frame.gt_instances
    if mask_clip_first:
        # mmdet's own padding looks at the first clip only and fails on the box-only one
        stock = MODELS.build(
            dict(
                type='TrackDataPreprocessor',
                mean=MEAN,
                std=STD,
                bgr_to_rgb=True,
                pad_mask=True,
                pad_size_divisor=32,
            )
        )
        with pytest.raises(AttributeError):
            stock(synthetic_batch(specs), True)


def test_masks_are_padded_with_zeros_to_the_batch():
    batch = synthetic_batch(
        [ClipSpec(2, (40, 50), with_masks=True, seed=6), ClipSpec(2, (64, 96), seed=7, video_id=1)]
    )
    data = build()(batch, True)
    masks = data['data_samples'][0][1].gt_instances.masks
    assert masks.shape[-2:] == (64, 96)
    assert masks[:, :40, :50].any() and not masks[:, 40:].any() and not masks[:, :, 50:].any()


def test_masks_larger_than_the_batch_are_reported():
    batch = synthetic_batch([ClipSpec(2, (40, 50), with_masks=True, seed=6, video_id=5)])
    batch['data_samples'][0][1].gt_instances.masks = BitmapMasks(
        np.zeros((2, 80, 50), dtype=np.uint8), 80, 50
    )
    with pytest.raises(
        ValueError,
        match=r'video 5 frame 1: GT masks of size \(80, 50\) '
        r'exceed the padded batch size \(64, 64\)',
    ):
        build()(batch, True)


def test_test_time_is_the_stock_preprocessor():
    batch = synthetic_batch([ClipSpec(2, (40, 50), with_masks=True, seed=8)])
    data = build()(batch, False)
    frame = data['data_samples'][0][0]
    assert 'mask_grid_lab' not in frame and 'mask_grid_valid' not in frame
    assert isinstance(frame.gt_instances.masks, BitmapMasks)  # untouched


def test_pad_mask_is_ignored_and_det_processing_rejected():
    assert build(pad_mask=True).pad_mask is False  # own per-clip padding instead
    with pytest.raises(ValueError, match='use_det_processor'):
        build(use_det_processor=True)


# ----------------------------------------------------------------- colour_space='release'
# The release (reference doc, section 1.1): raw 8-bit RGB frames zero-padded to the batch,
# avg-pooled 4 x 4, channels reversed ([2, 1, 0]), truncated to uint8 (.byte()), then
# skimage.color.rgb2lab on that uint8 image. Expected values below are worked out by hand as
# the integer colour the release hands rgb2lab, then converted by rgb2lab itself.


def release_lab(bgr_integers) -> np.ndarray:
    """rgb2lab of the uint8 colour the release passes it (already channel-reversed: B, G, R)."""
    return rgb2lab(np.asarray(bgr_integers, dtype=np.uint8).reshape(1, 1, 3))[0, 0]


def uniform_rgb_clip(rgb, height=64, width=96, num_frames=2, video_id=0):
    """A flat clip of one RGB colour (frames are BGR as loaded) with one instance."""
    return flat_clip(num_frames, height, width, tuple(rgb[::-1]), video_id)


def test_release_colours_are_channel_reversed_and_truncated_with_black_padding():
    # clip 0 (64 x 96): RGB red (255, 0, 0) everywhere except cell (1, 1), whose 4 x 4 pixels
    # hold R = 101 (15 pixels) and 100 (1 pixel): mean 100.9375, G = 30, B = 200.
    # clip 1 (42 x 60, padded to 64 x 96): grey 201; cell row 10 covers rows 40..43, two of
    # them image, two black padding: mean 100.5 per channel.
    frames_a, sample_a = uniform_rgb_clip((255, 0, 0))
    cell = torch.tensor([200, 30, 101], dtype=torch.uint8)[:, None, None]  # BGR
    frames_a[:, :, 4:8, 4:8] = cell
    frames_a[:, 2, 7, 7] = 100
    frames_b, sample_b = uniform_rgb_clip((201, 201, 201), 42, 60, video_id=1)
    data = build(colour_space='release')(
        dict(inputs=[frames_a, frames_b], data_samples=[sample_a, sample_b]), True
    )
    lab, valid = attached(data)
    lab = lab.permute(0, 1, 3, 4, 2).numpy()  # (B, T, h, w, 3)
    # red read as (B, G, R) = (0, 0, 255): rgb2lab sees pure blue
    np.testing.assert_allclose(
        lab[0, :, 0, 0], np.tile(release_lab((0, 0, 255)), (2, 1)), atol=0.01
    )
    np.testing.assert_allclose(release_lab((0, 0, 255)), (32.30, 79.19, -107.86), atol=0.01)
    # truncation, not rounding: 100.9375 -> 100
    np.testing.assert_allclose(
        lab[0, :, 1, 1], np.tile(release_lab((200, 30, 100)), (2, 1)), atol=0.01
    )
    # grey 201 inside the image, 100.5 -> 100 on the half-black row 10, black (Lab 0) below
    np.testing.assert_allclose(
        lab[1, :, 9, 14], np.tile(release_lab((201,) * 3), (2, 1)), atol=0.01
    )
    np.testing.assert_allclose(
        lab[1, :, 10, :15], np.broadcast_to(release_lab((100,) * 3), (2, 15, 3)), atol=0.01
    )
    assert np.abs(lab[1, :, 11:]).max() == 0 and np.abs(lab[1, :, :, 15:]).max() == 0
    # the padding is still marked invalid (whether a loss uses that is the loss's choice)
    assert not valid[1, :, 11:].any() and valid[1, :, :10, :15].all()


def test_release_colours_recover_the_8bit_values_from_the_normalised_frames():
    # these channel values come back from (x - mean) / std * std + mean a hair below x in
    # float32 (61.99999...), which truncation would turn into 61: they must read as themselves
    frames, sample = uniform_rgb_clip((62, 56, 45))
    lab, _ = attached(
        build(colour_space='release')(dict(inputs=[frames], data_samples=[sample]), True)
    )
    expected = release_lab((45, 56, 62))
    np.testing.assert_allclose(
        lab[0].permute(0, 2, 3, 1).numpy(),
        np.broadcast_to(expected, (2, 16, 24, 3)),
        atol=0.01,
    )


@pytest.mark.parametrize('settings', [dict(bgr_to_rgb=False), dict(mean=None, std=None)])
def test_release_colours_do_not_depend_on_the_preprocessor_settings(settings):
    batch = lambda: synthetic_batch(  # noqa: E731
        [ClipSpec(3, (62, 90), seed=4, pixel_noise=20), ClipSpec(3, (50, 70), seed=5, video_id=1)]
    )
    reference, _ = attached(build(colour_space='release')(batch(), True))
    lab, _ = attached(build(colour_space='release', **settings)(batch(), True))
    assert torch.equal(lab, reference)  # padding included: black in every setting


def test_release_colours_differ_from_rgb_and_rgb_stays_the_default():
    batch = lambda: synthetic_batch([ClipSpec(2, (64, 96), seed=9)])  # noqa: E731
    assert build().colour_space == 'rgb'
    rgb, _ = attached(build()(batch(), True))
    default, _ = attached(build(colour_space='rgb')(batch(), True))
    release, _ = attached(build(colour_space='release')(batch(), True))
    assert torch.equal(rgb, default)
    assert (release - rgb).abs().amax() > 10


def test_mask_grid_lab_release_pads_partial_cells_with_black():
    rgb = torch.zeros(1, 3, 6, 9)
    rgb[:, 0] = 255.0  # red
    lab = mask_grid_lab(rgb, 4, 'release')
    assert lab.shape == (1, 3, 2, 3)
    lab = lab[0].permute(1, 2, 0).numpy()
    # full cells: blue; bottom row (2 of 4 rows image): 127.5 -> 127; corner: 2 x 1 of 16
    # pixels -> 31.875 -> 31
    np.testing.assert_allclose(
        lab[0, :2], np.broadcast_to(release_lab((0, 0, 255)), (2, 3)), atol=0.01
    )
    np.testing.assert_allclose(lab[1, 0], release_lab((0, 0, 127)), atol=0.01)
    np.testing.assert_allclose(lab[0, 2], release_lab((0, 0, 63)), atol=0.01)
    np.testing.assert_allclose(lab[1, 2], release_lab((0, 0, 31)), atol=0.01)


def test_unknown_colour_space_is_named():
    with pytest.raises(
        ValueError, match=r"colour_space must be one of \('rgb', 'release'\), got 'bgr'"
    ):
        build(colour_space='bgr')
    with pytest.raises(ValueError, match="got 'lab'"):
        mask_grid_lab(torch.zeros(1, 3, 4, 4), 4, 'lab')
