"""Turn a YouTube-VIS / OVIS json into a box-only json, so that no mask can reach training.

``python tools/dataset_converters/ytvis_to_box_only.py IN.json OUT.json``

Every annotation keeps (or, when missing, gets) its per-frame ``bboxes`` ``[x, y, w, h]`` and loses
``segmentations`` (set to ``null``). A frame whose box is missing but whose mask exists gets the
mask's tight box (pycocotools ``toBbox``). mmdet's CocoVID json (``images`` with ``video_id``, one
annotation per object and frame) and a COCO image json are converted the same way, per
annotation: ``bbox`` kept (or derived from the mask), ``segmentation`` removed.

The input file is never modified: OUT must not be IN (nor resolve to it), and OUT is written to a
temporary file renamed when complete. The result is checked with the dataset's own parser, so what
the converter writes, training loads: an annotation whose ``bboxes`` or ``segmentations`` list does
not have one entry per frame of its video is refused, naming it.
"""

import argparse
import json
import os
import os.path as osp
from typing import Dict, List, Optional

import pycocotools.mask as mask_utils

from maskfreevis.datasets.annotation_checks import (
    AnnotationError,
    SkipCounter,
    load_annotation_json,
    require_keys,
)
from maskfreevis.datasets.vis_json_formats import parse_video_json, segmentation_to_rle


def segmentation_to_box(segmentation, height: int, width: int) -> Optional[List[float]]:
    """Tight ``[x, y, w, h]`` of one frame's RLE or polygon segmentation; ``None`` when empty."""
    if not segmentation:
        return None
    rle = segmentation_to_rle(segmentation, height, width)
    if mask_utils.area(rle) == 0:
        return None
    return [float(value) for value in mask_utils.toBbox(rle)]


def _video_lengths(dataset: dict, source: str) -> Dict[object, int]:
    """``{video id: number of frames}``, after checking each video has what conversion needs."""
    lengths = {}
    for index, video in enumerate(dataset['videos']):
        require_keys(video, ('id', 'file_names', 'width', 'height'), source, f'videos[{index}]')
        if not isinstance(video['file_names'], list):
            raise AnnotationError(f"{source}: video id {video['id']}: 'file_names' must be a list")
        lengths[video['id']] = len(video['file_names'])
    return lengths


def _per_frame_list(ann: dict, key: str, num_frames: int, source: str) -> list:
    """``ann[key]`` as a list with one entry per frame ([] when absent or null)."""
    values = ann.get(key)
    if values is None:
        return []
    if not isinstance(values, list) or len(values) != num_frames:
        got = len(values) if isinstance(values, list) else type(values).__name__
        raise AnnotationError(
            f'{source}: annotation {ann.get("id")} (video {ann["video_id"]}): '
            f"'{key}' must list one entry per frame ({num_frames}), got {got}"
        )
    return values


def per_image_to_box_only(dataset: dict, source: str = '<json>') -> dict:
    """A CocoVID or COCO image json without masks: each annotation keeps its ``bbox`` (or gets
    its mask's tight box) and loses ``segmentation``.

    Raises:
        AnnotationError: an annotation of an unknown image, or one with neither a box nor a
            mask, naming it; for CocoVID anything training would refuse.
    """
    require_keys(dataset, ('images', 'annotations'), source, 'the top-level object')
    sizes = {}
    for index, image in enumerate(dataset['images'] or []):
        require_keys(image, ('id', 'width', 'height'), source, f'images[{index}]')
        sizes[image['id']] = (image['height'], image['width'])
    annotations = []
    for index, ann in enumerate(dataset['annotations'] or []):
        has_id = isinstance(ann, dict) and 'id' in ann
        what = f'annotation {ann["id"]}' if has_id else f'annotations[{index}]'
        require_keys(ann, ('image_id',), source, what)
        if ann['image_id'] not in sizes:
            raise AnnotationError(f'{source}: {what} refers to unknown image {ann["image_id"]}')
        box = ann.get('bbox')
        if box is None:
            box = segmentation_to_box(ann.get('segmentation'), *sizes[ann['image_id']])
        if box is None:
            raise AnnotationError(f'{source}: {what} has neither a bbox nor a mask')
        annotations.append({**{k: v for k, v in ann.items() if k != 'segmentation'}, 'bbox': box})
    box_only = dict(dataset, annotations=annotations)
    images = dataset['images'] or []
    if images and isinstance(images[0], dict) and 'video_id' in images[0]:  # CocoVID
        parse_video_json(box_only, source, SkipCounter(source), require_annotations=True)
    return box_only


def to_box_only(dataset: dict, source: str = '<json>') -> dict:
    """Return a copy of ``dataset`` without masks (see module docstring).

    Raises:
        KeyError: no ``videos`` / ``annotations``, or an annotation of an unknown video.
        AnnotationError: per-frame lists of the wrong length, or anything else the dataset's
            parser refuses; the message names ``source`` and the annotation.
    """
    if isinstance(dataset, dict) and 'images' in dataset:
        return per_image_to_box_only(dataset, source)
    for key in ('videos', 'annotations'):
        if key not in dataset:
            raise KeyError(f'{source}: missing top-level key {key!r} (not a YouTube-VIS json?)')
    lengths = _video_lengths(dataset, source)
    sizes = {video['id']: (video['height'], video['width']) for video in dataset['videos']}
    annotations = []
    for ann in dataset['annotations']:
        if ann.get('video_id') not in sizes:
            raise KeyError(
                f'{source}: annotation {ann.get("id")} refers to unknown video '
                f'{ann.get("video_id")}'
            )
        height, width = sizes[ann['video_id']]
        num_frames = lengths[ann['video_id']]
        segmentations = _per_frame_list(ann, 'segmentations', num_frames, source)
        boxes = list(
            _per_frame_list(ann, 'bboxes', num_frames, source) or [None] * len(segmentations)
        )
        for frame, segmentation in enumerate(segmentations):
            if boxes[frame] is None:
                boxes[frame] = segmentation_to_box(segmentation, height, width)
        if not boxes:
            raise ValueError(
                f'{source}: annotation {ann.get("id")} (video {ann["video_id"]}) has '
                f'neither bboxes nor segmentations'
            )
        annotations.append(dict(ann, bboxes=boxes, segmentations=None))
    box_only = dict(dataset, annotations=annotations)
    # What training would refuse is refused here, with the same message.
    parse_video_json(box_only, source, SkipCounter(source), require_annotations=True)
    return box_only


def same_file(first: str, second: str) -> bool:
    """Whether two paths name one file (symbolic links, ``..`` and hard links resolved)."""
    if osp.realpath(first) == osp.realpath(second):
        return True
    return osp.exists(first) and osp.exists(second) and osp.samefile(first, second)


def write_json_atomically(data: dict, path: str) -> None:
    """Write ``data`` to ``path`` through a temporary file, so an interrupt leaves no half file."""
    partial = path + '.partial'
    with open(partial, 'w') as handle:
        json.dump(data, handle)
    os.replace(partial, path)


def main(argv: Optional[List[str]] = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('input', help='YouTube-VIS / OVIS json')
    parser.add_argument('output', help='box-only json to write (not the input)')
    args = parser.parse_args(argv)
    if same_file(args.input, args.output):
        parser.error(
            f'OUT {args.output!r} is the input file {args.input!r}; the input is never '
            'overwritten, give another output path'
        )
    out_dir = osp.dirname(osp.abspath(args.output))
    if not osp.isdir(out_dir):
        parser.error(f'the folder of OUT {args.output!r} does not exist: {out_dir}')
    box_only = to_box_only(load_annotation_json(args.input), source=args.input)
    write_json_atomically(box_only, args.output)
    print(f'{len(box_only["annotations"])} annotations written without masks to {args.output}')


if __name__ == '__main__':
    main()
