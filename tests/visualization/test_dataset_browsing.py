"""Dataset browsing: boxes, ids and classes drawn on clips after the training pipeline."""

import os.path as osp

import cv2
import numpy as np
import pytest
from mmengine.config import Config
from mmengine.runner import set_random_seed

from maskfreevis.visualization import colour_for_id
from maskfreevis.visualization.dataset_browsing import (
    browse_dataset,
    build_dataset_from_config,
    clip_frames,
    draw_clip_boxes,
    sample_video_indices,
    write_mp4,
)
from maskfreevis_demo.datasets.synthetic import SyntheticVISSettings, generate_synthetic_vis

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
DEMO_CONFIG = osp.join(REPO_ROOT, 'configs/maskfreevis/maskfreevis_r18_1xb4-800iter_synthetic.py')


@pytest.fixture(scope='module')
def dataset(tmp_path_factory):
    root = str(tmp_path_factory.mktemp('browse_synthetic'))
    settings = SyntheticVISSettings(
        num_train_videos=3, num_val_videos=1, num_frames=5, height=64, width=96
    )
    generate_synthetic_vis(root, seed=0, settings=settings, show_progress=False)
    cfg = Config.fromfile(DEMO_CONFIG)
    cfg.merge_from_dict({'train_dataloader.dataset.data_root': root})
    return build_dataset_from_config(cfg, 'train')


def test_box_outline_in_the_id_colour_and_label_drawn():
    frame = np.zeros((40, 60, 3), np.uint8)
    drawn = draw_clip_boxes(frame, np.array([[10, 20, 30, 35]]), [7], [1], ('car', 'person'))
    colour = colour_for_id(7)
    # the outline's left edge below the label, and nothing inside the box
    assert (drawn[30, 10] == colour).all() and (drawn[30, 29] == colour).all()
    assert (drawn[27, 20] == 0).all()
    # the label sits on a background of the id's colour, touching the box
    label_pixels = (drawn[:20] == colour).all(-1).sum() + (drawn[20:35] == colour).all(-1).sum()
    assert label_pixels > 2 * (35 - 20) + 2 * (30 - 10)


def test_upscale_and_no_boxes():
    frame = np.full((4, 5, 3), 9, np.uint8)
    drawn = draw_clip_boxes(frame, np.zeros((0, 4)), [], [], ('car',), upscale=3)
    assert drawn.shape == (12, 15, 3) and (drawn == 9).all()


def test_sampled_indices_are_distinct_and_reproducible():
    first = sample_video_indices(10, 4, seed=3)
    assert (
        len(set(first.tolist())) == 4 and first.tolist() == sample_video_indices(10, 4, 3).tolist()
    )
    assert len(sample_video_indices(2, 5)) == 5  # more clips than videos: videos repeat


def outline_share(image: np.ndarray, box: np.ndarray, colour: np.ndarray) -> float:
    """Share of a box's outline pixels (xyxy, pixel-edge) that have ``colour``."""
    x0, y0, x1, y1 = np.round(box).astype(int)
    inside = np.zeros(image.shape[:2], bool)
    inside[y0:y1, x0:x1] = True
    inner = np.zeros_like(inside)
    inner[y0 + 1 : y1 - 1, x0 + 1 : x1 - 1] = True
    outline = inside & ~inner
    return float((image[outline] == colour).all(-1).mean())


def test_clip_frames_draw_the_pipeline_output(dataset):
    set_random_seed(0)
    sample = dataset[0]
    frames = clip_frames(sample, dataset.metainfo['classes'], upscale=1)
    num_frames, _, height, width = sample['inputs'].shape
    assert len(frames) == num_frames
    assert all(f.shape == (height + 14, width, 3) for f in frames)
    # frames come in frame order; each box's outline is drawn in its id's colour (a label, on a
    # background of that colour, may cover a part with its text)
    data_samples = sorted(sample['data_samples'], key=lambda s: s.frame_id)
    for image, frame in zip(frames, data_samples):
        gt = frame.gt_instances
        for box, instance_id in zip(gt.bboxes.numpy(), gt.instances_ids.tolist()):
            assert outline_share(image[14:], box, colour_for_id(instance_id)) > 0.5


def test_images_one_png_per_clip(dataset, tmp_path):
    written = browse_dataset(
        dataset, str(tmp_path), num_clips=2, seed=0, output='images', upscale=2
    )
    assert len(written) == 2 and all(p.endswith('.png') for p in written)
    image = cv2.imread(written[0])
    assert image.shape[0] == 64 * 2 + 14 and image.shape[1] == 3 * 96 * 2  # 3 frames side by side


def test_mp4_holds_every_frame_of_every_clip(dataset, tmp_path):
    (path,) = browse_dataset(dataset, str(tmp_path), num_clips=2, output='mp4', upscale=1)
    capture = cv2.VideoCapture(path)
    assert int(capture.get(cv2.CAP_PROP_FRAME_COUNT)) == 2 * 3
    ok, frame = capture.read()
    capture.release()
    assert ok and frame.shape == (64 + 14, 96, 3)


def test_write_mp4_pads_frames_of_different_sizes(tmp_path):
    frames = [np.full((9, 11, 3), 200, np.uint8), np.full((20, 7, 3), 50, np.uint8)]
    path = write_mp4(frames, str(tmp_path / 'out.mp4'))
    capture = cv2.VideoCapture(path)
    sizes = (capture.get(cv2.CAP_PROP_FRAME_HEIGHT), capture.get(cv2.CAP_PROP_FRAME_WIDTH))
    assert sizes == (20, 12) and int(capture.get(cv2.CAP_PROP_FRAME_COUNT)) == 2
    capture.release()
    with pytest.raises(ValueError, match='no frames to write into .*empty.mp4'):
        write_mp4([], str(tmp_path / 'empty.mp4'))


def test_bad_arguments_are_named(dataset, tmp_path):
    with pytest.raises(ValueError, match="output must be 'images' or 'mp4'"):
        browse_dataset(dataset, str(tmp_path), output='gif')
    with pytest.raises(KeyError, match='no predict_dataloader'):
        build_dataset_from_config(Config(dict(default_scope='mmdet')), 'predict')
