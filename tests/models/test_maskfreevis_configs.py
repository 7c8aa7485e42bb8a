"""Every shipped config parses and builds; each R50 config trains and predicts on CPU.

The R50 runs use the configs' own models (no pretrained weights) on synthetic 2-clip batches of
64 x 96 frames: box-only clips for MaskFreeVIS, one mask-labelled + one box-only clip for the
COCO-joint configs, mask-labelled clips for the stock Mask2Former-VIS baselines. One R50 config
of each kind runs by default; the other R50 runs (~3 s each on one CPU thread) and the R101 /
Swin-L builds (~0.5-1.5 s each) are marked slow to keep the default file short.
"""
import glob
import os.path as osp
import time

import pytest
import torch
from mmdet.registry import MODELS
from mmengine.config import Config

from maskfreevis.testing import ClipSpec, synthetic_batch
from tests.models.small_models import CONFIG_DIR, load_config, model_cfg_of

ALL_CONFIGS = sorted(glob.glob(osp.join(CONFIG_DIR, '*.py')))
RECIPE_CONFIGS = [path for path in ALL_CONFIGS if not path.endswith('_synthetic.py')]
R50_CONFIGS = [path for path in RECIPE_CONFIGS if '_r50_' in osp.basename(path)]
# one of each kind runs by default: box-only, COCO-joint (mixed batch), stock baseline
FAST_R50 = {'maskfreevis_r50_8xb2-6k_youtubevis2019.py',
            'maskfreevis-cocojoint_r50_8xb2-70k_youtubevis2019.py',
            'mask2former-vis_r50_8xb2-6k_youtubevis2019.py'}
BOX_KEYS = ('loss_cls', 'loss_proj', 'loss_pair', 'loss_tk', 'loss_mask', 'loss_dice')
STOCK_KEYS = ('loss_cls', 'loss_mask', 'loss_dice')


def config_id(path: str) -> str:
    return osp.basename(path)[:-3]


def heavy(path: str):
    """R101 and Swin-L builds: slow (see the module docstring)."""
    name = osp.basename(path)
    marks = [pytest.mark.slow] if ('_r101_' in name or '_swin-l' in name) else []
    return pytest.param(path, id=config_id(path), marks=marks)


def r50(path: str):
    marks = [] if osp.basename(path) in FAST_R50 else [pytest.mark.slow]
    return pytest.param(path, id=config_id(path), marks=marks)


def test_every_recipe_setting_is_shipped():
    names = {config_id(path) for path in RECIPE_CONFIGS}
    for dataset in ('youtubevis2019', 'youtubevis2021', 'ovis'):
        for backbone, sizes in (('r50', '8xb2'), ('r101', '8xb2'),
                                ('swin-l-p4-w12-384-in21k', None)):
            for algo in ('maskfreevis', 'maskfreevis-cocomask', 'maskfreevis-cocojoint',
                         'mask2former-vis'):
                found = [n for n in names
                         if n.startswith(f'{algo}_{backbone}_') and n.endswith(f'_{dataset}')]
                assert len(found) == 1, (algo, backbone, dataset, found)
                if sizes:
                    assert f'_{sizes}-' in found[0]
    assert 'maskfreevis-24gb_r50_8xb2-6k_youtubevis2019' in names


@pytest.mark.parametrize('path', [heavy(p) for p in ALL_CONFIGS])
def test_config_parses_and_its_model_builds(path):
    cfg = load_config(path)
    assert cfg.default_scope == 'mmdet'
    assert cfg.custom_imports == dict(imports=['maskfreevis'], allow_failed_imports=False)
    assert dict(type='CheckpointTrustHook') in cfg.custom_hooks
    model = MODELS.build(model_cfg_of(path))
    head = model.track_head
    assert len(head.class_weight) == head.num_classes + 1 and head.class_weight[-1] == 0.1
    if cfg.model.type == 'MaskFreeVIS':
        assert type(head).__name__ == 'MaskFreeTrackHead'
        assert not hasattr(head, 'num_frames')  # T comes from the data


def test_demo_config_on_own_data_needs_only_num_classes():
    demo = [p for p in ALL_CONFIGS if osp.basename(p) == 'maskfreevis_r18_1xb4-800iter_synthetic.py']
    model_cfg = model_cfg_of(demo[0])
    model_cfg.track_head.num_classes = 7  # what --cfg-options model.track_head.num_classes=7 does
    head = MODELS.build(model_cfg).track_head
    assert head.class_weight == [1.0] * 7 + [0.1]
    assert head.cls_embed.out_features == 8


@pytest.mark.parametrize('path', [pytest.param(p, id=config_id(p)) for p in RECIPE_CONFIGS])
def test_recipe_optimiser_schedule_and_data(path):
    cfg = load_config(path)
    name = osp.basename(path)
    optim = cfg.optim_wrapper
    assert optim.type == 'AmpOptimWrapper'
    assert optim.optimizer.type == 'AdamW' and optim.optimizer.weight_decay == 0.05
    expected_lr = 5e-5 if ('_swin-l' in name and 'maskfreevis' in name) else 1e-4
    assert optim.optimizer.lr == expected_lr
    assert optim.paramwise_cfg.custom_keys['backbone'].lr_mult == 0.1
    assert optim.clip_grad == dict(max_norm=0.01, norm_type=2)
    schedule = name.rsplit('_', 1)[0].rsplit('-', 1)[-1]  # e.g. '6k'
    assert cfg.train_cfg.max_iters == int(schedule[:-1]) * 1000
    assert cfg.param_scheduler.end == cfg.train_cfg.max_iters
    gpus_batch = name.split('_')[2].split('-')[0]  # e.g. '8xb2'
    assert cfg.train_dataloader.batch_size == int(gpus_batch.split('xb')[1])
    if cfg.model.type == 'MaskFreeVIS':
        assert cfg.model.init_cfg.type == 'Pretrained'
        assert cfg.model.data_preprocessor.pad_mask is False
        tk = cfg.model.track_head.loss_tk
        assert (tk.pairing, tk.loss_weight, tk.warmup_iters) == (
            'all' if 'cocojoint' in name else 'cyclic', 0.5, 200)
        assert cfg.model.track_head.loss_proj.loss_weight == 5.0
        assert cfg.model.track_head.loss_pair.loss_weight == 5.0
        costs = [c.type for c in cfg.model.track_head.train_cfg.assigner.match_costs]
        assert costs == ['ClassificationCost', 'BoxMaskDiceCost']


def batch_for(cfg: Config, with_masks_first: bool = False, all_masks: bool = False):
    """Two clips of the config's training clip length, 64 x 96 and 56 x 80."""
    num_frames = cfg.num_frames
    return synthetic_batch([
        ClipSpec(num_frames, (64, 96), with_masks=with_masks_first or all_masks,
                 labels=[0, 1], seed=1),
        ClipSpec(num_frames, (56, 80), with_masks=all_masks, labels=[2, 3], seed=2,
                 video_id=1),
    ])


@pytest.mark.parametrize('path', [r50(p) for p in R50_CONFIGS])
def test_r50_config_trains_and_predicts_on_cpu(path):
    torch.manual_seed(0)
    cfg = load_config(path)
    model_cfg = model_cfg_of(path)
    stock = model_cfg.type == 'Mask2FormerVideo'
    if not stock:
        model_cfg.track_head.loss_tk.warmup_iters = 0  # outside a Runner: full TK weight
    model = MODELS.build(model_cfg)
    model.train()
    joint = 'cocojoint' in osp.basename(path)
    batch = batch_for(cfg, with_masks_first=joint, all_masks=stock)
    start = time.perf_counter()
    data = model.data_preprocessor(batch, True)
    losses = model(**data, mode='loss')
    keys = STOCK_KEYS if stock else BOX_KEYS
    num_layers = model.track_head.num_transformer_decoder_layers + 1
    assert set(losses) == set(keys) | {f'd{i}.{k}' for i in range(num_layers - 1) for k in keys}
    assert all(torch.isfinite(value) for value in losses.values())
    if not stock:
        for key in ('loss_proj', 'loss_pair', 'loss_tk'):
            assert losses[key] > 0, key
        assert (losses['loss_mask'] > 0) == joint and (losses['loss_dice'] > 0) == joint
    sum(losses.values()).backward()
    head = model.track_head
    assert head.pixel_decoder.mask_feature.weight.grad.abs().sum() > 0
    assert head.pixel_decoder.input_convs[0].conv.weight.grad.abs().sum() > 0
    assert head.query_feat.weight.grad.abs().sum() > 0
    assert head.query_embed.weight.grad.abs().sum() > 0

    model.eval()
    test_batch = synthetic_batch([ClipSpec(3, (64, 96), ori_shape=(96, 144), seed=3)])
    with torch.no_grad():
        (result, ) = model(**model.data_preprocessor(test_batch, False), mode='predict')
    assert len(result) == 3
    for frame in result:
        assert frame.pred_track_instances.masks.shape == (10, 96, 144)
    elapsed = time.perf_counter() - start
    print(f'{config_id(path)}: train step + predict {elapsed:.1f} s')


def test_metafile_lists_every_recipe_config():
    import mmengine
    metafile = mmengine.load(osp.join(CONFIG_DIR, 'metafile.yml'))
    listed = {model['Name']: model for model in metafile['Models']}
    assert set(listed) == {config_id(path) for path in RECIPE_CONFIGS}
    repo_root = osp.dirname(osp.dirname(CONFIG_DIR))
    for name, model in listed.items():
        assert osp.isfile(osp.join(repo_root, model['Config'])), name
        assert model['In Collection'] in {c['Name'] for c in metafile['Collections']}
