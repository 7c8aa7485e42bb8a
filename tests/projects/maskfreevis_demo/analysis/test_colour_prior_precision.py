"""The colour-prior analysis: exact shares on a hand-made video, clear errors on box-only data,
knobs and mask stride from the config."""

import json

import numpy as np
import pytest
import torch
from mmengine.config import Config
from skimage.color import rgb2lab

from maskfreevis_demo.analysis import colour_prior_precision as tool
from tests.projects.maskfreevis_demo.analysis.square_video import write_square_video

PAIR = dict(kernel_size=3, dilation=1, threshold=0.3)
TK = dict(patch_size=3, grid_size=3, dilation=1, topk=5, threshold=0.05, pairing='all')


def test_flat_colours_give_only_right_pairs(tmp_path):
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


def test_box_only_json_is_refused_naming_the_annotation(tmp_path):
    ann_file, img_dir = write_square_video(str(tmp_path), with_masks=False)
    with pytest.raises(ValueError, match='annotation 5 of video 1 has no masks'):
        tool.measure(ann_file, img_dir, (48, 32), PAIR, TK, progress=False)


def test_missing_frame_is_named(tmp_path):
    ann_file, img_dir = write_square_video(str(tmp_path))
    with pytest.raises(FileNotFoundError, match=r'video 1: cannot read frame .*v/0\.png'):
        tool.measure(ann_file, str(tmp_path / 'elsewhere'), (48, 32), PAIR, TK, progress=False)


def test_polygon_masks_give_the_same_counts(tmp_path):
    rle_ann, img_dir = write_square_video(str(tmp_path / 'rle'))
    polygon_ann, polygon_dir = write_square_video(str(tmp_path / 'polygons'), as_polygons=True)
    rle = tool.measure(rle_ann, img_dir, (48, 32), PAIR, TK, progress=False)
    polygons = tool.measure(polygon_ann, polygon_dir, (48, 32), PAIR, TK, progress=False)
    assert polygons == rle


def test_a_json_without_any_segmentations_is_refused(tmp_path):
    ann_file, img_dir = write_square_video(str(tmp_path), with_masks=False)
    with open(ann_file) as handle:
        data = json.load(handle)
    data['annotations'][0]['segmentations'] = None  # box-only json as released
    with open(ann_file, 'w') as handle:
        json.dump(data, handle)
    with pytest.raises(ValueError, match='annotation 5 of video 1 has no masks'):
        tool.measure(ann_file, img_dir, (48, 32), PAIR, TK, progress=False)


def test_mask_stride_sets_the_grid(tmp_path):
    ann_file, img_dir = write_square_video(str(tmp_path))
    fine = tool.load_video(*video_and_annotations(ann_file), img_dir, (48, 32), stride=4)
    coarse = tool.load_video(*video_and_annotations(ann_file), img_dir, (48, 32), stride=8)
    assert fine['lab'].shape == (1, 2, 3, 8, 12) and coarse['lab'].shape == (1, 2, 3, 4, 6)
    assert coarse['members'].shape == coarse['boxes'].shape == (1, 2, 4, 6)
    assert int(coarse['members'][0, 0].sum()) == 4  # the 16 x 16 square covers 2 x 2 cells


def video_and_annotations(ann_file):
    with open(ann_file) as handle:
        data = json.load(handle)
    return data['videos'][0], data['annotations']


def write_config(tmp_path, track_head: str, preprocessor: str = '') -> Config:
    path = tmp_path / 'knobs.py'
    path.write_text(
        f'model = dict(data_preprocessor=dict({preprocessor}), track_head=dict({track_head}))\n'
    )
    return Config.fromfile(str(path))


def test_knobs_from_the_criterion_with_the_module_defaults(tmp_path):
    config = write_config(
        tmp_path,
        "criterion=dict(loss_pair=dict(type='PairwiseColourLoss', "
        "dilation=1, loss_weight=2.0), loss_tk=dict(topk=3, pairing='all'))",
        'mask_stride=8',
    )
    pair, tk = tool.loss_knobs(config)
    assert pair == dict(kernel_size=3, dilation=1, threshold=0.3)
    assert tk == dict(patch_size=3, grid_size=3, dilation=3, topk=3, threshold=0.05, pairing='all')
    assert tool.mask_stride_of(config) == 8
    assert tool.mask_stride_of(write_config(tmp_path, '')) == tool.DEFAULT_MASK_STRIDE


def test_losses_outside_the_criterion_are_refused(tmp_path):
    config = write_config(tmp_path, "loss_pair=dict(type='PairwiseColourLoss', dilation=1)")
    with pytest.raises(KeyError, match='model.track_head.loss_pair is the old place'):
        tool.loss_knobs(config)


def test_colour_space_from_the_config_and_release_colours(tmp_path):
    assert tool.colour_space_of(write_config(tmp_path, '')) == tool.DEFAULT_COLOUR_SPACE == 'rgb'
    config = write_config(tmp_path, '', "colour_space='release'")
    assert tool.colour_space_of(config) == 'release'
    ann_file, img_dir = write_square_video(str(tmp_path))
    video, annotations = video_and_annotations(ann_file)
    rgb = tool.load_video(video, annotations, img_dir, (48, 32), colour_space='rgb')['lab']
    release = tool.load_video(video, annotations, img_dir, (48, 32), colour_space='release')['lab']
    # the red square, RGB (220, 40, 40), is read by the release as (40, 40, 220): blue's Lab
    square = release[0, 0, :, 3, 4].numpy()  # cell (3, 4): pixels 12..15 x 16..19, inside
    np.testing.assert_allclose(square, rgb2lab(np.uint8([[[40, 40, 220]]]))[0, 0], atol=0.01)
    np.testing.assert_allclose(
        rgb[0, 0, :, 3, 4].numpy(), rgb2lab(np.uint8([[[220, 40, 40]]]))[0, 0], atol=0.01
    )
    assert torch.equal(release[0, 0, :, 0, 0], rgb[0, 0, :, 0, 0])  # grey is grey in both
