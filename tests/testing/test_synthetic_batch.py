"""The synthetic clips used by the model tests and the benchmarks."""

import torch

from maskfreevis.testing import (
    ClipSpec,
    drop_gt_masks,
    mask_grid_inputs,
    synthetic_batch,
    synthetic_clip,
)


def test_clip_layout_boxes_and_absent_objects():
    frames, clip = synthetic_clip(
        ClipSpec(
            3, (32, 48), num_objects=2, with_masks=True, absent=[(1, 2)], labels=[4, 7], video_id=5
        )
    )
    assert frames.shape == (3, 3, 32, 48) and frames.dtype == torch.uint8
    assert len(clip) == 3 and clip[0].metainfo['video_id'] == 5
    assert clip[0].gt_instances.instances_ids.tolist() == [1, 2]
    assert clip[2].gt_instances.instances_ids.tolist() == [1]  # object 2 absent from frame 2
    assert clip[0].gt_instances.labels.tolist() == [4, 7]
    gt = clip[1].gt_instances
    masks = torch.from_numpy(gt.masks.masks).bool()
    for mask, box in zip(masks, gt.bboxes):  # boxes are the masks' tight xyxy boxes
        rows, cols = mask.any(1).nonzero()[:, 0], mask.any(0).nonzero()[:, 0]
        assert box.tolist() == [cols[0], rows[0], cols[-1] + 1, rows[-1] + 1]


def test_same_seed_same_batch_and_masks_only_when_asked():
    specs = [ClipSpec(2, seed=3), ClipSpec(2, seed=4, with_masks=True, video_id=1)]
    first, second = synthetic_batch(specs), synthetic_batch(specs)
    assert all(a.equal(b) for a, b in zip(first['inputs'], second['inputs']))
    assert 'masks' not in first['data_samples'][0][0].gt_instances
    assert 'masks' in first['data_samples'][1][0].gt_instances
    drop_gt_masks(first)
    assert 'masks' not in first['data_samples'][1][0].gt_instances
    assert first['data_samples'][1][0].gt_instances.bboxes.equal(
        second['data_samples'][1][0].gt_instances.bboxes
    )


def test_mask_grid_inputs_follow_the_clips():
    batch = synthetic_batch(
        [
            ClipSpec(3, (32, 48), num_objects=2, absent=[(0, 1)], seed=1),
            ClipSpec(3, (32, 48), num_objects=1, seed=2, video_id=1),
        ]
    )
    inputs = mask_grid_inputs(batch, stride=4, seed=0)
    assert inputs['lab'].shape == (2, 3, 3, 8, 12)
    assert inputs['logits'].shape == inputs['boxes'].shape == (3, 3, 8, 12)
    assert inputs['clip_index'].tolist() == [0, 0, 1]
    occupied = inputs['boxes'].flatten(2).sum(2) > 0
    assert occupied.tolist() == [[True, False, True], [True, True, True], [True, True, True]]
    assert inputs['lab'][..., 0, :, :].min() >= 0 and inputs['lab'][..., 0, :, :].max() <= 100
    assert mask_grid_inputs(batch, seed=0)['logits'].equal(inputs['logits'])


def test_pixel_noise_reaches_the_objects_and_leaves_the_rest_of_the_clip():
    flat_frames, flat_clip = synthetic_clip(ClipSpec(2, (32, 48), num_objects=1, seed=6))
    noisy_frames, noisy_clip = synthetic_clip(
        ClipSpec(2, (32, 48), num_objects=1, seed=6, pixel_noise=8)
    )
    inside = torch.zeros(32, 48, dtype=torch.bool)
    x1, y1, x2, y2 = flat_clip[0].gt_instances.bboxes[0].long().tolist()
    inside[(y1 + y2) // 2 - 2 : (y1 + y2) // 2 + 2, (x1 + x2) // 2 - 2 : (x1 + x2) // 2 + 2] = True
    assert flat_frames[0][:, inside].unique(dim=1).shape[1] == 1  # one flat colour
    assert noisy_frames[0][:, inside].unique(dim=1).shape[1] > 1
    assert (noisy_frames.int() - flat_frames.int()).abs().max() <= 8
    assert noisy_clip[1].gt_instances.bboxes.equal(flat_clip[1].gt_instances.bboxes)
