"""The colour-prior analysis: exact shares on a hand-made video, clear errors on box-only data."""
import json
import os.path as osp

import mmcv
import numpy as np
import pycocotools.mask as mask_utils
import pytest
from mmengine.config import Config

PAIR = dict(kernel_size=3, dilation=1, threshold=0.3)
TK = dict(patch_size=3, grid_size=3, dilation=1, topk=5, threshold=0.05, pairing='all')


@pytest.fixture(scope='module')
def tool(load_tool):
    return load_tool('analysis_tools/colour_prior_precision.py')


def write_square_video(root, with_masks=True):
    """Two 32 x 48 frames: a flat red 16 x 16 square on flat grey, moved by 4 px (one cell)."""
    names, segmentations, boxes = [], [], []
    for t, x0 in enumerate((12, 16)):
        image = np.full((32, 48, 3), 128, dtype=np.uint8)
        image[8:24, x0:x0 + 16] = (40, 40, 220)  # BGR red
        name = f'v/{t}.png'
        mmcv.imwrite(image, osp.join(root, 'img', name))
        mask = np.zeros((32, 48), dtype=np.uint8)
        mask[8:24, x0:x0 + 16] = 1
        rle = mask_utils.encode(np.asfortranarray(mask))
        rle['counts'] = rle['counts'].decode()
        names.append(name)
        segmentations.append(rle if with_masks else None)
        boxes.append([float(x0), 8.0, 16.0, 16.0])
    data = dict(videos=[dict(id=1, width=48, height=32, length=2, file_names=names)],
                annotations=[dict(id=5, video_id=1, category_id=1, iscrowd=0, bboxes=boxes,
                                  segmentations=segmentations, areas=[256, 256])],
                categories=[dict(id=1, name='square')])
    ann_file = osp.join(root, 'ann.json')
    with open(ann_file, 'w') as handle:
        json.dump(data, handle)
    return ann_file, osp.join(root, 'img')


def test_flat_colours_give_only_right_pairs(tool, tmp_path):
    ann_file, img_dir = write_square_video(str(tmp_path))
    result = tool.measure(ann_file, img_dir, (48, 32), PAIR, TK, progress=False)
    assert result['videos'] == 1 and result['instance_frames'] == 2
    # the box is the mask: in-box neighbour pairs cross the edge only towards the outside,
    # where the colour differs, so every colour-kept pair is right and many are kept
    assert result['pair_kept_precision'] == 1.0 and result['pair_kept'] > 0
    assert result['pair_all_precision'] < 1.0
    # 4 x 4 cells of the square, 8 neighbours at dilation 1, per frame: the 2 x 2 interior cells
    # keep all 8, the 12 border cells keep 5 (edges) or 3 (corners) in-square neighbours
    interior, edges, corners = 4 * 8, 8 * 5, 4 * 3
    assert result['pair_kept'] == 2 * (interior + edges + corners)
    assert result['tk_kept_precision'] == 1.0 and result['tk_kept'] > 0
    assert result['tk_all_precision'] < 1.0


def test_box_only_json_is_refused_naming_the_annotation(tool, tmp_path):
    ann_file, img_dir = write_square_video(str(tmp_path), with_masks=False)
    with pytest.raises(ValueError, match='annotation 5 of video 1 has no masks'):
        tool.measure(ann_file, img_dir, (48, 32), PAIR, TK, progress=False)


def test_missing_frame_is_named(tool, tmp_path):
    ann_file, img_dir = write_square_video(str(tmp_path))
    with pytest.raises(FileNotFoundError, match=r'video 1: cannot read frame .*v/0\.png'):
        tool.measure(ann_file, str(tmp_path / 'elsewhere'), (48, 32), PAIR, TK, progress=False)


def test_knobs_and_scale_come_from_the_config(tool):
    config = Config.fromfile(tool.DEFAULT_CONFIG)
    assert tool.find_resize_scale(config.test_pipeline) == (96, 64)
    pair, tk = tool.loss_knobs(config)
    assert pair == dict(kernel_size=3, dilation=2, threshold=0.3)
    assert tk['pairing'] == 'all' and tk['dilation'] == 3 and tk['topk'] == 5
