"""Turn a YouTube-VIS / OVIS json into a box-only json, so that no mask can reach training.

``python tools/dataset_converters/ytvis_to_box_only.py IN.json OUT.json``

Every annotation keeps (or, when missing, gets) its per-frame ``bboxes`` ``[x, y, w, h]`` and loses
``segmentations`` (set to ``null``). A frame whose box is missing but whose mask exists gets the
mask's tight box (pycocotools ``toBbox``). The input file is never modified.
"""
import argparse
import json
import os.path as osp
import sys
from typing import List, Optional

import pycocotools.mask as mask_utils

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
if REPO_ROOT not in sys.path:  # run from a checkout without installing
    sys.path.insert(0, REPO_ROOT)

from maskfreevis.datasets.vis_json_formats import segmentation_to_rle  # noqa: E402


def segmentation_to_box(segmentation, height: int, width: int) -> Optional[List[float]]:
    """Tight ``[x, y, w, h]`` of one frame's RLE or polygon segmentation; ``None`` when empty."""
    if not segmentation:
        return None
    rle = segmentation_to_rle(segmentation, height, width)
    if mask_utils.area(rle) == 0:
        return None
    return [float(value) for value in mask_utils.toBbox(rle)]


def to_box_only(dataset: dict, source: str = '<json>') -> dict:
    """Return a copy of ``dataset`` without masks (see module docstring)."""
    for key in ('videos', 'annotations'):
        if key not in dataset:
            raise KeyError(f'{source}: missing top-level key {key!r} (not a YouTube-VIS json?)')
    sizes = {video['id']: (video['height'], video['width']) for video in dataset['videos']}
    annotations = []
    for ann in dataset['annotations']:
        if ann.get('video_id') not in sizes:
            raise KeyError(f'{source}: annotation {ann.get("id")} refers to unknown video '
                           f'{ann.get("video_id")}')
        height, width = sizes[ann['video_id']]
        segmentations = ann.get('segmentations') or []
        boxes = list(ann.get('bboxes') or [None] * len(segmentations))
        for frame, segmentation in enumerate(segmentations):
            if frame < len(boxes) and boxes[frame] is None:
                boxes[frame] = segmentation_to_box(segmentation, height, width)
        if not boxes:
            raise ValueError(f'{source}: annotation {ann.get("id")} (video {ann["video_id"]}) has '
                             f'neither bboxes nor segmentations')
        annotations.append(dict(ann, bboxes=boxes, segmentations=None))
    return dict(dataset, annotations=annotations)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('input', help='YouTube-VIS / OVIS json')
    parser.add_argument('output', help='box-only json to write')
    args = parser.parse_args()
    with open(args.input) as handle:
        dataset = json.load(handle)
    box_only = to_box_only(dataset, source=args.input)
    with open(args.output, 'w') as handle:
        json.dump(box_only, handle)
    print(f'{len(box_only["annotations"])} annotations written without masks to {args.output}')


if __name__ == '__main__':
    main()
