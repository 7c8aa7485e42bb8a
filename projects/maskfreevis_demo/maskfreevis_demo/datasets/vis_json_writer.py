"""Writer of generated YouTube-VIS-format datasets, shared by the dataset generators.

A generator supplies one function that renders a video from a random generator; this module seeds
it per video, redraws videos in which an object is never visible, writes the JPEG frames and builds
the ORIGINAL YouTube-VIS json (not mmdet's CocoVID)::

    <out>/annotations/train.json             boxes only: "segmentations": null
    <out>/annotations/train_with_masks.json  same videos with masks (upper bound runs only)
    <out>/annotations/val.json               boxes + RLE masks, for evaluation
    <out>/<split>/JPEGImages/<video>/<frame>.jpg

Boxes, areas and masks describe the *visible* part of each object; an instance whose visible area
in a frame is below ``min_visible_pixels`` counts as absent there (``null`` box/segmentation/area).

A generator writes only into an empty or new folder, or into one it wrote before (marked by
``generated_by_maskfreevis.json``, written first, or by the generator's ``info`` in its jsons) that
holds nothing else: a user's own dataset given as the output folder is refused, never replaced.
The jsons are written to ``<name>.partial`` and renamed when complete.
"""

import argparse
import json
import os
import os.path as osp
import re
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

import cv2
import numpy as np
import pycocotools.mask as mask_utils
from tqdm import tqdm

__all__ = [
    'write_dataset',
    'generator_command_line',
    'SPLIT_KEYS',
    'RenderedVideo',
    'video_rng',
    'mask_annotation',
    'write_video_frames',
    'track_annotations',
    'write_split',
    'dump_json',
    'annotation_paths',
    'dataset_info_matches',
    'GENERATED_MARKER',
    'check_output_folder',
]

# part of every video's seed, so train and val never share a random stream
SPLIT_KEYS = {'train': 0, 'val': 1}
# written into the output folder before anything else: the folder is the generator's to rewrite
GENERATED_MARKER = 'generated_by_maskfreevis.json'
# what a generator writes, relative to its output folder ('/'-separated; a video folder's frames)
_GENERATED_TOP = {'annotations', GENERATED_MARKER, *SPLIT_KEYS}
_GENERATED_VIDEO = re.compile(r'^video_\d{4,}$')
_GENERATED_FRAME = re.compile(r'^\d{5,}\.jpg$')
_PARTIAL_SUFFIX = '.partial'


@dataclass
class RenderedVideo:
    """One rendered video and the visible mask of each of its K objects.

    Attributes:
        frames: (T, H, W, 3) uint8 RGB.
        visible: (K, T, H, W) bool visible mask of each object (after occlusion).
        category_ids: K category ids.
        video_fields: extra keys for the video's json entry (e.g. where its background came from).
    """

    frames: np.ndarray
    visible: np.ndarray
    category_ids: List[int]
    video_fields: Dict[str, Any] = field(default_factory=dict)


def video_rng(seed: int, split: str, index: int) -> np.random.Generator:
    """The random generator of one video: ``SeedSequence([seed, split, index])``.

    Each video owning its stream keeps earlier videos unchanged when more videos are requested.
    """
    return np.random.default_rng(np.random.SeedSequence([seed, SPLIT_KEYS[split], index]))


def mask_annotation(mask: np.ndarray) -> Tuple[List[float], Dict, int]:
    """Box ``[x, y, w, h]``, RLE (``counts`` as str) and area of a bool (H, W) mask.

    The mask must hold at least one pixel.
    """
    rows = np.flatnonzero(mask.any(1))
    cols = np.flatnonzero(mask.any(0))
    box = [
        float(cols[0]),
        float(rows[0]),
        float(cols[-1] - cols[0] + 1),
        float(rows[-1] - rows[0] + 1),
    ]
    rle = mask_utils.encode(np.asfortranarray(mask.astype(np.uint8)))
    rle['counts'] = rle['counts'].decode('ascii')
    return box, rle, int(mask.sum())


def write_video_frames(
    image_root: str, video_name: str, frames: np.ndarray, jpeg_quality: int
) -> List[str]:
    """Write (T, H, W, 3) uint8 RGB frames as ``<video_name>/<frame:05d>.jpg`` under ``image_root``.

    Returns the T file names relative to ``image_root``.
    """
    os.makedirs(osp.join(image_root, video_name), exist_ok=True)
    encode = [int(cv2.IMWRITE_JPEG_QUALITY), jpeg_quality]
    file_names = []
    for index, frame in enumerate(frames):
        file_name = f'{video_name}/{index:05d}.jpg'
        path = osp.join(image_root, file_name)
        if not cv2.imwrite(path, frame[..., ::-1], encode):
            raise OSError(f'could not write {path}')
        file_names.append(file_name)
    return file_names


def track_annotations(
    visible: np.ndarray,
    present: np.ndarray,
    category_ids: Sequence[int],
    video_id: int,
    first_id: int,
) -> List[Dict]:
    """One YouTube-VIS annotation (object track) per object of a video.

    Args:
        visible: (K, T, H, W) bool visible masks.
        present: (K, T) bool; frames where it is False get ``null`` box, area and segmentation.
        category_ids: K category ids.
        video_id: id of the video the tracks belong to.
        first_id: annotation id of the first track; the others follow consecutively.
    """
    num_frames, height, width = visible.shape[1:]
    annotations = []
    for k, category_id in enumerate(category_ids):
        bboxes, segmentations, areas = [], [], []
        for frame in range(num_frames):
            if present[k, frame]:
                box, rle, area = mask_annotation(visible[k, frame])
            else:
                box, rle, area = None, None, None
            bboxes.append(box)
            segmentations.append(rle)
            areas.append(area)
        annotations.append(
            dict(
                id=first_id + k,
                video_id=video_id,
                category_id=category_id,
                iscrowd=0,
                width=width,
                height=height,
                length=1,
                bboxes=bboxes,
                areas=areas,
                segmentations=segmentations,
            )
        )
    return annotations


def write_split(
    out_dir: str,
    split: str,
    seed: int,
    num_videos: int,
    render: Callable[[np.random.Generator], RenderedVideo],
    min_visible_pixels: int,
    jpeg_quality: int,
    info: Dict,
    categories: List[Dict],
    show_progress: bool = True,
) -> Tuple[Dict, Dict]:
    """Render and write the videos of one split; return its ``(box_only, with_masks)`` jsons.

    ``render`` draws one video from the video's own generator; while an object is never visible
    (``min_visible_pixels`` in no frame) it is called again on the same generator. The two json
    dicts share videos, ids and boxes; ``box_only`` has ``"segmentations": null``.
    """
    if split not in SPLIT_KEYS:
        raise ValueError(f'unknown split {split!r}, expected one of {sorted(SPLIT_KEYS)}')
    image_root = osp.join(out_dir, split, 'JPEGImages')
    videos, annotations = [], []
    for index in tqdm(range(num_videos), desc=f'generating {split}', disable=not show_progress):
        rng = video_rng(seed, split, index)
        video = render(rng)
        present = video.visible.sum((2, 3)) >= min_visible_pixels  # (K, T)
        while not present.any(1).all():
            video = render(rng)
            present = video.visible.sum((2, 3)) >= min_visible_pixels
        name = f'video_{index:04d}'
        file_names = write_video_frames(image_root, name, video.frames, jpeg_quality)
        height, width = video.frames.shape[1:3]
        video_id = index + 1
        videos.append(
            dict(
                id=video_id,
                name=name,
                file_names=file_names,
                width=width,
                height=height,
                length=len(file_names),
                **video.video_fields,
            )
        )
        annotations += track_annotations(
            video.visible, present, video.category_ids, video_id, len(annotations) + 1
        )
    with_masks = dict(
        info=info, licenses=[], videos=videos, categories=categories, annotations=annotations
    )
    box_only = dict(with_masks, annotations=[dict(a, segmentations=None) for a in annotations])
    return box_only, with_masks


def dump_json(obj: Dict, path: str) -> None:
    """Write ``obj`` compactly to ``path``, creating its folder; through ``path.partial``,
    renamed when complete, so an interrupt never leaves a half-written json."""
    os.makedirs(osp.dirname(path), exist_ok=True)
    partial = path + _PARTIAL_SUFFIX
    with open(partial, 'w') as f:
        json.dump(obj, f, separators=(',', ':'))
    os.replace(partial, path)


def annotation_paths(out_dir: str) -> Dict[str, str]:
    """Paths of the json files a generator writes under ``out_dir``, by name."""
    ann_dir = osp.join(out_dir, 'annotations')
    return dict(
        train=osp.join(ann_dir, 'train.json'),
        train_with_masks=osp.join(ann_dir, 'train_with_masks.json'),
        val=osp.join(ann_dir, 'val.json'),
    )


def dataset_info_matches(
    out_dir: str, expected: Dict, keys: Optional[Sequence[str]] = None
) -> bool:
    """True when all json files exist under ``out_dir`` and val's ``info`` agrees with ``expected``.

    Only ``keys`` (default: all of ``expected``) are compared; ``expected`` goes through a json
    round trip first, so tuples compare equal to the lists read back.
    """
    paths = annotation_paths(out_dir)
    if not all(osp.isfile(p) for p in paths.values()):
        return False
    info = _generator_info(paths['val'])
    if info is None:
        return False
    expected = json.loads(json.dumps(expected))
    return all(info.get(key) == expected[key] for key in (keys or expected))


def _generator_info(json_path: str) -> Optional[Dict]:
    """The ``info`` a generator wrote into a json (it names a ``generator_version``); None for
    any other json, or one that cannot be read."""
    try:
        with open(json_path, encoding='utf-8') as f:
            data = json.load(f)
    except (OSError, ValueError):
        return None
    info = data.get('info') if isinstance(data, dict) else None
    return info if isinstance(info, dict) and 'generator_version' in info else None


def _foreign_entries(out_dir: str) -> List[str]:
    """Paths under ``out_dir`` (relative) that a generator would not have written."""
    foreign = [name for name in sorted(os.listdir(out_dir)) if name not in _GENERATED_TOP]
    ann_dir = osp.join(out_dir, 'annotations')
    if osp.isdir(ann_dir):
        names = {osp.basename(p) for p in annotation_paths(out_dir).values()}
        names |= {name + _PARTIAL_SUFFIX for name in names}
        foreign += [f'annotations/{n}' for n in sorted(os.listdir(ann_dir)) if n not in names]
    for split in SPLIT_KEYS:
        split_dir = osp.join(out_dir, split)
        if not osp.isdir(split_dir):
            continue
        foreign += [f'{split}/{n}' for n in sorted(os.listdir(split_dir)) if n != 'JPEGImages']
        image_root = osp.join(split_dir, 'JPEGImages')
        if not osp.isdir(image_root):
            continue
        for video in sorted(os.listdir(image_root)):
            video_dir = osp.join(image_root, video)
            if not (_GENERATED_VIDEO.match(video) and osp.isdir(video_dir)):
                foreign.append(f'{split}/JPEGImages/{video}')
                continue
            foreign += [
                f'{split}/JPEGImages/{video}/{n}'
                for n in sorted(os.listdir(video_dir))
                if not _GENERATED_FRAME.match(n)
            ]
    return foreign


def check_output_folder(out_dir: str) -> None:
    """Refuse to generate into a folder that holds anything a generator did not write.

    Accepted: a folder that does not exist yet, an empty one, or one a generator wrote before
    (its marker file, or its ``info`` in ``annotations/val.json`` or ``train.json``) holding
    only what a generator writes (``annotations/{train,train_with_masks,val}.json``,
    ``{train,val}/JPEGImages/video_NNNN/NNNNN.jpg``).

    Raises:
        FileExistsError: naming the folder, a few of the files that would be at risk, and the
            fix. Nothing is written.
    """
    if not osp.exists(out_dir):
        return
    if not osp.isdir(out_dir):
        raise FileExistsError(
            f'{out_dir} is a file, not a folder; give the dataset generator a new folder'
        )
    entries = os.listdir(out_dir)
    if not entries:
        return
    paths = annotation_paths(out_dir)
    generated = osp.isfile(osp.join(out_dir, GENERATED_MARKER)) or any(
        osp.isfile(paths[name]) and _generator_info(paths[name]) is not None
        for name in ('val', 'train')
    )
    foreign = sorted(entries) if not generated else _foreign_entries(out_dir)
    if not foreign:
        return
    listed = ', '.join(foreign[:5]) + (f' and {len(foreign) - 5} more' if len(foreign) > 5 else '')
    reason = (
        'was not written by a maskfreevis dataset generator'
        if not generated
        else 'holds files a dataset generator did not write'
    )
    raise FileExistsError(
        f'{out_dir} {reason} ({listed}); generating there would replace its jsons and frames, '
        'so nothing was written. Give the generator an empty or new folder (python -m '
        'maskfreevis_demo.datasets.synthetic / real_imagery --out NEW_DIR, or tools/run_demo.py '
        '--data-root NEW_DIR). To train on your own dataset, point the config at it instead: '
        'tools/train.py CONFIG --cfg-options train_dataloader.dataset.data_root=DIR ...'
    )


def write_dataset(
    out_dir: str, generate_split: Callable[[str], Tuple[Dict, Dict]]
) -> Dict[str, str]:
    """Write a generated dataset's jsons under ``out_dir``; returns their paths by name.

    Args:
        out_dir: the dataset folder (``annotations/`` is created in it).
        generate_split: renders one split (``'train'`` or ``'val'``: frames written) and returns
            its ``(box_only, with_masks)`` jsons.

    Returns:
        ``train`` (boxes only, what mask-free training reads), ``train_with_masks`` (for the fully
        supervised reference) and ``val`` (with masks, for mask AP): the written paths.

    Raises:
        FileExistsError: ``out_dir`` holds files a generator did not write
            (:func:`check_output_folder`); nothing is written then.
    """
    check_output_folder(out_dir)
    os.makedirs(out_dir, exist_ok=True)
    marker = osp.join(out_dir, GENERATED_MARKER)
    if not osp.isfile(marker):
        dump_json(dict(written_by='a maskfreevis dataset generator (vis_json_writer)'), marker)
    paths = annotation_paths(out_dir)
    train_boxes, train_masks = generate_split('train')
    dump_json(train_boxes, paths['train'])
    dump_json(train_masks, paths['train_with_masks'])
    _, val_masks = generate_split('val')
    dump_json(val_masks, paths['val'])
    return paths


def generator_command_line(
    argv: Optional[Sequence[str]],
    description: str,
    settings_type: type,
    generate: Callable[..., Dict[str, str]],
    default_out: str,
    choices: Optional[Dict[str, Sequence[str]]] = None,
) -> Dict[str, str]:
    """The command line of a dataset generator: sizes and seed in, the written json paths out.

    Args:
        argv: the arguments (None: ``sys.argv``).
        description: the ``--help`` title.
        settings_type: the generator's settings dataclass (with ``num_train_videos``,
            ``num_val_videos``, ``num_frames``, ``height``, ``width``, ``max_objects``).
        generate: ``generate(out_dir, seed, settings, show_progress=...) -> paths``.
        default_out: the default output folder.
        choices: further settings fields offered as ``--<field-name>``, with their choices.
    """
    defaults = settings_type()
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument('--out', default=default_out, help='output directory')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--train-videos', type=int, default=defaults.num_train_videos)
    parser.add_argument('--val-videos', type=int, default=defaults.num_val_videos)
    parser.add_argument('--frames', type=int, default=defaults.num_frames, help='frames per video')
    parser.add_argument('--height', type=int, default=defaults.height)
    parser.add_argument('--width', type=int, default=defaults.width)
    parser.add_argument('--max-objects', type=int, default=defaults.max_objects)
    for name, options in (choices or {}).items():
        parser.add_argument(
            '--' + name.replace('_', '-'), choices=list(options), default=getattr(defaults, name)
        )
    parser.add_argument('--quiet', action='store_true', help='no progress bar')
    args = parser.parse_args(argv)
    settings = settings_type(
        num_train_videos=args.train_videos,
        num_val_videos=args.val_videos,
        num_frames=args.frames,
        height=args.height,
        width=args.width,
        max_objects=args.max_objects,
        **{name: getattr(args, name) for name in choices or {}},
    )
    paths = generate(args.out, args.seed, settings, show_progress=not args.quiet)
    for name, path in paths.items():
        print(f'{name}: {path}')
    return paths
