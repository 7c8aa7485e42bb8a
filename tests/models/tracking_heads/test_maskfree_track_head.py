"""MaskFreeTrackHead: GT collation, matching, per-clip supervision, loss keys, T independence."""
import copy

import pytest
import torch
from mmdet.structures.mask import BitmapMasks
from mmengine.logging import MessageHub
from mmengine.structures import InstanceData

from maskfreevis.models.task_modules import rasterize_boxes
from maskfreevis.testing import ClipSpec, synthetic_batch
from tests.models.small_models import build_small_model

class RecordingLoss(torch.nn.Module):
    """Wraps a loss module and keeps the inputs of its latest call."""

    def __init__(self, loss):
        super().__init__()
        self.loss = loss
        self.seen = {}
        self.calls = []

    def forward(self, mask_logits, lab, box_masks, clip_index=None, valid_masks=None,
                **kwargs):
        self.seen = dict(logits=mask_logits, lab=lab, boxes=box_masks, clip=clip_index,
                         valid=valid_masks, **kwargs)
        self.calls.append(self.seen)
        return self.loss(mask_logits, lab, box_masks, clip_index=clip_index,
                         valid_masks=valid_masks, **kwargs)

    def candidate_selection(self, lab, valid_masks=None):
        return self.loss.candidate_selection(lab, valid_masks)


LOSS_KEYS = {'loss_cls', 'loss_proj', 'loss_pair', 'loss_tk', 'loss_mask', 'loss_dice'}


@pytest.fixture(scope='module')
def model():
    torch.manual_seed(0)
    return build_small_model()


def frame_gt(boxes, labels, ids, masks=None):
    gt = InstanceData(
        bboxes=torch.tensor(boxes, dtype=torch.float32).reshape(-1, 4),
        labels=torch.tensor(labels, dtype=torch.long),
        instances_ids=torch.tensor(ids, dtype=torch.int32))
    if masks is not None:
        gt.masks = masks
    return gt


def clip_meta(num_frames, pad_shape=(32, 48), video_id=7):
    return dict(batch_input_shape=[pad_shape] * num_frames, video_id=[video_id] * num_frames)


def expected_keys(num_layers):
    keys = set(LOSS_KEYS)
    for layer in range(num_layers - 1):
        keys |= {f'd{layer}.{key}' for key in LOSS_KEYS}
    return keys


def test_preprocess_gt_collates_boxes_presence_ids_and_box_masks(model):
    head = model.track_head
    box_a, box_b = [0.0, 0.0, 12.0, 8.0], [20.0, 4.0, 40.0, 28.0]
    frames = [
        frame_gt([box_a, box_b], [3, 1], [5, 2]),
        frame_gt([box_a], [3], [5]),  # instance 2 absent
        frame_gt([box_b, box_a], [1, 3], [2, 5]),  # other order
    ]
    originals = copy.deepcopy(frames)
    (clip, ) = head.preprocess_gt(frames, [clip_meta(3)], (8, 12))

    # instances ordered by id: 2 then 5
    assert clip.labels.tolist() == [1, 3]
    assert clip.presence.tolist() == [[True, False, True], [True, True, True]]
    assert clip.instances_id.tolist() == [[2, -1, 2], [5, 5, 5]]
    assert clip.bboxes[0, 1].tolist() == [0, 0, 0, 0]
    assert clip.bboxes[0, 2].tolist() == box_b and clip.bboxes[1, 1].tolist() == box_a
    assert not clip.mask_supervised and 'masks' not in clip
    torch.testing.assert_close(
        clip.box_masks, rasterize_boxes(clip.bboxes, clip.presence, (8, 12), stride=4))
    # box_a = x [0, 12), y [0, 8) -> cells x 0..2, y 0..1 at stride 4
    assert clip.box_masks[1, 0].nonzero().tolist() == [[y, x] for y in (0, 1) for x in (0, 1, 2)]
    assert not clip.box_masks[0, 1].any()
    for frame, original in zip(frames, originals):  # inputs untouched
        assert set(frame.keys()) == set(original.keys())
        for key in original.keys():
            assert torch.equal(frame.get(key), original.get(key))


def test_preprocess_gt_pads_masks_of_mask_labelled_clips(model):
    masks = [BitmapMasks(torch.ones(n, 30, 40, dtype=torch.uint8).numpy(), 30, 40)
             for n in (2, 1)]
    frames = [frame_gt([[0, 0, 40, 30]] * 2, [0, 1], [1, 2], masks[0]),
              frame_gt([[0, 0, 40, 30]], [1], [2], masks[1])]
    (clip, ) = head_preprocess(model, frames, 2)
    assert clip.mask_supervised
    assert clip.masks.shape == (2, 2, 32, 48) and clip.masks.dtype == torch.bool
    assert clip.masks[:, :, :30, :40][clip.presence].all()
    assert not clip.masks[0, 1].any()  # instance 1 absent in frame 1
    assert not clip.masks[:, :, 30:].any() and not clip.masks[:, :, :, 40:].any()


def head_preprocess(model, frames, num_frames):
    return model.track_head.preprocess_gt(frames, [clip_meta(num_frames)], (8, 12))


@pytest.mark.parametrize('problem, match', [
    ('partial_masks', 'carry GT masks'),
    ('label_change', 'changes its class'),
    ('duplicate_id', 'occurs twice'),
    ('missing_ids', 'lacks'),
])
def test_preprocess_gt_rejects_inconsistent_clips_naming_the_video(model, problem, match):
    mask = BitmapMasks(torch.ones(1, 32, 48, dtype=torch.uint8).numpy(), 32, 48)
    box = [[0.0, 0.0, 8.0, 8.0]]
    frames = [frame_gt(box, [0], [1]), frame_gt(box, [0], [1])]
    if problem == 'partial_masks':
        frames[0].masks = mask
    elif problem == 'label_change':
        frames[1] = frame_gt(box, [2], [1])
    elif problem == 'duplicate_id':
        frames[1] = frame_gt(box * 2, [0, 0], [1, 1])
    else:
        del frames[1].instances_ids
    with pytest.raises((ValueError, KeyError), match=match) as error:
        head_preprocess(model, frames, 2)
    assert 'video 7' in str(error.value)


def test_box_clip_matching_uses_box_mask_dice(model):
    head = model.track_head
    num_queries = head.num_queries
    frames = [frame_gt([[0.0, 0.0, 16.0, 16.0]], [2], [1]) for _ in range(2)]
    (gt, ) = head_preprocess(model, frames, 2)
    logits = torch.full((num_queries, 2, 8, 12), -5.0)
    logits[3, :, 0:4, 0:4] = 5.0  # query 3 predicts exactly the box
    scores = torch.zeros(num_queries, head.num_classes + 1)
    labels, label_weights, targets, weights, pos, neg, _ = head._get_targets_single(
        scores, logits, gt, clip_meta(2))
    assert pos.tolist() == [3]
    assert labels[3] == 2 and (labels[torch.arange(num_queries) != 3] == head.num_classes).all()
    assert weights.tolist() == [1.0 if q == 3 else 0.0 for q in range(num_queries)]
    assert torch.equal(targets, gt.box_masks)
    assert label_weights.eq(1).all() and len(neg) == num_queries - 1


@pytest.mark.parametrize('num_frames', [2, 3, 5])
def test_loss_keys_finite_and_gradients_for_any_clip_length(model, num_frames):
    model.zero_grad()
    batch = synthetic_batch([
        ClipSpec(num_frames, (64, 96), labels=[0, 1], seed=1, absent=[(1, num_frames - 1)]),
        ClipSpec(num_frames, (56, 80), labels=[2, 3], seed=2, video_id=1)
    ])
    data = model.data_preprocessor(batch, True)
    losses = model(**data, mode='loss')
    num_layers = model.track_head.num_transformer_decoder_layers + 1
    assert set(losses) == expected_keys(num_layers)
    assert all(torch.isfinite(value) for value in losses.values())
    for key in ('loss_proj', 'loss_pair', 'loss_tk', 'd0.loss_proj'):
        assert losses[key] > 0
    assert losses['loss_mask'] == 0 and losses['loss_dice'] == 0
    sum(losses.values()).backward()
    head = model.track_head
    assert head.pixel_decoder.mask_feature.weight.grad.abs().sum() > 0
    assert head.query_feat.weight.grad.abs().sum() > 0
    assert head.query_embed.weight.grad.abs().sum() > 0


def test_mixed_batch_uses_mask_losses_for_the_mask_clip_only(model):
    batch = synthetic_batch([
        ClipSpec(3, (64, 96), with_masks=True, labels=[0, 1], seed=3),
        ClipSpec(3, (48, 72), labels=[2, 3], seed=4, video_id=1),
    ])
    data = model.data_preprocessor(batch, True)
    losses = model(**data, mode='loss')
    for key in ('loss_proj', 'loss_pair', 'loss_tk', 'loss_mask', 'loss_dice'):
        assert losses[key] > 0, key
    sum(losses.values()).backward()


def test_all_mask_batch_keeps_box_keys_as_graph_zeros(model):
    batch = synthetic_batch([ClipSpec(2, with_masks=True, seed=5),
                             ClipSpec(2, with_masks=True, seed=6, video_id=1)])
    data = model.data_preprocessor(batch, True)
    losses = model(**data, mode='loss')
    for key in ('loss_proj', 'loss_pair', 'loss_tk'):
        assert losses[key].item() == 0 and losses[key].requires_grad
    assert losses['loss_mask'] > 0 and losses['loss_dice'] > 0


def test_clip_without_instances_only_trains_no_object(model):
    batch = synthetic_batch([ClipSpec(3, num_objects=0, seed=14),
                             ClipSpec(3, num_objects=0, with_masks=True, seed=15, video_id=1)])
    data = model.data_preprocessor(batch, True)
    losses = model(**data, mode='loss')
    assert losses['loss_cls'] > 0
    for key in ('loss_proj', 'loss_pair', 'loss_tk', 'loss_mask', 'loss_dice'):
        assert losses[key].item() == 0 and losses[key].requires_grad
    sum(losses.values()).backward()


def test_box_losses_receive_each_instance_with_its_clip(model):
    """The TK loss gets per-clip Lab once and each matched instance's clip index."""
    head = model.track_head
    real_tk = head.loss_tk
    spy = RecordingLoss(real_tk)

    batch = synthetic_batch([
        ClipSpec(3, (64, 96), num_objects=1, labels=[0], seed=7),
        ClipSpec(3, (64, 96), with_masks=True, labels=[1, 2], seed=8, video_id=1),
        ClipSpec(3, (40, 64), num_objects=2, labels=[3, 4], seed=9, video_id=2),
    ])
    data = model.data_preprocessor(batch, True)
    head.loss_tk = spy
    try:
        model(**data, mode='loss')
    finally:
        head.loss_tk = real_tk
    # last decoder layer: clip 0 has one instance, clip 1 is mask-supervised, clip 2 has two
    seen = spy.seen
    assert seen['clip'].tolist() == [0, 2, 2]
    assert seen['lab'].shape == (3, 3, 3, 16, 24) and seen['valid'].shape == (3, 3, 16, 24)
    assert seen['logits'].shape == (3, 3, 16, 24) and seen['boxes'].shape == (3, 3, 16, 24)
    # clip 2 is 40 x 64 in a 64 x 96 batch: its padding is invalid
    assert seen['valid'][2, :, :10, :16].all() and not seen['valid'][2, :, 10:].any()
    # every instance's box lies inside its own clip's valid region
    own_valid = seen['valid'][seen['clip']]
    assert not (seen['boxes'].bool() & ~own_valid).any()


def test_colour_cues_computed_once_per_step_and_shared_by_layers(model, monkeypatch):
    """Colour similarities depend on the frames only: one computation per training step,
    whatever the number of decoder layers and instances, giving the per-call losses."""
    head = model.track_head
    batch = synthetic_batch([
        ClipSpec(3, (64, 96), num_objects=2, labels=[0, 1], seed=12),
        ClipSpec(3, (40, 64), num_objects=1, labels=[2], seed=13, video_id=1),
    ])
    data = model.data_preprocessor(batch, True)
    calls = []
    real_cues = head._colour_cues
    monkeypatch.setattr(head, '_colour_cues',
                        lambda *args: calls.append(1) or real_cues(*args))
    spy_tk, spy_pair = RecordingLoss(head.loss_tk), PairSpy(head.loss_pair)
    monkeypatch.setattr(head, 'loss_tk', spy_tk)
    monkeypatch.setattr(head, 'loss_pair', spy_pair)
    model(**data, mode='loss')
    num_layers = len(spy_tk.calls)
    assert num_layers > 1 and len(calls) == 1 and len(spy_pair.calls) == num_layers
    for tk_call, pair_call in zip(spy_tk.calls, spy_pair.calls):
        # the shared cues give exactly the losses computed from scratch for this layer
        fresh_tk = spy_tk.loss(tk_call['logits'], tk_call['lab'], tk_call['boxes'],
                               clip_index=tk_call['clip'], valid_masks=tk_call['valid'],
                               iteration=tk_call['iteration'])
        reused_tk = spy_tk.loss(tk_call['logits'], tk_call['lab'], tk_call['boxes'],
                                clip_index=tk_call['clip'], valid_masks=tk_call['valid'],
                                iteration=tk_call['iteration'], selection=tk_call['selection'])
        assert fresh_tk.item() == reused_tk.item()
        args, kwargs = pair_call
        copies = kwargs['frame_index']
        fresh_pair = spy_pair.loss(args[0], args[1][copies], args[2],
                                   valid_masks=kwargs['valid_masks'][copies])
        reused_pair = spy_pair.loss(*args, **kwargs)
        assert fresh_pair.item() == pytest.approx(reused_pair.item(), rel=1e-6)


class PairSpy(torch.nn.Module):
    """Records every call of the pairwise loss module."""

    def __init__(self, loss):
        super().__init__()
        self.loss = loss
        self.calls = []

    def neighbour_weights(self, lab, valid_masks=None):
        return self.loss.neighbour_weights(lab, valid_masks)

    def forward(self, *args, **kwargs):
        self.calls.append((args, kwargs))
        return self.loss(*args, **kwargs)


def test_box_clips_without_lab_fail_clearly(model):
    batch = synthetic_batch([ClipSpec(2, seed=10), ClipSpec(2, seed=11, video_id=1)])
    data = model.data_preprocessor(batch, True)
    features = model.backbone(data['inputs'].flatten(0, 1))
    with pytest.raises(ValueError, match='need `lab` frames'):
        model.track_head.loss(features, data['data_samples'])


def test_forward_rejects_clips_of_different_length(model):
    batch = synthetic_batch([ClipSpec(2, seed=12), ClipSpec(2, seed=13, video_id=1)])
    data = model.data_preprocessor(batch, True)
    features = model.backbone(data['inputs'].flatten(0, 1))
    shorter = copy.deepcopy(data['data_samples'])
    shorter[1].video_data_samples = shorter[1].video_data_samples[:1]
    with pytest.raises(ValueError, match='equal length'):
        model.track_head(features, shorter)


def test_head_keeps_no_fixed_clip_length(model):
    assert not hasattr(model.track_head, 'num_frames')


def test_tk_warmup_counts_training_steps_not_decoder_layers():
    """Outside a Runner every decoder layer of one step sees the same warm-up iteration."""
    torch.manual_seed(0)
    model = build_small_model(tk_warmup_iters=4)
    head = model.track_head
    spy = RecordingLoss(head.loss_tk)
    head.loss_tk = spy
    batch = synthetic_batch([ClipSpec(3, seed=21), ClipSpec(3, seed=22, video_id=1)])
    data = model.data_preprocessor(batch, True)
    num_layers = head.num_transformer_decoder_layers + 1

    MessageHub.get_instance('tk_warmup_without_runner')  # a fresh hub: no Runner iteration
    for _ in range(2):
        model(**data, mode='loss')
    assert [call['iteration'] for call in spy.calls] == [0] * num_layers + [1] * num_layers
    assert spy.loss.num_training_calls == 0, 'the head, not the loss, keeps the clock'

    # Inside a Runner the hub's iteration wins.
    MessageHub.get_instance('tk_warmup_with_runner').update_info('iter', 3)
    spy.calls.clear()
    losses = model(**data, mode='loss')
    assert {call['iteration'] for call in spy.calls} == {3}
    assert losses['loss_tk'] > 0
    spy.calls.clear()
    MessageHub.get_instance('tk_warmup_first_step').update_info('iter', 0)
    assert model(**data, mode='loss')['loss_tk'] == 0  # factor 0 / 4 at the first iteration


def test_class_weight_follows_num_classes_or_is_checked():
    from mmdet.registry import MODELS
    from tests.models.small_models import small_model_cfg
    cfg = small_model_cfg(num_classes=3)
    del cfg.track_head.loss_cls['class_weight']
    head = MODELS.build(cfg).track_head
    assert head.class_weight == [1.0, 1.0, 1.0, 0.1]  # derived: changing num_classes is enough
    cfg.track_head.loss_cls.class_weight = [1.0] * 5 + [0.1]
    with pytest.raises(ValueError, match=r'6 entries, the head needs num_classes \+ 1 = 4'):
        MODELS.build(cfg)


def test_labels_beyond_num_classes_are_named(model):
    # the fixture has 5 classes; a dataset with more categories must say what to change
    batch = synthetic_batch([ClipSpec(2, num_objects=2, labels=[1, 7], seed=14, video_id=9)])
    data = model.data_preprocessor(batch, True)
    with pytest.raises(ValueError, match=r'video 9: class label 7 outside \[0, 5\); set '
                                         r'model.track_head.num_classes'):
        model(**data, mode='loss')
