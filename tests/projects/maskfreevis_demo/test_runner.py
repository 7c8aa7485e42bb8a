"""The demo's config handling and report, without training."""

import os.path as osp

import pytest
from mmengine.config import Config

from maskfreevis_demo.analysis.supervision_comparison import VARIANT_CONFIGS
from maskfreevis_demo.datasets.real_imagery import CATEGORIES as REAL_IMAGERY_CATEGORIES
from maskfreevis_demo.datasets.real_imagery import RealImageryVISSettings
from maskfreevis_demo.datasets.synthetic import SyntheticVISSettings
from maskfreevis_demo.runner import (
    DEMO_DATASETS,
    DemoOptions,
    build_demo_config,
    demo_data_settings,
    ensure_demo_data,
    fit_schedule,
    pretraining_stage_path,
    write_results,
)

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))
CONFIG_DIR = osp.join(REPO_ROOT, 'configs', 'maskfreevis')

SCHEDULE = dict(
    train_cfg=dict(type='IterBasedTrainLoop', max_iters=800, val_interval=800),
    default_hooks=dict(
        checkpoint=dict(type='CheckpointHook', interval=800),
        logger=dict(type='LoggerHook', interval=10),
    ),
    param_scheduler=[
        dict(type='LinearLR', begin=0, end=50),
        dict(type='MultiStepLR', begin=0, end=800, milestones=[640]),
    ],
)


def test_schedule_scales_to_the_new_length():
    cfg = Config(SCHEDULE)
    fit_schedule(cfg, 100)
    assert cfg.train_cfg.max_iters == cfg.train_cfg.val_interval == 100
    assert cfg.default_hooks.checkpoint.interval == 100
    warmup, steps = cfg.param_scheduler
    assert warmup['end'] == 50 and steps['end'] == 100 and steps['milestones'] == [80]
    assert cfg.default_hooks.logger.interval == 10
    fit_schedule(cfg, 3)
    assert cfg.param_scheduler[0]['end'] == 3 and cfg.param_scheduler[1]['milestones'] == [2]
    assert cfg.default_hooks.checkpoint.interval == 3
    assert cfg.default_hooks.logger.interval == 3  # a 3-iteration run still logs its losses


def test_schedule_scales_the_loss_warmups():
    cfg = Config(
        dict(
            SCHEDULE,
            model=dict(
                track_head=dict(
                    criterion=dict(warmup_iters=dict(loss_pair=800, loss_tk=200, loss_proj=0))
                )
            ),
        )
    )
    fit_schedule(cfg, 100)
    # a ramp over the whole stage stays one; a term that is not ramped stays at full weight
    assert cfg.model.track_head.criterion.warmup_iters == dict(
        loss_pair=100, loss_tk=25, loss_proj=0
    )
    fit_schedule(cfg, 3)
    assert cfg.model.track_head.criterion.warmup_iters == dict(loss_pair=3, loss_tk=1, loss_proj=0)
    fit_schedule(Config(SCHEDULE), 100)  # a config without a criterion


def test_schedule_keeps_the_checkpoint_interval_of_a_longer_run():
    cfg = Config(SCHEDULE)
    cfg.default_hooks.checkpoint.interval = 100
    fit_schedule(cfg, 2400)
    assert cfg.default_hooks.checkpoint.interval == 100


def test_demo_config_points_every_loader_at_the_data(tmp_path):
    config = tmp_path / 'toy.py'
    loader = "dict(dataset=dict(data_root='elsewhere/', ann_file='a.json'))"
    config.write_text(
        f'train_dataloader = {loader}\nval_dataloader = {loader}\n'
        + '\n'.join(f'{k} = {v!r}' for k, v in SCHEDULE.items())
    )
    options = DemoOptions(
        config=str(config),
        data_root=str(tmp_path / 'data'),
        seed=7,
        iters=10,
        cfg_options={'train_cfg.val_interval': 5},
    )
    cfg = build_demo_config(options, str(tmp_path / 'work'))
    expected_root = osp.join(str(tmp_path / 'data'), '')
    assert cfg.train_dataloader.dataset.data_root == expected_root
    assert cfg.val_dataloader.dataset.data_root == expected_root
    assert 'test_dataloader' not in cfg
    assert cfg.randomness == dict(seed=7) and cfg.log_level == 'WARNING'
    assert cfg.train_cfg.max_iters == 10 and cfg.train_cfg.val_interval == 5  # overrides last
    assert cfg.work_dir == str(tmp_path / 'work')


def test_report_tables(tmp_path):
    ap = dict(AP=0.25, AP50=0.5, AP75=0.125, APs=-1.0, APm=0.2, APl=None)
    summary = dict(
        config='configs/toy.py',
        command='python tools/run_demo.py',
        iterations=3,
        seed=0,
        data_seed=0,
        threads=1,
        data=dict(num_train_videos=2, num_val_videos=2),
        mask_ap=ap,
        mask_ap_class_agnostic=dict(ap, AP=0.5),
        best_prediction_iou=dict(mean=0.6, above_0_5=0.75, class_accuracy=0.25, chance=0.25),
        timings_s=dict(data=1.0, train=2.0, eval=3.0, visuals=4.0, total=10.0),
    )
    paths = write_results(str(tmp_path), summary)
    markdown = open(paths['markdown']).read()
    assert (
        '| per category (YouTube-VIS mask AP) | 0.250 | 0.500 | 0.125 | – | 0.200 | – |' in markdown
    )
    assert '| class-agnostic (categories merged) | 0.500 |' in markdown
    assert 'averages **0.600** (75 % of objects above 0.5)' in markdown
    assert "has the object's category for 25 % of them (chance 25 %)" in markdown
    assert '1 s / 2 s / 3 s / 4 s / 10 s' in markdown


def test_options_default_to_the_full_generated_dataset():
    options = DemoOptions(config='c.py')
    assert options.data == RealImageryVISSettings() and options.visuals and options.progress
    assert options.data_root == DEMO_DATASETS['real-imagery'][2]
    with pytest.raises(TypeError):
        DemoOptions()  # the config is required


def test_pretraining_stage_is_the_config_that_load_from_names(tmp_path):
    (tmp_path / 'image.py').write_text('x = 1\n')
    video = tmp_path / 'video.py'

    def stage_of(load_from):
        video.write_text(f'load_from = {load_from!r}\n')
        return pretraining_stage_path(Config.fromfile(str(video)))

    # tools/train.py's default work_dir and last checkpoint of a config next to this one
    assert stage_of('work_dirs/image/iter_8.pth') == str(tmp_path / 'image.py')
    assert stage_of('./work_dirs/image/iter_8.pth') == str(tmp_path / 'image.py')
    # anything else is a checkpoint to load as the config says, not a stage to train
    assert stage_of('work_dirs/missing/iter_8.pth') is None
    assert stage_of('work_dirs/image/epoch_8.pth') is None
    assert stage_of('checkpoints/image/iter_8.pth') is None
    assert stage_of('/abs/work_dirs/image/iter_8.pth') is None
    assert stage_of(None) is None
    (tmp_path / 'plain.py').write_text('x = 1\n')
    assert pretraining_stage_path(Config.fromfile(str(tmp_path / 'plain.py'))) is None


def test_a_config_elsewhere_that_inherits_the_demo_finds_its_stage_in_the_repository(tmp_path):
    own = tmp_path / 'own.py'
    own.write_text(f'_base_ = {osp.join(CONFIG_DIR, DEMO_DATASETS["real-imagery"][1])!r}\n')
    stage = pretraining_stage_path(Config.fromfile(str(own)))
    assert stage == osp.join(
        CONFIG_DIR, 'maskfreevis-imagestage_mobilenetv2_1xb8-300iter_realimagery.py'
    )


@pytest.mark.parametrize('variant', sorted(VARIANT_CONFIGS['real-imagery']))
def test_two_stage_configs_load_where_train_py_leaves_their_image_stage(load_tool, variant):
    """``python tools/train.py IMAGE`` then ``python tools/train.py VIDEO`` works out of the box:
    the video config's load_from is the image config's default work_dir (tools/train.py's own
    rule) and the checkpoint its SafeCheckpointHook saves last (at max_iters)."""
    video = Config.fromfile(osp.join(CONFIG_DIR, VARIANT_CONFIGS['real-imagery'][variant]))
    image_path = pretraining_stage_path(video)
    assert image_path is not None and osp.dirname(image_path) == CONFIG_DIR
    train = load_tool('train.py')
    image = train.build_config(train.parse_args([image_path]))
    checkpoint = image.default_hooks.checkpoint
    assert checkpoint.type == 'SafeCheckpointHook' and checkpoint.save_last
    assert not checkpoint.get('by_epoch', True)  # named iter_<n>.pth
    template = checkpoint.get('filename_tmpl', None) or 'iter_{}.pth'
    last = osp.join(image.work_dir, template.format(image.train_cfg.max_iters))
    assert osp.normpath(video.load_from) == osp.normpath(last)
    assert pretraining_stage_path(image) is None  # the chain has two stages


def test_single_stage_demo_configs_load_nothing():
    for dataset in ('synthetic',):
        config = Config.fromfile(osp.join(CONFIG_DIR, DEMO_DATASETS[dataset][1]))
        assert config.get('load_from', None) is None and pretraining_stage_path(config) is None


def test_the_demo_configs_chain_their_stages():
    video = Config.fromfile(osp.join(CONFIG_DIR, DEMO_DATASETS['real-imagery'][1]))
    image = Config.fromfile(pretraining_stage_path(video))
    assert pretraining_stage_path(image) is None
    # the image stage: single frames, no temporal term, the pairwise term ramped in
    assert image.train_dataloader.dataset.pipeline[0]['num_frames'] == 1
    assert image.model.track_head.criterion.loss_tk.loss_weight == 0.0
    # ramped over the whole stage: at full weight before projection has formed filled masks, the
    # pairwise term collapsed the masks of photo-textured objects (docs/en/demo.md)
    assert image.model.track_head.criterion.warmup_iters['loss_pair'] == image.train_cfg.max_iters
    # the video stage: clips with the temporal term, the same model
    assert video.train_dataloader.dataset.pipeline[0]['num_frames'] == 3
    assert video.model.track_head.criterion.loss_tk.loss_weight > 0
    assert video.model.backbone == image.model.backbone
    assert video.model.track_head.num_classes == len(REAL_IMAGERY_CATEGORIES)
    # a mask grid with a short side of at least 32 cells
    width, height = video.image_scale
    assert min(width, height) // video.model.data_preprocessor.mask_stride >= 32


def test_demo_data_settings_and_generators():
    real = demo_data_settings('real-imagery', num_frames=5)
    assert isinstance(real, RealImageryVISSettings) and real.num_frames == 5
    assert real.num_train_videos == RealImageryVISSettings().num_train_videos
    assert isinstance(demo_data_settings('synthetic'), SyntheticVISSettings)
    with pytest.raises(ValueError, match="unknown demo dataset 'coco'"):
        demo_data_settings('coco')
    with pytest.raises(TypeError, match='no generator for settings of type dict'):
        ensure_demo_data('/nonexistent', 0, dict(num_frames=3))
