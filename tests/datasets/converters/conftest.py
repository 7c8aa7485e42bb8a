"""Helpers for converter tests: load a written json with BoxVISDataset, write small images."""

import json
import os
import os.path as osp
from typing import Callable, Dict, List

import numpy as np
import pytest
from PIL import Image

from maskfreevis.datasets import BoxVISDataset


def load_with_dataset(data: dict, folder: str, **kwargs) -> BoxVISDataset:
    """Write ``data`` to ``folder/converted.json`` and load it with :class:`BoxVISDataset`
    (no image check, no size filter), as a config would."""
    path = osp.join(folder, 'converted.json')
    with open(path, 'w') as stream:
        json.dump(data, stream)
    options = dict(
        ann_file=path,
        data_prefix=dict(img_path=folder),
        pipeline=[],
        check_files=False,
        filter_cfg=dict(filter_empty_gt=True, min_size=0),
    )
    options.update(kwargs)
    return BoxVISDataset(**options)


def frame_boxes(dataset: BoxVISDataset, video_index: int) -> List[Dict[int, list]]:
    """Per frame of a loaded video: ``{instance_id: bbox xyxy}``."""
    video = dataset.get_data_info(video_index)
    return [
        {instance['instance_id']: instance['bbox'] for instance in frame['instances']}
        for frame in video['images']
    ]


def write_images(folder: str, names: List[str], width: int, height: int) -> List[str]:
    """Write black images ``folder/name``; return their full paths."""
    os.makedirs(folder, exist_ok=True)
    paths = []
    for name in names:
        path = osp.join(folder, name)
        Image.fromarray(np.zeros((height, width, 3), dtype=np.uint8)).save(path)
        paths.append(path)
    return paths


@pytest.fixture
def load_converted() -> Callable[..., BoxVISDataset]:
    """``load_converted(data, folder, **dataset_kwargs)`` -> the loaded :class:`BoxVISDataset`."""
    return load_with_dataset


@pytest.fixture
def boxes_per_frame() -> Callable[[BoxVISDataset, int], List[Dict[int, list]]]:
    return frame_boxes


@pytest.fixture
def image_writer() -> Callable[..., List[str]]:
    return write_images
