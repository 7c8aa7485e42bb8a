"""MaskFreeCriterion: matching, per-clip supervision, colour cues, warm-up clock, guards."""

import contextlib

import pytest
import torch
from mmdet.registry import MODELS
from mmdet.structures import DetDataSample, TrackDataSample
from mmengine.logging import MessageHub
from mmengine.structures import InstanceData

from maskfreevis.models.task_modules import box_cells, rasterize_boxes
from maskfreevis.testing import ClipSpec, synthetic_batch
from tests.models.small_models import build_small_model, loss_keys, small_model_cfg


class RecordingLoss(torch.nn.Module):
    """Wraps the TK loss module and keeps the inputs of every call."""

    def __init__(self, loss):
        super().__init__()
        self.loss = loss
        self.calls = []

    def forward(self, mask_logits, lab, box_masks, clip_of=None, valid_masks=None, **kwargs):
        self.calls.append(
            dict(
                logits=mask_logits,
                lab=lab,
                boxes=box_masks,
                clip=clip_of,
                valid=valid_masks,
                **kwargs,
            )
        )
        return self.loss(
            mask_logits, lab, box_masks, clip_of=clip_of, valid_masks=valid_masks, **kwargs
        )

    def candidate_selection(self, lab, valid_masks=None):
        return self.loss.candidate_selection(lab, valid_masks)


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


@contextlib.contextmanager
def swapped(module, name, replacement):
    """``module.<name>`` replaced for the block (pytest's monkeypatch restores instance
    ``__dict__`` entries only, which loses ``nn.Module`` children)."""
    original = getattr(module, name)
    setattr(module, name, replacement)
    try:
        yield replacement
    finally:
        setattr(module, name, original)


@pytest.fixture(scope='module')
def model():
    torch.manual_seed(0)
    return build_small_model()


@pytest.fixture
def fresh_message_hub():
    """A new current MessageHub (no 'iter': no Runner), removed afterwards."""
    name = f'test_criterion_clock_{id(object())}'
    hub = MessageHub.get_instance(name)
    yield hub
    MessageHub._instance_dict.pop(name, None)


def decoded(model, specs):
    """What the head hands its criterion for a batch: per-output class and mask logits, the
    per-clip GT and the clips' colours."""
    data = model.data_preprocessor(synthetic_batch(specs), True)
    head = model.track_head
    features = model.backbone(data['inputs'].flatten(0, 1))
    all_cls_scores, all_mask_preds = head(features, data['data_samples'])
    gts = head.preprocess_gt(data['data_samples'])
    clips = data['data_samples']
    lab = torch.stack([torch.stack([c[t].mask_grid_lab for t in range(len(c))]) for c in clips])
    valid = torch.stack([torch.stack([c[t].mask_grid_valid for t in range(len(c))]) for c in clips])
    return all_cls_scores, all_mask_preds, gts, lab, valid


def one_clip_gt(boxes, labels, num_frames=2, pad_shape=(32, 48)):
    """Per-clip GT of a box-only clip whose instances are present in every frame."""
    frames = []
    for index in range(num_frames):
        frame = DetDataSample(metainfo=dict(batch_input_shape=pad_shape, video_id=3))
        frame.gt_instances = InstanceData(
            bboxes=torch.tensor(boxes, dtype=torch.float32),
            labels=torch.tensor(labels),
            instances_ids=torch.arange(1, len(labels) + 1),
        )
        frames.append(frame)
    clip = TrackDataSample()
    clip.video_data_samples = frames
    return clip


def test_box_clip_matching_uses_box_mask_dice(model, monkeypatch):
    criterion = model.track_head.criterion
    num_queries = model.track_head.num_queries
    (gt,) = model.track_head.preprocess_gt([one_clip_gt([[0.0, 0.0, 16.0, 16.0]], [2])])
    target = criterion._clip_targets(gt, (8, 12))
    lab, valid = torch.rand(1, 2, 3, 8, 12) * 50, torch.ones(1, 2, 8, 12, dtype=torch.bool)
    assert torch.equal(target.masks, rasterize_boxes(gt.bboxes, gt.presence, (8, 12), 4))
    assert torch.equal(target.grid_boxes, box_cells(gt.bboxes, gt.presence, (8, 12), 4))
    logits = torch.full((num_queries, 2, 8, 12), -5.0)
    logits[3, :, 0:4, 0:4] = 5.0  # query 3 predicts exactly the box
    scores = torch.zeros(num_queries, criterion.num_classes + 1)
    matched, instance = criterion._match(scores, logits, target)
    assert matched.tolist() == [3] and instance.tolist() == [0]

    # the classification targets of the layer: query 3 has class 2, the others no-object
    seen = {}
    real_loss_cls = criterion.loss_cls
    real_forward = real_loss_cls.forward

    def recording_loss_cls(scores, labels, weights, avg_factor):
        seen.update(labels=labels, weights=weights, avg_factor=avg_factor)
        return real_forward(scores, labels, weights, avg_factor=avg_factor)

    monkeypatch.setattr(real_loss_cls, 'forward', recording_loss_cls)
    criterion._layer_losses(
        scores[None],
        logits[None],
        [target],
        lab,
        valid,
        criterion._colour_cues(lab, valid),
        criterion.warmup_factors(0),
    )
    labels = seen['labels']
    assert labels[3] == 2 and (labels[torch.arange(num_queries) != 3] == 5).all()
    assert seen['weights'].eq(1).all()
    assert seen['avg_factor'].item() == pytest.approx(1.0 + 0.1 * (num_queries - 1))


def test_box_targets_are_the_boxes_on_the_mask_grid(model):
    head, criterion = model.track_head, model.track_head.criterion
    box_a, box_b = [0.0, 0.0, 12.0, 8.0], [20.0, 4.0, 40.0, 28.0]
    clip = one_clip_gt([box_a, box_b], [3, 1], num_frames=2)
    clip[1].gt_instances = clip[1].gt_instances[:1]  # instance 2 (box_b) absent in frame 1
    (gt,) = head.preprocess_gt([clip])
    target = criterion._clip_targets(gt, (8, 12))
    assert target.masks.dtype == torch.bool and target.masks.shape == (2, 2, 8, 12)
    # box_a = x [0, 12), y [0, 8) -> cells x 0..2, y 0..1 at stride 4
    assert target.masks[0, 0].nonzero().tolist() == [[y, x] for y in (0, 1) for x in (0, 1, 2)]
    assert target.grid_boxes[0, 0].tolist() == [0, 0, 3, 2]
    assert not target.masks[1, 1].any() and target.grid_boxes[1, 1].tolist() == [0, 0, 0, 0]
    assert 'masks' not in gt and 'grid_boxes' not in gt  # the head's GT is left alone


def test_mixed_batch_uses_mask_losses_for_the_mask_clip_only(model):
    batch = synthetic_batch(
        [
            ClipSpec(3, (64, 96), with_masks=True, labels=[0, 1], seed=3),
            ClipSpec(3, (48, 72), labels=[2, 3], seed=4, video_id=1),
        ]
    )
    data = model.data_preprocessor(batch, True)
    losses = model(**data, mode='loss')
    for key in ('loss_proj', 'loss_pair', 'loss_tk', 'loss_mask', 'loss_dice'):
        assert losses[key] > 0, key
    sum(losses.values()).backward()


def test_all_mask_batch_keeps_box_keys_as_graph_zeros(model):
    batch = synthetic_batch(
        [ClipSpec(2, with_masks=True, seed=5), ClipSpec(2, with_masks=True, seed=6, video_id=1)]
    )
    data = model.data_preprocessor(batch, True)
    losses = model(**data, mode='loss')
    for key in ('loss_proj', 'loss_pair', 'loss_tk'):
        assert losses[key].item() == 0 and losses[key].requires_grad
    assert losses['loss_mask'] > 0 and losses['loss_dice'] > 0


def test_clips_without_instances_only_train_no_object_and_keep_the_graph(model):
    model.zero_grad()
    batch = synthetic_batch(
        [
            ClipSpec(3, num_objects=0, seed=14),
            ClipSpec(3, num_objects=0, with_masks=True, seed=15, video_id=1),
        ]
    )
    data = model.data_preprocessor(batch, True)
    losses = model(**data, mode='loss')
    assert set(losses) == loss_keys(model.track_head.num_transformer_decoder_layers + 1)
    assert losses['loss_cls'] > 0
    for key in ('loss_proj', 'loss_pair', 'loss_tk', 'loss_mask', 'loss_dice'):
        assert losses[key].item() == 0 and losses[key].requires_grad
        assert str(losses[key].item()) == '0.0'  # not -0.0
    sum(losses.values()).backward()
    # every parameter of the mask branch is in the backward, with a zero gradient
    assert model.track_head.pixel_decoder.mask_feature.weight.grad is not None


def test_box_losses_receive_each_instance_with_its_clip(model):
    """The TK loss gets per-clip Lab once and each matched instance's clip."""
    criterion = model.track_head.criterion
    batch = synthetic_batch(
        [
            ClipSpec(3, (64, 96), num_objects=1, labels=[0], seed=7),
            ClipSpec(3, (64, 96), with_masks=True, labels=[1, 2], seed=8, video_id=1),
            ClipSpec(3, (40, 64), num_objects=2, labels=[3, 4], seed=9, video_id=2),
        ]
    )
    with swapped(criterion, 'loss_tk', RecordingLoss(criterion.loss_tk)) as spy:
        model(**model.data_preprocessor(batch, True), mode='loss')
    # last decoder layer: clip 0 has one instance, clip 1 is mask-supervised, clip 2 has two
    seen = spy.calls[-1]
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
    criterion = model.track_head.criterion
    batch = synthetic_batch(
        [
            ClipSpec(3, (64, 96), num_objects=2, labels=[0, 1], seed=12),
            ClipSpec(3, (40, 64), num_objects=1, labels=[2], seed=13, video_id=1),
        ]
    )
    data = model.data_preprocessor(batch, True)
    calls = []
    real_cues = criterion._colour_cues
    monkeypatch.setattr(
        criterion, '_colour_cues', lambda *args: calls.append(1) or real_cues(*args)
    )
    with swapped(criterion, 'loss_tk', RecordingLoss(criterion.loss_tk)) as spy_tk, swapped(
        criterion, 'loss_pair', PairSpy(criterion.loss_pair)
    ) as spy_pair:
        model(**data, mode='loss')
    num_layers = len(spy_tk.calls)
    assert num_layers > 1 and len(calls) == 1 and len(spy_pair.calls) == num_layers
    for tk_call, pair_call in zip(spy_tk.calls, spy_pair.calls):
        # the shared cues give exactly the losses computed from scratch for this layer
        fresh_tk = spy_tk.loss(
            tk_call['logits'],
            tk_call['lab'],
            tk_call['boxes'],
            clip_of=tk_call['clip'],
            valid_masks=tk_call['valid'],
            weight_scale=tk_call['weight_scale'],
        )
        reused_tk = spy_tk.loss(
            tk_call['logits'],
            tk_call['lab'],
            tk_call['boxes'],
            clip_of=tk_call['clip'],
            valid_masks=tk_call['valid'],
            weight_scale=tk_call['weight_scale'],
            selection=tk_call['selection'],
        )
        assert fresh_tk.item() == reused_tk.item()
        args, kwargs = pair_call
        copies = kwargs['frame_of']
        fresh_pair = spy_pair.loss(
            args[0], args[1][copies], args[2], valid_masks=kwargs['valid_masks'][copies]
        )
        reused_pair = spy_pair.loss(
            *args, **{k: v for k, v in kwargs.items() if k != 'weight_scale'}
        )
        assert fresh_pair.item() == pytest.approx(reused_pair.item(), rel=1e-6)


def test_box_clips_without_colours_fail_clearly(model):
    all_cls_scores, all_mask_preds, gts, lab, valid = decoded(
        model, [ClipSpec(2, seed=10), ClipSpec(2, seed=11, video_id=1)]
    )
    criterion = model.track_head.criterion
    with pytest.raises(ValueError, match='need `lab` frames .* MaskFreeDataPreprocessor'):
        criterion(all_cls_scores, all_mask_preds, gts)
    with pytest.raises(ValueError, match=r'lab has shape \(2, 2, 3, 8, 12\)'):
        criterion(all_cls_scores, all_mask_preds, gts, lab[..., ::2, ::2], valid)


# ------------------------------------------------------------------ warm-up
@pytest.fixture(scope='module')
def step_inputs(model):
    """Decoder outputs, GT and colours of one box-only batch (no gradient needed)."""
    with torch.no_grad():
        return decoded(model, [ClipSpec(3, seed=21), ClipSpec(3, seed=22, video_id=1)])


def criterion_with(model, **warmup_iters):
    cfg = small_model_cfg().track_head.criterion
    cfg.update(num_classes=5, mask_stride=4)
    cfg['warmup_iters'] = warmup_iters  # replaced, not merged
    criterion = MODELS.build(cfg)
    criterion.train()
    return criterion


def unramped_losses(model, step_inputs):
    return criterion_with(model)(*step_inputs)


def test_tk_ramp_follows_the_runner_iteration(model, step_inputs, fresh_message_hub):
    full = unramped_losses(model, step_inputs)
    criterion = criterion_with(model, loss_tk=200)
    for iteration, factor in [(0, 0.0), (50, 0.25), (200, 1.0), (900, 1.0)]:
        fresh_message_hub.update_info('iter', iteration)
        losses = criterion(*step_inputs)
        for key in full:
            if key.endswith('loss_tk'):
                unit = full[key] / 0.5  # loss_weight 0.5
                assert losses[key].item() == ((0.5 * factor) * unit).item(), (iteration, key)
            else:
                assert losses[key].item() == full[key].item(), (iteration, key)
    assert full['loss_tk'] > 0


def test_pairwise_ramp_when_configured_and_off_by_default(model, step_inputs, fresh_message_hub):
    full = unramped_losses(model, step_inputs)
    assert criterion_with(model).warmup_iters == {}  # nothing ramped unless asked
    assert MODELS.build(
        dict(type='MaskFreeCriterion', num_classes=5, mask_stride=4)
    ).warmup_iters == dict(loss_tk=200)  # released
    criterion = criterion_with(model, loss_pair=4, loss_proj=2)
    fresh_message_hub.update_info('iter', 1)
    losses = criterion(*step_inputs)
    for key in full:
        if key.endswith('loss_pair'):
            expected = (5.0 * 0.25) * (full[key] / 5.0)
        elif key.endswith('loss_proj'):
            expected = (5.0 * 0.5) * (full[key] / 5.0)
        else:
            expected = full[key]
        assert losses[key].item() == pytest.approx(expected.item(), rel=1e-6), key
    assert losses['loss_pair'] < full['loss_pair'] and losses['loss_tk'] == full['loss_tk']


def test_one_clock_counts_training_steps_not_decoder_layers(model, step_inputs, fresh_message_hub):
    """Outside a Runner every decoder layer of one step sees the same warm-up factor, and the
    clock advances once per training call of the criterion (not in eval mode)."""
    full = unramped_losses(model, step_inputs)
    criterion = criterion_with(model, loss_tk=4)
    spy = criterion.loss_tk = RecordingLoss(criterion.loss_tk)  # a criterion of this test only
    num_layers = len(step_inputs[0])
    values = [criterion(*step_inputs)['loss_tk'].item() for _ in range(6)]
    assert values == pytest.approx(
        [0.5 * min(i / 4, 1.0) * (full['loss_tk'].item() / 0.5) for i in range(6)], rel=1e-6
    )
    factors = [call['weight_scale'] for call in spy.calls]
    assert factors == [min(i / 4, 1.0) for i in range(6) for _ in range(num_layers)]
    assert criterion.num_training_steps == 6
    criterion.eval()
    criterion(*step_inputs)
    assert criterion.num_training_steps == 6  # evaluation does not advance training
    criterion.train()

    # inside a Runner the hub's iteration wins (the own count still follows the steps)
    fresh_message_hub.update_info('iter', 3)
    spy.calls.clear()
    losses = criterion(*step_inputs)
    assert {call['weight_scale'] for call in spy.calls} == {0.75} and losses['loss_tk'] > 0
    fresh_message_hub.update_info('iter', 0)
    assert criterion(*step_inputs)['loss_tk'] == 0  # factor 0 / 4 at the first iteration


@pytest.mark.parametrize(
    'warmup_iters, match',
    [
        (dict(loss_cls=10), r"box losses .* got \['loss_cls'\]"),
        (dict(loss_tk=-1), r"warmup_iters\['loss_tk'\] must be an int >= 0"),
        (dict(loss_tk=2.5), r"warmup_iters\['loss_tk'\] must be an int >= 0"),
    ],
)
def test_warmup_iters_are_checked(warmup_iters, match):
    with pytest.raises(ValueError, match=match):
        MODELS.build(
            dict(type='MaskFreeCriterion', num_classes=5, mask_stride=4, warmup_iters=warmup_iters)
        )


# ------------------------------------------------------------------- guards
@pytest.mark.parametrize('kind, layer', [('mask', 1), ('class', 0), ('mask', -1)])
def test_non_finite_logits_raise_before_matching(
    model, step_inputs, fresh_message_hub, kind, layer
):
    all_cls_scores, all_mask_preds, gts, lab, valid = step_inputs
    all_cls_scores, all_mask_preds = list(all_cls_scores), list(all_mask_preds)
    outputs = all_mask_preds if kind == 'mask' else all_cls_scores
    outputs[layer] = outputs[layer].clone()
    outputs[layer][0, 1].view(-1)[3] = float('nan') if kind == 'mask' else float('inf')
    fresh_message_hub.update_info('iter', 1234)
    shown_layer = layer % len(outputs)
    with pytest.raises(
        FloatingPointError,
        match=rf'training iteration 1234: the {kind} logits of decoder output '
        rf'{shown_layer} are not finite .* learning rate is likely too '
        r'high, or gradients are not clipped',
    ):
        criterion_with(model)(all_cls_scores, all_mask_preds, gts, lab, valid)


def test_class_weight_follows_num_classes_or_is_checked():
    cfg = small_model_cfg(num_classes=3)
    criterion = MODELS.build(cfg).track_head.criterion
    assert criterion.class_weight == [1.0, 1.0, 1.0, 0.1]  # derived: changing num_classes is enough
    assert criterion.loss_cls.class_weight == [1.0, 1.0, 1.0, 0.1]
    cfg.track_head.criterion.loss_cls.class_weight = [1.0] * 5 + [0.1]
    with pytest.raises(ValueError, match=r'6 entries, the criterion needs num_classes \+ 1 = 4'):
        MODELS.build(cfg)
    cfg.track_head.criterion.loss_cls.class_weight = [2.0] * 3 + [0.5]  # a checked choice
    assert MODELS.build(cfg).track_head.criterion.class_weight == [2.0, 2.0, 2.0, 0.5]
    # on the criterion's device as a buffer that checkpoints do not carry
    assert criterion.class_weight_tensor.tolist() == pytest.approx([1.0, 1.0, 1.0, 0.1])
    assert 'class_weight_tensor' not in criterion.state_dict()


# ------------------------------------------------------------- host syncs
def test_one_host_sync_per_step_the_finiteness_check(model, step_inputs, fresh_message_hub):
    """No decoder layer's matching bookkeeping or losses read a device value on the host: the
    only read of the whole call and its backward is the finiteness check (the Hungarian
    solver's copy of each cost matrix is a sync on an accelerator, invisible on the CPU)."""
    from maskfreevis_demo.analysis.profiling import HostSyncRecorder

    all_cls_scores, all_mask_preds, gts, lab, valid = step_inputs
    outputs = [
        [output.detach().requires_grad_(True) for output in layer_outputs]
        for layer_outputs in (all_cls_scores, all_mask_preds)
    ]
    criterion = criterion_with(model)
    with HostSyncRecorder() as recorder:
        losses = criterion(*outputs, gts, lab, valid)
        sum(losses.values()).backward()
    assert len(outputs[1]) > 1 and losses['loss_tk'].item() > 0
    assert recorder.by_place(lambda place: place.split(':')[0] + place.split(' ')[1]) == {
        'maskfree_criterion.py_check_finite': 1
    }


@pytest.mark.parametrize('num_queries, num_gts', [(6, 3), (4, 4), (3, 5), (5, 0)])
def test_assigned_queries_without_host_reads_equal_nonzero(num_queries, num_gts):
    from maskfreevis.models.criteria.maskfree_criterion import _assigned_queries

    gen = torch.Generator().manual_seed(num_queries * 10 + num_gts)
    num_matched = min(num_queries, num_gts)
    gt_inds = torch.zeros(num_queries, dtype=torch.long)
    queries = torch.randperm(num_queries, generator=gen)[:num_matched]
    gt_inds[queries] = torch.randperm(num_gts, generator=gen)[:num_matched] + 1
    expected = torch.nonzero(gt_inds > 0).squeeze(-1)
    assert _assigned_queries(gt_inds, num_matched).tolist() == expected.tolist()
    assert _assigned_queries(gt_inds, None).tolist() == expected.tolist()


def test_a_non_hungarian_assigner_keeps_every_assigned_query(model, step_inputs):
    """Assigners that may leave instances unmatched are read with nonzero, as before."""
    from mmdet.models.task_modules.assigners import AssignResult

    class EveryOtherQuery:
        """Assigns instance 0 to the even queries only (not a Hungarian assigner)."""

        def assign(self, pred_instances, gt_instances, img_meta=None):
            gt_inds = torch.zeros(len(pred_instances), dtype=torch.long)
            gt_inds[::2] = 1
            return AssignResult(len(gt_instances), gt_inds, None, labels=None)

    criterion = criterion_with(model)
    criterion.assigner = EveryOtherQuery()
    all_cls_scores, all_mask_preds, gts, lab, valid = step_inputs
    matched, instance = criterion._match(
        all_cls_scores[-1][0],
        all_mask_preds[-1][0],
        criterion._clip_targets(gts[0], lab.shape[-2:]),
    )
    assert matched.tolist() == list(range(0, all_cls_scores[-1].shape[1], 2))
    assert instance.unique().tolist() == [0]


# ------------------------------------------------------------- mixed precision
def test_demo_model_box_step_under_bfloat16_autocast_matches_float32():
    """The release trains under AMP: a box-only training step of the demo model under CPU
    bfloat16 autocast gives finite losses within 2 % of float32 (measured 0.05 % on the total,
    at most 0.8 % on one term), because the losses run their log-sigmoids and colour distances
    in float32 whatever the autocast."""
    import os.path as osp

    from maskfreevis_demo.runner import DEMO_DATASETS
    from tests.models.small_models import CONFIG_DIR, model_cfg_of

    cfg = model_cfg_of(osp.join(CONFIG_DIR, DEMO_DATASETS['real-imagery'][1]))
    cfg.track_head.criterion.warmup_iters = {}  # the TK term at full weight
    torch.manual_seed(0)
    model = MODELS.build(cfg)
    model.train()
    batch = synthetic_batch(
        [ClipSpec(3, (128, 192), num_objects=2, seed=clip, video_id=clip) for clip in range(2)]
    )

    def step(autocast):
        torch.manual_seed(1)
        model.zero_grad()
        data = model.data_preprocessor(batch, True)
        with torch.autocast('cpu', dtype=torch.bfloat16, enabled=autocast):
            losses = model(**data, mode='loss')
        sum(losses.values()).backward()
        grads = [p.grad for p in model.parameters() if p.grad is not None]
        assert all(torch.isfinite(grad).all() for grad in grads)
        return losses

    full, mixed = step(False), step(True)
    for key in ('loss_proj', 'loss_pair', 'loss_tk', 'd0.loss_tk', 'd0.loss_pair'):
        assert mixed[key].dtype == torch.float32 and torch.isfinite(mixed[key])
        assert full[key].item() > 0
        assert mixed[key].item() == pytest.approx(full[key].item(), rel=0.02), key
    total_full = sum(value.item() for value in full.values())
    total_mixed = sum(value.item() for value in mixed.values())
    assert total_mixed == pytest.approx(total_full, rel=0.02)
