"""A hand-made two-frame video with exactly known colour-prior pairs."""

import json
import os.path as osp

import mmcv
import numpy as np
import pycocotools.mask as mask_utils


def write_square_video(root, with_masks=True, as_polygons=False):
    """Two 32 x 48 frames: a flat red 16 x 16 square on flat grey, moved by 4 px (one cell)."""
    names, segmentations, boxes = [], [], []
    for t, x0 in enumerate((12, 16)):
        image = np.full((32, 48, 3), 128, dtype=np.uint8)
        image[8:24, x0 : x0 + 16] = (40, 40, 220)  # BGR red
        name = f'v/{t}.png'
        mmcv.imwrite(image, osp.join(root, 'img', name))
        mask = np.zeros((32, 48), dtype=np.uint8)
        mask[8:24, x0 : x0 + 16] = 1
        rle = mask_utils.encode(np.asfortranarray(mask))
        rle['counts'] = rle['counts'].decode()
        polygon = [[float(x0), 8.0, x0 + 16.0, 8.0, x0 + 16.0, 24.0, float(x0), 24.0]]
        names.append(name)
        segmentations.append((polygon if as_polygons else rle) if with_masks else None)
        boxes.append([float(x0), 8.0, 16.0, 16.0])
    data = dict(
        videos=[dict(id=1, width=48, height=32, length=2, file_names=names)],
        annotations=[
            dict(
                id=5,
                video_id=1,
                category_id=1,
                iscrowd=0,
                bboxes=boxes,
                segmentations=segmentations,
                areas=[256, 256],
            )
        ],
        categories=[dict(id=1, name='square')],
    )
    ann_file = osp.join(root, 'ann.json')
    with open(ann_file, 'w') as handle:
        json.dump(data, handle)
    return ann_file, osp.join(root, 'img')
