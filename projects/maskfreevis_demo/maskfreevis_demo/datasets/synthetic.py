"""Seeded generator of a small YouTube-VIS-format video dataset for demos, tests and benchmarks.

Every video shows a few textured objects of four shape classes (``ellipse``, ``polygon``, ``star``,
``blob``) over a textured background. Objects translate, rotate and change scale, occlude one
another by a fixed depth order, and enter or leave the frame; the whole frame gets a mild, smoothly
changing illumination (gain + drifting linear gradient), a small camera jitter, sensor noise and
JPEG compression.

Output (the ORIGINAL YouTube-VIS json layout, not mmdet's CocoVID)::

    <out>/annotations/train.json             boxes only: "segmentations": null
    <out>/annotations/train_with_masks.json  same videos with masks (upper bound runs only)
    <out>/annotations/val.json               boxes + RLE masks, for evaluation
    <out>/<split>/JPEGImages/<video>/<frame>.jpg

Boxes, areas and masks describe the *visible* part of each object (after occlusion and cropping by
the frame border), as YouTube-VIS does. An instance whose visible area in a frame is below
``min_visible_pixels`` counts as absent there (``null`` box/segmentation/area).

Determinism: each video draws from its own ``SeedSequence([seed, split, index])``, so the same seed
gives byte-identical json and JPEG files, and changing the number of videos leaves earlier videos
unchanged.

CLI::

    python -m maskfreevis_demo.datasets.synthetic --out data/synthetic_vis --seed 0
"""

import colorsys
from dataclasses import asdict, dataclass
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import cv2
import numpy as np

from .vis_json_writer import (
    RenderedVideo,
    annotation_paths,
    dataset_info_matches,
    generator_command_line,
    write_dataset,
    write_split,
)

__all__ = [
    'CATEGORIES',
    'SyntheticVISSettings',
    'render_video',
    'generate_split',
    'generate_synthetic_vis',
    'synthetic_dataset_exists',
    'annotation_paths',
]

CATEGORIES: List[Dict] = [
    dict(id=1, name='ellipse'),
    dict(id=2, name='polygon'),
    dict(id=3, name='star'),
    dict(id=4, name='blob'),
]
GENERATOR_VERSION = 2


@dataclass(frozen=True)
class SyntheticVISSettings:
    """Everything that determines the generated data besides the seed."""

    num_train_videos: int = 600
    num_val_videos: int = 50
    num_frames: int = 10
    height: int = 64
    width: int = 96
    min_objects: int = 1
    max_objects: int = 3
    min_radius: float = 10.0
    max_radius: float = 18.0
    min_visible_pixels: int = 12
    jitter_px: float = 1.5
    noise_std: float = 3.0
    jpeg_quality: int = 92

    def __post_init__(self) -> None:
        if self.num_frames < 1 or self.height < 16 or self.width < 16:
            raise ValueError(
                f'num_frames >= 1 and a frame of at least 16x16 are required, got '
                f'{self.num_frames} frames of {self.height}x{self.width}'
            )
        if not 1 <= self.min_objects <= self.max_objects:
            raise ValueError(
                f'need 1 <= min_objects <= max_objects, got {self.min_objects}, {self.max_objects}'
            )
        if not 0 < self.min_radius <= self.max_radius:
            raise ValueError(
                f'need 0 < min_radius <= max_radius, got {self.min_radius}, {self.max_radius}'
            )


@dataclass
class _ObjectTrack:
    """One object's appearance and its per-frame pose over a video."""

    category: int  # index into CATEGORIES
    radius_fn: Callable[[np.ndarray], np.ndarray]  # angle -> boundary radius (object units)
    texture_fn: Callable[[np.ndarray, np.ndarray], np.ndarray]  # (u, v) -> (..., 3) RGB
    centres: np.ndarray  # (T, 2) x, y in px (scene coordinates, before camera jitter)
    angles: np.ndarray  # (T,) rad
    scales: np.ndarray  # (T,) px per object unit


# --------------------------------------------------------------------------------------------
# shapes: each class is a star-shaped region {rho <= R(theta)} in object coordinates


def _ellipse_radius(rng: np.random.Generator):
    a = 1.0
    b = rng.uniform(0.5, 0.85)

    def radius(theta: np.ndarray) -> np.ndarray:
        return a * b / np.sqrt((b * np.cos(theta)) ** 2 + (a * np.sin(theta)) ** 2)

    return radius


def _polygon_vertices_radius(vertex_angles: np.ndarray, vertex_radii: np.ndarray):
    """Boundary radius of a star-shaped polygon given vertices in polar form (angles sorted)."""
    order = np.argsort(vertex_angles)
    ang = np.concatenate([vertex_angles[order], vertex_angles[order][:1] + 2 * np.pi])
    rad = np.concatenate([vertex_radii[order], vertex_radii[order][:1]])

    def radius(theta: np.ndarray) -> np.ndarray:
        t = np.mod(theta - ang[0], 2 * np.pi) + ang[0]
        i = np.clip(np.searchsorted(ang, t, side='right') - 1, 0, len(ang) - 2)
        a0, a1, r0, r1 = ang[i], ang[i + 1], rad[i], rad[i + 1]
        # ray/segment intersection for the edge between vertex i and i+1
        return r0 * r1 * np.sin(a1 - a0) / (r0 * np.sin(t - a0) + r1 * np.sin(a1 - t))

    return radius


def _polygon_radius(rng: np.random.Generator):
    # triangles and quadrilaterals: with 5+ corners a 20-36 px polygon looks like a disc, and the
    # class would no longer be recognisable from the shape
    n = int(rng.integers(3, 5))
    angles = (np.arange(n) + rng.uniform(-0.15, 0.15, n)) * (2 * np.pi / n)
    radii = rng.uniform(0.85, 1.0, n)
    return _polygon_vertices_radius(angles, radii)


def _star_radius(rng: np.random.Generator):
    n = int(rng.integers(4, 7))
    inner = rng.uniform(0.4, 0.55)
    angles = np.arange(2 * n) * (np.pi / n)
    radii = np.where(np.arange(2 * n) % 2 == 0, 1.0, inner)
    return _polygon_vertices_radius(angles, radii)


def _blob_radius(rng: np.random.Generator):
    harmonics = np.arange(2, 5)
    # lobes large enough to tell a blob from an ellipse at 20-36 px
    amplitudes = rng.uniform(0.1, 0.2, len(harmonics))
    phases = rng.uniform(0, 2 * np.pi, len(harmonics))
    norm = 1.0 + amplitudes.sum()

    def radius(theta: np.ndarray) -> np.ndarray:
        waves = np.cos(theta[..., None] * harmonics + phases) * amplitudes
        return (1.0 + waves.sum(-1)) / norm

    return radius


_SHAPE_FACTORIES = (_ellipse_radius, _polygon_radius, _star_radius, _blob_radius)


# --------------------------------------------------------------------------------------------
# appearance


def _random_colour(
    rng: np.random.Generator, saturation: Tuple[float, float], value: Tuple[float, float]
) -> np.ndarray:
    """An RGB colour (3,) in 0..255 drawn uniformly in (a box of) HSV space."""
    rgb = colorsys.hsv_to_rgb(rng.uniform(0, 1), rng.uniform(*saturation), rng.uniform(*value))
    return 255.0 * np.array(rgb)


def _object_texture(rng: np.random.Generator):
    """Texture of an object, defined in its own (rotating, scaling) coordinates."""
    colour_a = _random_colour(rng, (0.5, 1.0), (0.55, 1.0))
    colour_b = colour_a * rng.uniform(0.45, 0.75)  # darker shade of the same hue
    kind = int(rng.integers(0, 4))
    period = rng.uniform(0.35, 0.7)  # in object units (radius = 1)
    direction = rng.uniform(0, np.pi)

    def texture(u: np.ndarray, v: np.ndarray) -> np.ndarray:
        if kind == 0:  # stripes
            p = 0.5 + 0.5 * np.sin(
                2 * np.pi * (u * np.cos(direction) + v * np.sin(direction)) / period
            )
        elif kind == 1:  # checker
            p = (np.floor(u / period) + np.floor(v / period)) % 2
        elif kind == 2:  # rings
            p = 0.5 + 0.5 * np.sin(2 * np.pi * np.hypot(u, v) / period)
        else:  # spots
            p = (np.sin(2 * np.pi * u / period) * np.sin(2 * np.pi * v / period) > 0.3) * 1.0
        return colour_a + (colour_b - colour_a) * p[..., None]

    return texture


def _background(rng: np.random.Generator, height: int, width: int) -> np.ndarray:
    """A textured background canvas (height, width, 3) float RGB: gratings + smooth noise."""
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float64)
    pattern = np.zeros((height, width))
    for _ in range(3):
        freq = rng.uniform(0.03, 0.18)
        theta = rng.uniform(0, np.pi)
        amplitude = rng.uniform(0.3, 1.0)
        phase = rng.uniform(0, 2 * np.pi)
        pattern += amplitude * np.sin(
            2 * np.pi * freq * (xs * np.cos(theta) + ys * np.sin(theta)) + phase
        )
    coarse = rng.normal(size=(max(2, height // 8), max(2, width // 8)))
    pattern += 1.2 * cv2.resize(coarse, (width, height), interpolation=cv2.INTER_CUBIC)
    pattern = (pattern - pattern.min()) / max(np.ptp(pattern), 1e-6)
    colour_a = _random_colour(rng, (0.1, 0.6), (0.25, 0.9))
    colour_b = _random_colour(rng, (0.1, 0.6), (0.25, 0.9))
    canvas = colour_a + (colour_b - colour_a) * pattern[..., None]
    return canvas + rng.normal(0, 4.0, canvas.shape)  # fine grain


# --------------------------------------------------------------------------------------------
# motion


def _smooth_walk(rng: np.random.Generator, num_frames: int, step_std: float) -> np.ndarray:
    """A smooth random sequence (T,) starting at 0, for gentle accelerations and jitter."""
    steps = rng.normal(0, step_std, num_frames)
    steps[0] = 0
    walk = np.cumsum(steps)
    return walk - walk.mean()


def _triangle_wave(x: np.ndarray, low: float, high: float) -> np.ndarray:
    """Reflect positions into [low, high], i.e. bounce off the walls."""
    span = high - low
    y = np.mod(x - low, 2 * span)
    return low + np.where(y > span, 2 * span - y, y)


def _entering_path(
    rng: np.random.Generator, t: np.ndarray, size: float, width: int, height: int
) -> np.ndarray:
    """Centres (T, 2) of an object that starts outside one frame edge and moves inwards."""
    edge = int(rng.integers(0, 4))  # left, right, top, bottom
    outside = rng.uniform(0.3, 1.1) * size
    along = rng.uniform(0.2, 0.8)
    inward = rng.uniform(-np.pi / 4, np.pi / 4) + (0.0, np.pi, np.pi / 2, -np.pi / 2)[edge]
    start = (
        (-outside, along * height),
        (width + outside, along * height),
        (along * width, -outside),
        (along * width, height + outside),
    )[edge]
    speed = rng.uniform(1.5, 3.0)
    return np.asarray(start) + t[:, None] * speed * np.array([np.cos(inward), np.sin(inward)])


def _sample_track(rng: np.random.Generator, settings: SyntheticVISSettings) -> _ObjectTrack:
    t = np.arange(settings.num_frames, dtype=np.float64)
    h, w = settings.height, settings.width
    category = int(rng.integers(0, len(CATEGORIES)))
    size = rng.uniform(settings.min_radius, settings.max_radius)
    scales = size * (
        1
        + rng.uniform(0.0, 0.25)
        * np.sin(2 * np.pi * t / rng.uniform(8, 20) + rng.uniform(0, 2 * np.pi))
    )
    angles = rng.uniform(0, 2 * np.pi) + rng.uniform(-0.15, 0.15) * t
    mode = rng.choice(['wander', 'enter', 'leave'], p=[0.5, 0.25, 0.25])
    if mode == 'wander':
        speed = rng.uniform(0.5, 2.5)
        heading = rng.uniform(0, 2 * np.pi)
        start = rng.uniform([0.2 * w, 0.2 * h], [0.8 * w, 0.8 * h])
        path = start + t[:, None] * speed * np.array([np.cos(heading), np.sin(heading)])
        path += np.stack([_smooth_walk(rng, len(t), 0.4), _smooth_walk(rng, len(t), 0.4)], 1)
        # bounce off walls a little inside the frame
        centres = np.stack(
            [
                _triangle_wave(path[:, 0], 0.1 * w, 0.9 * w),
                _triangle_wave(path[:, 1], 0.1 * h, 0.9 * h),
            ],
            1,
        )
    else:
        centres = _entering_path(rng, t, size, w, h)
        if mode == 'leave':  # a leaving object is an entering one played backwards
            centres = centres[::-1].copy()
    return _ObjectTrack(
        category, _SHAPE_FACTORIES[category](rng), _object_texture(rng), centres, angles, scales
    )


# --------------------------------------------------------------------------------------------
# rendering


def _render_object(
    track: _ObjectTrack, frame: int, xs: np.ndarray, ys: np.ndarray
) -> Tuple[np.ndarray, np.ndarray]:
    """Coverage (H, W) in [0, 1] and colour (H, W, 3) of one object in one frame."""
    cx, cy = track.centres[frame]
    cos, sin = np.cos(track.angles[frame]), np.sin(track.angles[frame])
    dx, dy = xs - cx, ys - cy
    u = cos * dx + sin * dy
    v = -sin * dx + cos * dy
    rho = np.hypot(u, v)
    theta = np.arctan2(v, u)
    boundary = track.radius_fn(theta) * track.scales[frame]
    # signed radial distance (px) as a cheap anti-aliased coverage
    coverage = np.clip(boundary - rho + 0.5, 0.0, 1.0)
    colour = track.texture_fn(u / track.scales[frame], v / track.scales[frame])
    return coverage, colour


def render_video(
    rng: np.random.Generator, settings: SyntheticVISSettings
) -> Tuple[np.ndarray, np.ndarray, List[int]]:
    """Render one video.

    Returns:
        frames: (T, H, W, 3) uint8 RGB.
        visible: (K, T, H, W) bool visible mask of each of the K objects (after occlusion).
        categories: K category ids (1-based, as in ``CATEGORIES``).
    """
    h, w, num_frames = settings.height, settings.width, settings.num_frames
    margin = int(np.ceil(settings.jitter_px)) + 1
    canvas = _background(rng, h + 2 * margin, w + 2 * margin)
    num_objects = int(rng.integers(settings.min_objects, settings.max_objects + 1))
    tracks = [_sample_track(rng, settings) for _ in range(num_objects)]  # list order = depth
    jitter = np.stack(
        [
            _smooth_walk(rng, num_frames, settings.jitter_px / 2),
            _smooth_walk(rng, num_frames, settings.jitter_px / 2),
        ],
        1,
    )
    jitter = np.clip(np.round(jitter), -margin + 1, margin - 1).astype(int)
    gain = 1 + rng.uniform(0.03, 0.12) * np.sin(
        2 * np.pi * np.arange(num_frames) / rng.uniform(8, 24) + rng.uniform(0, 2 * np.pi)
    )
    gradient_dir = rng.uniform(0, 2 * np.pi) + np.linspace(0, rng.uniform(-0.6, 0.6), num_frames)
    gradient_strength = rng.uniform(0.0, 0.15)

    ys, xs = np.mgrid[0:h, 0:w].astype(np.float64)
    xn, yn = xs / w - 0.5, ys / h - 0.5
    frames = np.empty((num_frames, h, w, 3), np.uint8)
    owner = np.full((num_frames, h, w), -1, np.int64)
    for f in range(num_frames):
        jx, jy = jitter[f]
        image = canvas[margin + jy : margin + jy + h, margin + jx : margin + jx + w].copy()
        # camera moves by (jx, jy): the scene (objects) shifts by the opposite amount
        for k, track in enumerate(tracks):
            coverage, colour = _render_object(track, f, xs + jx, ys + jy)
            image += coverage[..., None] * (colour - image)
            owner[f][coverage >= 0.5] = k
        light = gain[f] * (
            1 + gradient_strength * (np.cos(gradient_dir[f]) * xn + np.sin(gradient_dir[f]) * yn)
        )
        image = image * light[..., None] + rng.normal(0, settings.noise_std, image.shape)
        frames[f] = np.clip(np.round(image), 0, 255).astype(np.uint8)
    visible = owner[None] == np.arange(num_objects)[:, None, None, None]
    categories = [CATEGORIES[t.category]['id'] for t in tracks]
    return frames, visible, categories


# --------------------------------------------------------------------------------------------
# writing


def generate_split(
    out_dir: str, split: str, seed: int, settings: SyntheticVISSettings, show_progress: bool = True
) -> Tuple[Dict, Dict]:
    """Render the videos of one split, write their JPEGs, return ``(box_only, with_masks)`` jsons.

    The two json dicts share videos, ids and boxes; ``box_only`` has ``"segmentations": null``.
    """
    num_videos = settings.num_train_videos if split == 'train' else settings.num_val_videos
    info = dict(
        description=f'maskfreevis synthetic VIS ({split})',
        seed=seed,
        generator_version=GENERATOR_VERSION,
        settings=asdict(settings),
    )

    def render(rng: np.random.Generator) -> RenderedVideo:
        return RenderedVideo(*render_video(rng, settings))

    return write_split(
        out_dir,
        split,
        seed,
        num_videos,
        render,
        settings.min_visible_pixels,
        settings.jpeg_quality,
        info,
        CATEGORIES,
        show_progress,
    )


def synthetic_dataset_exists(out_dir: str, seed: int, settings: SyntheticVISSettings) -> bool:
    """True when ``out_dir`` holds a complete dataset generated with this seed and settings."""
    expected = dict(seed=seed, generator_version=GENERATOR_VERSION, settings=asdict(settings))
    return dataset_info_matches(out_dir, expected)


def generate_synthetic_vis(
    out_dir: str,
    seed: int = 0,
    settings: Optional[SyntheticVISSettings] = None,
    show_progress: bool = True,
) -> Dict[str, str]:
    """Write the train and val splits under ``out_dir``; returns the json paths by name.

    ``train.json`` (boxes only) is what mask-free training reads; ``train_with_masks.json`` exists
    only for the fully supervised upper bound of the supervision comparison; ``val.json`` carries
    masks for mask AP.
    """
    settings = settings or SyntheticVISSettings()
    return write_dataset(
        out_dir, lambda split: generate_split(out_dir, split, seed, settings, show_progress)
    )


def main(argv: Optional[Sequence[str]] = None) -> None:
    generator_command_line(
        argv,
        __doc__.split('\n')[0],
        SyntheticVISSettings,
        generate_synthetic_vis,
        'data/synthetic_vis',
    )


if __name__ == '__main__':
    main()
