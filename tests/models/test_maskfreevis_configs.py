"""Every shipped config parses, has the model schema of its kind, builds and trains one step.

The training runs use the configs' own models (no pretrained weights) on synthetic 2-clip batches
of 64 x 96 frames: box-only clips for MaskFreeVIS, one mask-labelled + one box-only clip for the
COCO-joint configs, mask-labelled clips for the stock Mask2Former-VIS baselines; the R50 runs also
predict a 3-frame video. One config of each kind trains by default (R50 box-only, R50 COCO-joint,
R50 baseline, the demo); the others (~3 s each for R50/R18, more for R101 / Swin-L) and the
R101 / Swin-L builds (~0.5-1.5 s each) are marked slow to keep the default run short.
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
# the CPU demo configs (generated data) are not recipes of the release
DEMO_SUFFIXES = ('_synthetic.py', '_realimagery.py')
RECIPE_CONFIGS = [path for path in ALL_CONFIGS if not path.endswith(DEMO_SUFFIXES)]
R50_CONFIGS = [path for path in RECIPE_CONFIGS if '_r50_' in osp.basename(path)]
# one of each kind trains by default: box-only, COCO-joint (mixed batch), stock baseline, demo
FAST_TRAINING = {
    'maskfreevis_r50_8xb2-6k_youtubevis2019.py',
    'maskfreevis-cocojoint_r50_8xb2-70k_youtubevis2019.py',
    'mask2former-vis_r50_8xb2-6k_youtubevis2019.py',
    'maskfreevis_r18_1xb4-800iter_synthetic.py',
    'maskfreevis-imagestage_mobilenetv2_1xb8-300iter_realimagery.py',
    'maskfreevis_mobilenetv2_1xb4-200iter_realimagery.py',
}
BOX_KEYS = ('loss_cls', 'loss_proj', 'loss_pair', 'loss_tk', 'loss_mask', 'loss_dice')
STOCK_KEYS = ('loss_cls', 'loss_mask', 'loss_dice')
STOCK_HEAD_KEYS = ('loss_cls', 'loss_mask', 'loss_dice', 'train_cfg')


def config_id(path: str) -> str:
    return osp.basename(path)[:-3]


def is_heavy(path: str) -> bool:
    name = osp.basename(path)
    return '_r101_' in name or '_swin-l' in name


def heavy(path: str):
    """R101 and Swin-L builds: slow (see the module docstring)."""
    marks = [pytest.mark.slow] if is_heavy(path) else []
    return pytest.param(path, id=config_id(path), marks=marks)


def trained_by_default(path: str):
    marks = [] if osp.basename(path) in FAST_TRAINING else [pytest.mark.slow]
    return pytest.param(path, id=config_id(path), marks=marks)


def train_clip_length(cfg: Config) -> int:
    """T of the config's training clips (the video dataset's `SampleClipFrames`)."""
    dataset = cfg.train_dataloader.dataset
    video = dataset.datasets[-1] if dataset.type == 'ConcatDataset' else dataset
    (sampler,) = [t for t in video.pipeline if t.type == 'SampleClipFrames']
    return sampler.num_frames


def test_every_recipe_setting_is_shipped():
    names = {config_id(path) for path in RECIPE_CONFIGS}
    for dataset in ('youtubevis2019', 'youtubevis2021', 'ovis'):
        for backbone, sizes in (
            ('r50', '8xb2'),
            ('r101', '8xb2'),
            ('swin-l-p4-w12-384-in21k', None),
        ):
            for algo in (
                'maskfreevis',
                'maskfreevis-cocomask',
                'maskfreevis-cocojoint',
                'mask2former-vis',
            ):
                found = [
                    n
                    for n in names
                    if n.startswith(f'{algo}_{backbone}_') and n.endswith(f'_{dataset}')
                ]
                assert len(found) == 1, (algo, backbone, dataset, found)
                if sizes:
                    assert f'_{sizes}-' in found[0]
    assert 'maskfreevis-24gb_r50_8xb2-6k_youtubevis2019' in names


@pytest.mark.parametrize('path', [heavy(p) for p in ALL_CONFIGS])
def test_config_parses_and_its_model_builds(path):
    cfg = load_config(path)
    assert cfg.default_scope == 'mmdet'
    assert cfg.custom_imports == dict(imports=['maskfreevis'], allow_failed_imports=False)
    # the runtime the config declares: our checkpoint hook, never a hook added behind its back
    assert cfg.default_hooks.checkpoint.type == 'SafeCheckpointHook'
    model = MODELS.build(model_cfg_of(path))
    head = model.track_head
    if cfg.model.type == 'MaskFreeVIS':
        assert type(head).__name__ == 'MaskFreeTrackHead'
        assert not hasattr(head, 'num_frames')  # T comes from the data
        class_weight = head.criterion.class_weight
        # the demo's small frames use stride 2 (docs/en/demo.md), every other config the release's 4
        expected_stride = 2 if 'mobilenetv2' in osp.basename(path) else 4
        assert model.data_preprocessor.mask_stride == head.mask_stride == expected_stride
    else:
        class_weight = head.class_weight
    assert len(class_weight) == head.num_classes + 1 and class_weight[-1] == 0.1


@pytest.mark.parametrize('path', [pytest.param(p, id=config_id(p)) for p in ALL_CONFIGS])
def test_model_schema(path):
    """MaskFreeVIS configs: preprocessor and criterion of the new schema, no stock head keys;
    baselines: the stock mmdet model."""
    model = load_config(path).model
    head = model.track_head
    if model.type == 'Mask2FormerVideo':
        assert (model.data_preprocessor.type, head.type) == (
            'TrackDataPreprocessor',
            'Mask2FormerTrackHead',
        )
        assert head.num_frames == 2 and all(key in head for key in STOCK_HEAD_KEYS)
        return
    assert model.type == 'MaskFreeVIS' and head.type == 'MaskFreeTrackHead'
    assert model.data_preprocessor.type == 'MaskFreeDataPreprocessor'
    assert 'pad_mask' not in model.data_preprocessor  # it pads GT masks per clip itself
    assert not [key for key in head if key.startswith('loss_') or key == 'train_cfg']
    assert 'num_frames' not in head
    criterion = head.criterion
    assert criterion.type == 'MaskFreeCriterion'
    assert 'sampler' not in criterion and 'warmup_iters' not in criterion.loss_tk
    assert criterion.loss_pair.type == 'PairwiseColourLoss'
    # only the demo's image stage ramps the pairwise term in (the release's image stage does)
    ramped = {'loss_tk', 'loss_pair'} if '-imagestage' in osp.basename(path) else {'loss_tk'}
    assert set(criterion.warmup_iters) == ramped


def test_demo_config_on_own_data_needs_only_num_classes():
    demo = osp.join(CONFIG_DIR, 'maskfreevis_r18_1xb4-800iter_synthetic.py')
    model_cfg = model_cfg_of(demo)
    model_cfg.track_head.num_classes = 7  # what --cfg-options model.track_head.num_classes=7 does
    head = MODELS.build(model_cfg).track_head
    assert head.criterion.class_weight == [1.0] * 7 + [0.1]
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
    test_scale = cfg.test_dataloader.dataset.pipeline[0].transforms[1].scale
    assert test_scale == ((1333, 480) if '_swin-l' in name else (1333, 360))
    assert cfg.val_dataloader == cfg.test_dataloader
    if 'ovis' in name:
        assert cfg.model.track_head.num_classes == 25
    expected_frames = {'maskfreevis-cocojoint': 3, 'maskfreevis-24gb': 3, 'mask2former-vis': 2}
    assert train_clip_length(cfg) == expected_frames.get(name.split('_')[0], 5)
    if cfg.model.type == 'MaskFreeVIS':
        assert cfg.model.init_cfg.type == 'Pretrained'
        criterion = cfg.model.track_head.criterion
        tk = criterion.loss_tk
        assert (tk.pairing, tk.loss_weight, criterion.warmup_iters.loss_tk) == (
            'all' if 'cocojoint' in name else 'cyclic',
            0.5,
            200,
        )
        assert criterion.loss_proj.loss_weight == 5.0
        assert criterion.loss_pair.loss_weight == 5.0
        costs = [c.type for c in criterion.assigner.match_costs]
        assert costs == ['ClassificationCost', 'BoxMaskDiceCost']


def test_joint_configs_map_coco_with_the_video_datasets_table():
    for path in RECIPE_CONFIGS:
        if 'cocojoint' not in path:
            continue
        coco, video = load_config(path).train_dataloader.dataset.datasets
        table = {
            'youtubevis2019': 'youtube_vis_2019',
            'youtubevis2021': 'youtube_vis_2021',
            'ovis': 'ovis',
        }[config_id(path).rsplit('_', 1)[1]]
        assert (coco.type, coco.class_mapping) == ('CocoPseudoVideoDataset', table), path
        assert 'metainfo' not in coco and 'metainfo' not in video, path
        assert video.type == 'BoxVISDataset'


def batch_for(cfg: Config, with_masks_first: bool = False, all_masks: bool = False):
    """Two clips of the config's training clip length, 64 x 96 and 56 x 80."""
    num_frames = train_clip_length(cfg)
    return synthetic_batch(
        [
            ClipSpec(
                num_frames,
                (64, 96),
                with_masks=with_masks_first or all_masks,
                labels=[0, 1],
                seed=1,
            ),
            ClipSpec(num_frames, (56, 80), with_masks=all_masks, labels=[2, 3], seed=2, video_id=1),
        ]
    )


@pytest.mark.parametrize('path', [trained_by_default(p) for p in ALL_CONFIGS])
def test_config_trains_one_step_on_cpu(path):
    torch.manual_seed(0)
    cfg = load_config(path)
    model_cfg = model_cfg_of(path)
    stock = model_cfg.type == 'Mask2FormerVideo'
    if not stock:
        model_cfg.track_head.criterion.warmup_iters = dict()  # outside a Runner: full TK weight
    model = MODELS.build(model_cfg)
    model.train()
    joint = 'cocojoint' in osp.basename(path)
    masksup = 'masksup' in osp.basename(path)
    batch = batch_for(cfg, with_masks_first=joint, all_masks=stock or masksup)
    start = time.perf_counter()
    data = model.data_preprocessor(batch, True)
    losses = model(**data, mode='loss')
    keys = STOCK_KEYS if stock else BOX_KEYS
    num_layers = model.track_head.num_transformer_decoder_layers + 1
    assert set(losses) == set(keys) | {f'd{i}.{k}' for i in range(num_layers - 1) for k in keys}
    assert all(torch.isfinite(value) for value in losses.values())
    if not (stock or masksup):
        criterion = model_cfg.track_head.criterion
        for key in ('loss_proj', 'loss_pair', 'loss_tk'):
            assert (losses[key] > 0) == (criterion[key].loss_weight > 0), key
        assert (losses['loss_mask'] > 0) == joint and (losses['loss_dice'] > 0) == joint
    sum(losses.values()).backward()
    head = model.track_head
    assert head.pixel_decoder.mask_feature.weight.grad.abs().sum() > 0
    assert head.pixel_decoder.input_convs[0].conv.weight.grad.abs().sum() > 0
    assert head.query_feat.weight.grad.abs().sum() > 0
    assert head.query_embed.weight.grad.abs().sum() > 0
    if '_r50_' in osp.basename(path):
        model.eval()
        test_batch = synthetic_batch([ClipSpec(3, (64, 96), ori_shape=(96, 144), seed=3)])
        with torch.no_grad():
            (result,) = model(**model.data_preprocessor(test_batch, False), mode='predict')
        assert len(result) == 3
        for frame in result:
            assert frame.pred_track_instances.masks.shape == (10, 96, 144)
    elapsed = time.perf_counter() - start
    print(f'{config_id(path)}: train step (+ predict for R50) {elapsed:.1f} s')


def test_metafile_lists_every_config():
    import mmengine

    metafile = mmengine.load(osp.join(CONFIG_DIR, 'metafile.yml'))
    listed = {model['Name']: model for model in metafile['Models']}
    assert set(listed) == {config_id(path) for path in ALL_CONFIGS}
    repo_root = osp.dirname(osp.dirname(CONFIG_DIR))
    for name, model in listed.items():
        assert osp.isfile(osp.join(repo_root, model['Config'])), name
        assert model['In Collection'] in {c['Name'] for c in metafile['Collections']}
