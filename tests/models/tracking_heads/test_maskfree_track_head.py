"""MaskFreeTrackHead: per-clip GT collation, decoding any clip length, criterion wiring."""

import copy

import pytest
import torch
from mmdet.registry import MODELS
from mmdet.structures import DetDataSample, TrackDataSample
from mmengine.structures import InstanceData

from maskfreevis.models.criteria import MaskFreeCriterion
from maskfreevis.testing import ClipSpec, synthetic_batch
from tests.models.small_models import build_small_model, loss_keys, small_model_cfg


@pytest.fixture(scope='module')
def model():
    torch.manual_seed(0)
    return build_small_model()


def frame_gt(boxes, labels, ids, masks=None):
    gt = InstanceData(
        bboxes=torch.tensor(boxes, dtype=torch.float32).reshape(-1, 4),
        labels=torch.tensor(labels, dtype=torch.long),
        instances_ids=torch.tensor(ids, dtype=torch.int32),
    )
    if masks is not None:
        gt.masks = masks
    return gt


def clip_sample(frame_gts, pad_shape=(32, 48), video_id=7):
    """A ``TrackDataSample`` whose frames carry ``frame_gts`` and the batch metainfo."""
    frames = []
    for index, gt in enumerate(frame_gts):
        frame = DetDataSample(
            metainfo=dict(batch_input_shape=pad_shape, video_id=video_id, frame_id=index)
        )
        frame.gt_instances = gt
        frames.append(frame)
    clip = TrackDataSample()
    clip.video_data_samples = frames
    return clip


def test_preprocess_gt_collates_boxes_presence_ids_per_clip(model):
    head = model.track_head
    box_a, box_b = [0.0, 0.0, 12.0, 8.0], [20.0, 4.0, 40.0, 28.0]
    frames = [
        frame_gt([box_a, box_b], [3, 1], [5, 2]),
        frame_gt([box_a], [3], [5]),  # instance 2 absent
        frame_gt([box_b, box_a], [1, 3], [2, 5]),  # other order
    ]
    originals = copy.deepcopy(frames)
    (clip,) = head.preprocess_gt([clip_sample(frames)])

    # instances ordered by id: 2 then 5
    assert clip.labels.tolist() == [1, 3]
    assert clip.presence.tolist() == [[True, False, True], [True, True, True]]
    assert clip.instances_id.tolist() == [[2, -1, 2], [5, 5, 5]]
    assert clip.bboxes[0, 1].tolist() == [0, 0, 0, 0]
    assert clip.bboxes[0, 2].tolist() == box_b and clip.bboxes[1, 1].tolist() == box_a
    assert not clip.mask_supervised and 'masks' not in clip
    # the clip's per-frame metainfo lists travel along (mmdet's per-video img_meta)
    assert clip.metainfo['frame_id'] == [0, 1, 2] and clip.video_id == [7, 7, 7]
    for frame, original in zip(frames, originals):  # inputs untouched
        assert set(frame.keys()) == set(original.keys())
        for key in original.keys():
            assert torch.equal(frame.get(key), original.get(key))


def test_preprocess_gt_collates_the_padded_masks_of_mask_labelled_clips(model):
    def padded(num):  # what MaskFreeDataPreprocessor hands over: 30 x 40 masks in 32 x 48
        masks = torch.zeros(num, 32, 48, dtype=torch.bool)
        masks[:, :30, :40] = True
        return masks

    frames = [
        frame_gt([[0, 0, 40, 30]] * 2, [0, 1], [1, 2], padded(2)),
        frame_gt([[0, 0, 40, 30]], [1], [2], padded(1)),
    ]
    (clip,) = model.track_head.preprocess_gt([clip_sample(frames)])
    assert clip.mask_supervised
    assert clip.masks.shape == (2, 2, 32, 48) and clip.masks.dtype == torch.bool
    assert clip.masks[:, :, :30, :40][clip.presence].all()
    assert not clip.masks[0, 1].any()  # instance 1 absent in frame 1
    assert not clip.masks[:, :, 30:].any() and not clip.masks[:, :, :, 40:].any()


@pytest.mark.parametrize(
    'problem, match',
    [
        ('partial_masks', 'carry GT masks'),
        ('label_change', 'changes its class'),
        ('duplicate_id', 'occurs twice'),
        ('missing_ids', 'lacks'),
        ('unpadded_masks', 'not padded to the batch'),
    ],
)
def test_preprocess_gt_rejects_inconsistent_clips_naming_the_video(model, problem, match):
    mask = torch.ones(1, 32, 48, dtype=torch.bool)
    box = [[0.0, 0.0, 8.0, 8.0]]
    frames = [frame_gt(box, [0], [1]), frame_gt(box, [0], [1])]
    if problem == 'partial_masks':
        frames[0].masks = mask
    elif problem == 'label_change':
        frames[1] = frame_gt(box, [2], [1])
    elif problem == 'duplicate_id':
        frames[1] = frame_gt(box * 2, [0, 0], [1, 1])
    elif problem == 'missing_ids':
        del frames[1].instances_ids
    else:
        frames[0].masks, frames[1].masks = mask, mask[:, :30]
    with pytest.raises((ValueError, KeyError), match=match) as error:
        model.track_head.preprocess_gt([clip_sample(frames)])
    assert 'video 7' in str(error.value)


@pytest.mark.parametrize('num_frames', [2, 3, 5])
def test_loss_keys_finite_and_gradients_for_any_clip_length(model, num_frames):
    model.zero_grad()
    batch = synthetic_batch(
        [
            ClipSpec(num_frames, (64, 96), labels=[0, 1], seed=1, absent=[(1, num_frames - 1)]),
            ClipSpec(num_frames, (56, 80), labels=[2, 3], seed=2, video_id=1),
        ]
    )
    data = model.data_preprocessor(batch, True)
    losses = model(**data, mode='loss')
    num_layers = model.track_head.num_transformer_decoder_layers + 1
    assert set(losses) == loss_keys(num_layers)
    assert all(torch.isfinite(value) for value in losses.values())
    for key in ('loss_proj', 'loss_pair', 'loss_tk', 'd0.loss_proj'):
        assert losses[key] > 0
    assert losses['loss_mask'] == 0 and losses['loss_dice'] == 0
    sum(losses.values()).backward()
    head = model.track_head
    assert head.pixel_decoder.mask_feature.weight.grad.abs().sum() > 0
    assert head.query_feat.weight.grad.abs().sum() > 0
    assert head.query_embed.weight.grad.abs().sum() > 0


def test_forward_rejects_clips_of_different_length(model):
    batch = synthetic_batch([ClipSpec(2, seed=12), ClipSpec(2, seed=13, video_id=1)])
    data = model.data_preprocessor(batch, True)
    features = model.backbone(data['inputs'].flatten(0, 1))
    shorter = copy.deepcopy(data['data_samples'])
    shorter[1].video_data_samples = shorter[1].video_data_samples[:1]
    with pytest.raises(ValueError, match='equal length'):
        model.track_head(features, shorter)


def test_head_keeps_no_fixed_clip_length_and_no_losses_of_its_own(model):
    head = model.track_head
    for gone in (
        'num_frames',
        'loss_cls',
        'loss_mask',
        'loss_dice',
        'class_weight',
        'assigner',
        'sampler',
    ):
        assert not hasattr(head, gone), gone
    assert isinstance(head.criterion, MaskFreeCriterion)
    assert head.criterion.num_classes == head.num_classes == 5
    assert head.criterion.mask_stride == head.mask_stride == 4


def test_labels_beyond_num_classes_are_named(model):
    # the fixture has 5 classes; a dataset with more categories must say what to change
    batch = synthetic_batch([ClipSpec(2, num_objects=2, labels=[1, 7], seed=14, video_id=9)])
    data = model.data_preprocessor(batch, True)
    with pytest.raises(
        ValueError,
        match=r'video 9: class label 7 outside \[0, 5\); set '
        r'model.track_head.num_classes',
    ):
        model(**data, mode='loss')


@pytest.mark.parametrize('key', ['loss_tk', 'loss_cls', 'train_cfg'])
def test_losses_and_train_cfg_given_to_the_head_say_where_they_moved(key):
    cfg = small_model_cfg()
    cfg.track_head[key] = dict(type='TemporalKNNPatchLoss')
    with pytest.raises(
        TypeError,
        match=rf"\['{key}'\]: matching and losses moved to "
        r'track_head.criterion',
    ):
        MODELS.build(cfg)


@pytest.mark.parametrize('num_frames', [2, 5])
def test_a_fixed_clip_length_given_to_the_head_is_refused(num_frames):
    cfg = small_model_cfg()
    cfg.track_head.num_frames = num_frames
    with pytest.raises(
        TypeError,
        match=rf'num_frames={num_frames}: the clip length T comes from the data.*'
        r'remove model.track_head.num_frames',
    ):
        MODELS.build(cfg)


@pytest.mark.parametrize('key, value, head_value', [('num_classes', 3, 5), ('mask_stride', 8, 4)])
def test_criterion_settings_that_contradict_the_head_are_rejected(key, value, head_value):
    cfg = small_model_cfg()
    cfg.track_head.criterion[key] = value
    with pytest.raises(
        ValueError,
        match=rf'track_head.criterion.{key} = {value}, but the head '
        rf'has {head_value}',
    ):
        MODELS.build(cfg)
    cfg.track_head.criterion[key] = head_value  # the same value is fine
    assert getattr(MODELS.build(cfg).track_head.criterion, key) == head_value


@pytest.mark.parametrize(
    'key, value, meaning',
    [
        ('num_queries', 0, 'object queries per clip'),
        ('num_queries', -3, 'object queries per clip'),
        ('num_queries', 2.5, 'object queries per clip'),
        ('num_classes', 0, 'the categories of the dataset'),
    ],
)
def test_no_queries_or_classes_is_refused_at_build(key, value, meaning):
    """num_queries=0 trained on a loss of 0 and saved a checkpoint that predicts nothing."""
    cfg = small_model_cfg()
    cfg.track_head[key] = value
    with pytest.raises(
        ValueError,
        match=rf'model.track_head.{key} must be a positive integer \({meaning}.*\), got {value}',
    ):
        MODELS.build(cfg)
