"""Tests of the torch sRGB -> Lab conversion."""

import numpy as np
import pytest
import torch
from skimage.color import rgb2lab

from maskfreevis.models.losses import rgb_to_lab


@pytest.mark.parametrize('dtype', [torch.uint8, torch.float32])
def test_matches_skimage_over_dense_rgb_grid(dtype):
    # uint8 takes the lookup-table path, float32 the pow path
    levels = np.arange(0, 256, 5)  # 0, 5, ..., 255: 52 levels
    assert levels[-1] == 255
    red, green, blue = np.meshgrid(levels, levels, levels, indexing='ij')
    rgb = np.stack([red, green, blue], axis=-1).reshape(52, 52 * 52, 3)
    expected = rgb2lab(rgb / 255.0)
    lab = rgb_to_lab(torch.from_numpy(rgb).permute(2, 0, 1).to(dtype))
    diff = np.abs(lab.permute(1, 2, 0).numpy() - expected)
    assert lab.dtype == torch.float32
    assert diff.max() <= 0.01


def test_known_colours_batched_shape_and_autocast():
    rgb = torch.tensor([[0.0, 255.0], [255.0, 0.0]])  # (2, 2) pixels
    image = torch.stack([rgb, rgb.T, torch.zeros(2, 2)])  # (3, 2, 2)
    batch = image.expand(2, 4, 3, 2, 2)  # non-contiguous on purpose
    with torch.autocast('cpu', dtype=torch.bfloat16):
        lab = rgb_to_lab(batch)
    assert lab.shape == (2, 4, 3, 2, 2) and lab.dtype == torch.float32
    expected = rgb2lab(image.permute(1, 2, 0).numpy() / 255.0)
    np.testing.assert_allclose(lab[1, 2].permute(1, 2, 0).numpy(), expected, atol=1e-3)
    white = rgb_to_lab(torch.full((3, 1, 1), 255.0)).flatten()
    # skimage's matrix rows do not sum exactly to the white point, so white
    # is L = 100 with a, b a few 1e-3 off zero there too
    np.testing.assert_allclose(white.numpy(), rgb2lab(np.ones((1, 1, 3))).flatten(), atol=1e-4)
    assert white[0].item() == pytest.approx(100.0, abs=1e-4)
    assert rgb_to_lab(torch.zeros(3, 1, 1)).abs().max().item() == 0.0


def test_rejects_wrong_channel_count():
    with pytest.raises(ValueError, match='3, h, w'):
        rgb_to_lab(torch.zeros(4, 5, 5))
