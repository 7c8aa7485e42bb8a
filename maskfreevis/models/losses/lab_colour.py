"""sRGB -> CIE-Lab conversion in torch, on the tensor's own device.

Shape letters (one meaning across ``maskfreevis.models``): h, w the size of the converted image
(the mask grid in the model, any size here).
"""

import torch
from torch import Tensor

__all__ = ['rgb_to_lab']

# sRGB (linear) -> XYZ matrix and D65 2-degree white point, the constants
# scikit-image uses, so thresholds tuned on skimage Lab carry over unchanged.
_XYZ_FROM_LINEAR_RGB = (
    (0.412453, 0.357580, 0.180423),
    (0.212671, 0.715160, 0.072169),
    (0.019334, 0.119193, 0.950227),
)
_D65_WHITE = (0.95047, 1.0, 1.08883)
# (L, a, b) = _LAB_FROM_F @ (f(X), f(Y), f(Z)) + (-16, 0, 0)
_LAB_FROM_F = ((0.0, 116.0, 0.0), (500.0, -500.0, 0.0), (0.0, 200.0, -200.0))
_LAB_EPSILON = 0.008856
_LAB_LINEAR_SLOPE = 7.787


def _srgb_to_linear(rgb01: Tensor) -> Tensor:
    """Undo the sRGB gamma. ``rgb01`` in [0, 1], any shape."""
    return torch.where(rgb01 > 0.04045, ((rgb01 + 0.055) / 1.055).pow(2.4), rgb01 / 12.92)


def _linear_from_integer_rgb(rgb: Tensor) -> Tensor:
    """Gamma removal of integer 0..255 values through a 256-entry table.

    Images usually arrive as uint8; the lookup replaces ``pow(2.4)`` and is
    exact (the table is built in float64).
    """
    levels = torch.arange(256, dtype=torch.float64, device=rgb.device)
    table = _srgb_to_linear(levels / 255.0).float()
    index = rgb.int() if rgb.dtype == torch.uint8 else rgb.clamp(0, 255).int()
    return table[index]


def rgb_to_lab(rgb: Tensor) -> Tensor:
    """Convert sRGB values in 0..255 to CIE-Lab (D65, 2 degree observer).

    Matches ``skimage.color.rgb2lab(rgb / 255)`` (<= 0.01 max abs over the
    RGB cube) without leaving the tensor's device. Always computed in
    float32, also under ``torch.autocast``. Meant for images (no gradient).

    Args:
        rgb: ``(..., 3, h, w)`` R, G, B values in [0, 255]; any real dtype
            (integer dtypes such as uint8 take a faster table lookup).

    Returns:
        ``(..., 3, h, w)`` float32 tensor holding L, a, b on ``rgb.device``.
    """
    if rgb.dim() < 3 or rgb.shape[-3] != 3:
        raise ValueError(
            f'rgb_to_lab expects a (..., 3, h, w) tensor, got shape {tuple(rgb.shape)}'
        )
    with torch.autocast(device_type=rgb.device.type, enabled=False):
        if rgb.is_floating_point():
            linear = _srgb_to_linear(rgb.float() / 255.0)
        else:
            linear = _linear_from_integer_rgb(rgb)
        # channel mixing as a (3, 3) @ (..., 3, h*w) matmul: no permute
        white = torch.tensor(_D65_WHITE, device=rgb.device)
        xyz_from_rgb = torch.tensor(_XYZ_FROM_LINEAR_RGB, device=rgb.device) / white[:, None]
        xyz = torch.matmul(xyz_from_rgb, linear.flatten(-2))
        # xyz >= 0, so the cube root is real wherever it is selected
        companded = torch.where(
            xyz > _LAB_EPSILON, xyz.pow(1.0 / 3.0), _LAB_LINEAR_SLOPE * xyz + 16.0 / 116.0
        )
        lab_from_f = torch.tensor(_LAB_FROM_F, device=rgb.device)
        lab = torch.matmul(lab_from_f, companded)
        lab[..., 0, :] -= 16.0
        return lab.view(rgb.shape)
