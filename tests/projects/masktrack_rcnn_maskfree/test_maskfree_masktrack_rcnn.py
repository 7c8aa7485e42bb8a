"""One box-only training step of MaskTrack R-CNN with the mask-free losses, on the CPU."""

import os.path as osp

import pytest
import torch
from mmdet.registry import DATASETS, MODELS
from mmengine.config import Config
from mmengine.dataset import pseudo_collate
from mmengine.optim import build_optim_wrapper
from mmengine.registry import init_default_scope

import projects.masktrack_rcnn_maskfree.masktrack_rcnn_maskfree  # noqa: F401  (registers)
from tests.tools.conftest import REPO_ROOT

CONFIG_DIR = osp.join(REPO_ROOT, 'projects', 'masktrack_rcnn_maskfree', 'configs')
CONFIG = osp.join(CONFIG_DIR, 'masktrack-rcnn-maskfree_r18_fpn_1xb4-800iter_synthetic.py')
NO_TK_CONFIG = osp.join(
    CONFIG_DIR, 'masktrack-rcnn-maskfree-notk_r18_fpn_1xb4-800iter_synthetic.py'
)
MASK_FREE_LOSSES = ('loss_proj', 'loss_pair', 'loss_tk')


def box_only_batch(cfg: Config, data_root: str, num_clips: int = 2) -> dict:
    """``num_clips`` key / reference frame pairs of the tiny box-only training json."""
    init_default_scope('mmdet')
    dataset_cfg = cfg.train_dataloader.dataset
    dataset_cfg.data_root = data_root
    dataset = DATASETS.build(dataset_cfg)
    return pseudo_collate([dataset[index] for index in range(num_clips)])


@pytest.fixture(scope='module')
def cfg() -> Config:
    return Config.fromfile(CONFIG)


def test_box_only_training_step(cfg, tiny_dataset):
    torch.manual_seed(0)
    init_default_scope('mmdet')
    model = MODELS.build(cfg.model)
    batch = box_only_batch(cfg, tiny_dataset)
    for clip in batch['data_samples']:
        assert len(clip) == 2  # one key and one reference frame
        for frame in range(2):
            assert 'masks' not in clip[frame].gt_instances  # boxes only
    optim_wrapper = build_optim_wrapper(model, cfg.optim_wrapper)
    mask_head = model.detector.roi_head.mask_head
    before = [p.detach().clone() for p in mask_head.parameters()]

    model.train()
    losses = model.train_step(batch, optim_wrapper)

    for key in MASK_FREE_LOSSES + ('loss_cls', 'loss_bbox', 'loss_rpn_cls', 'loss_match'):
        assert key in losses, key
        assert torch.isfinite(losses[key]), key
    assert 'loss_mask' not in losses  # no mask BCE: there is no mask to compare with
    assert losses['loss_proj'] > 0 and losses['loss_pair'] > 0 and losses['loss_tk'] >= 0
    # the box-supervised terms reach the mask branch
    assert any(not torch.equal(a, b.detach()) for a, b in zip(before, mask_head.parameters()))


def test_temporal_term_switches_off_and_has_a_gradient(tiny_dataset):
    torch.manual_seed(0)
    init_default_scope('mmdet')
    cfg = Config.fromfile(CONFIG)
    model = MODELS.build(cfg.model)
    batch = model.data_preprocessor(box_only_batch(cfg, tiny_dataset), training=True)
    # one flat colour everywhere: every candidate patch is similar, so the temporal term has
    # pairs whatever the generated textures are (on textured frames many steps select none)
    for clip in batch['data_samples']:
        for frame in range(len(clip)):
            clip[frame].mask_grid_lab = torch.full_like(clip[frame].mask_grid_lab, 50.0)
    model.train()
    losses = model.loss(batch['inputs'], batch['data_samples'])
    grads = torch.autograd.grad(
        losses['loss_tk'], list(model.detector.roi_head.mask_head.parameters()), allow_unused=True
    )
    assert losses['loss_tk'] > 0
    assert any(g is not None and g.abs().sum() > 0 for g in grads)

    no_tk = MODELS.build(Config.fromfile(NO_TK_CONFIG).model)
    no_tk.load_state_dict(model.state_dict())
    no_tk.train()
    assert no_tk.loss(batch['inputs'], batch['data_samples'])['loss_tk'] == 0


def test_needs_the_mask_free_data_preprocessor(cfg):
    init_default_scope('mmdet')
    model_cfg = cfg.model.copy()
    model_cfg.data_preprocessor = dict(type='TrackDataPreprocessor', pad_size_divisor=32)
    with pytest.raises(ValueError, match='MaskFreeDataPreprocessor'):
        MODELS.build(model_cfg)
    model_cfg.data_preprocessor = dict(cfg.model.data_preprocessor, mask_stride=8)
    with pytest.raises(ValueError, match='mask_stride'):
        MODELS.build(model_cfg)


def test_rejects_clips_that_are_not_key_reference_pairs(cfg):
    init_default_scope('mmdet')
    model = MODELS.build(cfg.model)
    with pytest.raises(ValueError, match='one key and one reference frame'):
        model.loss(torch.zeros(1, 3, 3, 64, 96), [])


def test_mask_head_upsamples_bilinearly(cfg):
    # A stride-2 deconvolution has separate weights per output phase and met the projection loss
    # with a checkerboard (alternate RoI cells ~1 and ~0, mask AP 0.000 on the demo data);
    # bilinear upsampling of the 14 x 14 logits cannot alternate from one cell to the next.
    init_default_scope('mmdet')
    mask_head = MODELS.build(cfg.model).detector.roi_head.mask_head
    assert isinstance(mask_head.upsample, torch.nn.Upsample)
    assert mask_head.upsample.mode == 'bilinear'
    features = torch.randn(2, cfg.channels, 14, 14)
    logits = mask_head(features)
    assert logits.shape[-2:] == (28, 28)
    # the 28 x 28 logits are the bilinear upsampling of the head's 14 x 14 logits
    for conv in mask_head.convs:
        features = conv(features)
    coarse = mask_head.conv_logits(features)  # a 1 x 1 convolution commutes with the upsampling
    upsampled = torch.nn.functional.interpolate(
        coarse, scale_factor=2, mode='bilinear', align_corners=False
    )
    assert torch.allclose(logits, upsampled, atol=1e-5)
