"""Drawing predictions: colours per id, blended masks, GIF and contact-sheet writers."""

import imageio.v2 as imageio
import numpy as np
import pytest
import torch
from mmengine.structures import InstanceData

from maskfreevis.visualization import (
    colour_for_id,
    draw_instances,
    draw_video,
    make_contact_sheet,
    select_drawn_instances,
    write_gif,
)


def test_colours_are_deterministic_and_distinct():
    colours = np.stack([colour_for_id(i) for i in range(10)]).astype(int)
    assert np.array_equal(colours[3], colour_for_id(3))
    distances = np.abs(colours[:, None] - colours[None]).sum(-1)
    assert distances[~np.eye(10, dtype=bool)].min() > 30


def test_mask_interior_is_blended_and_background_untouched():
    frame = np.zeros((60, 80, 3), np.uint8)
    mask = np.zeros((1, 60, 80), bool)
    mask[0, 25:50, 30:70] = True
    out = draw_instances(frame, mask, [7], alpha=0.5)
    expected = np.round(0.5 * colour_for_id(7).astype(np.float32)).astype(np.uint8)
    assert np.array_equal(out[38, 50], expected)  # interior: half the id colour over black
    assert np.array_equal(out[58, 2], [0, 0, 0])  # far background: unchanged
    assert not np.array_equal(out[25, 30], expected)  # outline drawn on the boundary


def test_first_instance_wins_where_masks_overlap_and_upscale():
    frame = np.full((20, 30, 3), 100, np.uint8)
    masks = np.zeros((2, 20, 30), bool)
    masks[0, 5:15, 5:15] = True
    masks[1, 5:15, 10:25] = True
    out = draw_instances(frame, masks, [1, 2], alpha=1.0, upscale=3)
    assert out.shape == (60, 90, 3)
    assert np.array_equal(out[30, 36], colour_for_id(1))  # overlap pixel (10, 12) x3
    assert np.array_equal(out[30, 60], colour_for_id(2))  # (10, 20): only instance 2


def test_mismatched_ids_raise():
    with pytest.raises(ValueError, match='2 masks but 1 instance ids'):
        draw_instances(np.zeros((4, 4, 3), np.uint8), np.zeros((2, 4, 4), bool), [1])


def test_draw_video_drops_low_scores():
    frames = [np.zeros((30, 40, 3), np.uint8)] * 2
    masks = torch.zeros(2, 30, 40, dtype=torch.bool)
    masks[0, 5:20, 5:20] = True
    masks[1, 10:25, 20:35] = True
    pred = InstanceData(
        masks=masks,
        scores=torch.tensor([0.9, 0.1]),
        labels=torch.tensor([0, 1]),
        instances_id=torch.tensor([0, 1]),
    )
    drawn = draw_video(frames, [pred, pred], class_names=['a', 'b'], score_thr=0.5)
    assert len(drawn) == 2
    # kept instance drawn (its label, on a tiny frame, covers part of it)
    assert drawn[0][5:20, 5:20].any(-1).mean() > 0.9
    assert not drawn[0][20, 30].any()  # low-score instance not drawn


def test_gif_round_trip(tmp_path):
    frames = [np.full((12, 16, 3), v, np.uint8) for v in (0, 120, 240)]
    path = write_gif(frames, str(tmp_path / 'sub' / 'video.gif'), fps=5)
    read = imageio.mimread(path)
    assert len(read) == 3 and read[1].shape[:2] == (12, 16)
    assert abs(int(read[1][..., :3].mean()) - 120) <= 2
    with pytest.raises(ValueError, match='no frames'):
        write_gif([], str(tmp_path / 'empty.gif'))


def test_contact_sheet_places_tiles(tmp_path):
    a = np.full((10, 12, 3), 10, np.uint8)
    b = np.full((10, 12, 3), 200, np.uint8)
    path = tmp_path / 'sheet.png'
    sheet = make_contact_sheet([[a, b], [b]], str(path), gap=2)
    assert sheet.shape == (2 * (10 + 2) + 2, 2 * (12 + 2) + 2, 3)
    assert (sheet[2:12, 2:14] == 10).all() and (sheet[2:12, 16:28] == 200).all()
    assert (sheet[14:24, 2:14] == 200).all() and (sheet[14:24, 16:28] == 255).all()
    assert np.array_equal(imageio.imread(path)[..., :3], sheet)
    titled = make_contact_sheet([[a], [b]], row_titles=['x', 'y'], gap=2)
    assert titled.shape[0] == 2 * (10 + 16 + 2) + 2
    with pytest.raises(ValueError, match=r'tile \(0, 1\)'):
        make_contact_sheet([[a, np.zeros((5, 5, 3), np.uint8)]])


def test_draw_video_draws_query_copies_once():
    frames = [np.zeros((30, 40, 3), np.uint8)] * 2
    mask = torch.zeros(30, 40, dtype=torch.bool)
    mask[5:20, 5:20] = True
    # one query returned twice (two classes, identical masks), as Mask2Former-VIS's top-k does
    pred = InstanceData(
        masks=torch.stack([mask, mask]),
        scores=torch.tensor([0.5, 0.8]),
        labels=torch.tensor([0, 1]),
        instances_id=torch.tensor([0, 1]),
    )
    drawn = draw_video(frames, [pred, pred], class_names=['a', 'b'], score_thr=0.3)
    expected = draw_instances(
        frames[0], mask[None].numpy(), [1], labels=[1], scores=[0.8], class_names=['a', 'b']
    )
    assert np.array_equal(drawn[0], expected) and np.array_equal(drawn[1], expected)


def test_draw_video_suppresses_overlapping_duplicates_only():
    frames = [np.zeros((30, 40, 3), np.uint8)]
    a = torch.zeros(30, 40, dtype=torch.bool)
    a[5:20, 5:20] = True  # 225 px
    b = torch.zeros_like(a)
    b[5:20, 8:20] = True  # IoU with a: 180 / 225 = 0.8 -> duplicate
    c = torch.zeros_like(a)
    c[10:25, 12:27] = True  # IoU with a: 80 / 370 = 0.22 -> another object
    pred = InstanceData(
        masks=torch.stack([a, b, c]),
        scores=torch.tensor([0.9, 0.95, 0.6]),
        labels=torch.tensor([0, 1, 0]),
        instances_id=torch.tensor([0, 1, 2]),
    )
    drawn = draw_video(frames, [pred], score_thr=0.3)
    expected = draw_instances(
        frames[0], torch.stack([b, c]).numpy(), [1, 2], labels=[1, 0], scores=[0.95, 0.6]
    )
    assert np.array_equal(drawn[0], expected)


def test_selected_instances_are_the_drawn_ones_best_first():
    a = torch.zeros(30, 40, dtype=torch.bool)
    a[5:20, 5:20] = True
    b = torch.zeros_like(a)
    b[5:20, 8:20] = True  # duplicate of a (IoU 0.8), better score
    c = torch.zeros_like(a)
    c[10:25, 12:27] = True  # another object
    pred = InstanceData(
        masks=torch.stack([a, b, c, torch.zeros_like(a)]),
        scores=torch.tensor([0.9, 0.95, 0.6, 1.0]),
    )
    assert select_drawn_instances([pred, pred], score_thr=0.3).tolist() == [1, 2]
    assert select_drawn_instances([pred], score_thr=0.7).tolist() == [1]  # empty mask dropped too
    assert select_drawn_instances([]).tolist() == []
