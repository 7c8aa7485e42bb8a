"""Every shipped config loads frames in their stored pixel grid (the YouTube-VIS convention, where
the json's boxes and masks are), and on frames without an EXIF orientation tag that is
bit-identical to OpenCV's default decoding, so training inputs are unchanged."""

import copy
import glob
import os.path as osp

import numpy as np
import pytest
import torch
from mmcv.transforms import LoadImageFromFile
from mmengine.config import Config
from mmengine.runner import set_random_seed

from maskfreevis.datasets.annotation_checks import exif_orientation
from maskfreevis.visualization.dataset_browsing import build_dataset_from_config
from maskfreevis_demo.datasets.synthetic import SyntheticVISSettings, generate_synthetic_vis

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
SHIPPED = sorted(
    glob.glob(osp.join(REPO_ROOT, 'configs', 'maskfreevis', '*.py'))
    + glob.glob(osp.join(REPO_ROOT, 'projects', '*', 'configs', '*.py'))
)
DEMO_CONFIG = osp.join(
    REPO_ROOT, 'configs', 'maskfreevis', 'maskfreevis_r18_1xb4-800iter_synthetic.py'
)
AS_STORED = 'color_ignore_orientation'


def frame_loaders(node):
    """Every ``LoadImageFromFile`` dict under ``node``."""
    if isinstance(node, dict):
        if str(node.get('type', '')).split('.')[-1] == 'LoadImageFromFile':
            yield node
        for value in node.values():
            yield from frame_loaders(value)
    elif isinstance(node, (list, tuple)):
        for value in node:
            yield from frame_loaders(value)


@pytest.mark.parametrize('path', SHIPPED, ids=lambda path: osp.basename(path))
def test_every_shipped_config_loads_frames_as_stored(path):
    cfg = Config.fromfile(path).to_dict()
    loaders = [
        loader
        for key in ('train_dataloader', 'val_dataloader', 'test_dataloader')
        for loader in frame_loaders(cfg.get(key))
    ]
    assert loaders, f'{path} loads no frame'
    assert all(loader.get('color_type') == AS_STORED for loader in loaders), loaders


@pytest.fixture(scope='module')
def generated(tmp_path_factory) -> str:
    root = str(tmp_path_factory.mktemp('frames'))
    settings = SyntheticVISSettings(
        num_train_videos=2, num_val_videos=1, num_frames=4, height=64, width=96
    )
    generate_synthetic_vis(root, seed=3, settings=settings, show_progress=False)
    return root


def test_untagged_frames_decode_bit_identically_both_ways(generated):
    paths = sorted(glob.glob(osp.join(generated, '*', 'JPEGImages', '*', '*.jpg')))
    assert len(paths) == 12
    default, as_stored = LoadImageFromFile(), LoadImageFromFile(color_type=AS_STORED)
    for path in paths:
        assert exif_orientation(path) == 1
        a = default(dict(img_path=path))['img']
        b = as_stored(dict(img_path=path))['img']
        assert a.dtype == b.dtype == np.uint8 and np.array_equal(a, b)


def test_training_inputs_of_the_demo_config_are_unchanged(generated):
    cfg = Config.fromfile(DEMO_CONFIG)
    cfg.train_dataloader.dataset.data_root = generated
    decoded_as_before = copy.deepcopy(cfg)
    for loader in frame_loaders(decoded_as_before.train_dataloader.dataset.pipeline):
        loader.pop('color_type')
    samples = []
    for config in (cfg, decoded_as_before):
        dataset = build_dataset_from_config(config, 'train')
        set_random_seed(0)
        samples.append([dataset[index] for index in range(len(dataset))])
    for new, old in zip(*samples):
        assert torch.equal(new['inputs'], old['inputs'])
        new_frames = new['data_samples'].video_data_samples
        old_frames = old['data_samples'].video_data_samples
        assert len(new_frames) == len(old_frames) == 3
        for a, b in zip(new_frames, old_frames):
            assert torch.equal(a.gt_instances.bboxes, b.gt_instances.bboxes)
