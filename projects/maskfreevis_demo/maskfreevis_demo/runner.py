"""The MaskFreeVIS demo: train from boxes on generated videos, evaluate masks, show them.

:func:`run_demo` does what ``tools/run_demo.py`` (``make demo``) runs:

1. generate the YouTube-VIS dataset if absent: real objects over real photographs
   (:mod:`maskfreevis_demo.datasets.real_imagery`, the default) or synthetic shapes
   (:mod:`maskfreevis_demo.datasets.synthetic`);
2. train the config with mmengine's Runner on the box-only training json. A config whose
   ``load_from`` is another config's default last checkpoint (``work_dirs/<config name>/
   iter_<its max_iters>.pth``, where ``tools/train.py`` leaves it; the release's recipe: a
   box-supervised image stage, then the video stage) trains that config first and starts from
   its last checkpoint instead (:func:`pretraining_stage_path`);
3. evaluate mask AP on the validation split (which has masks), once, per category (the YouTube-VIS
   metric) and class-agnostic (categories merged), plus the best prediction's mask IoU per GT
   object (:func:`maskfreevis.evaluation.evaluate_mask_quality`);
4. write into the output folder: ``results.md`` + ``results.json`` (AP tables, timings),
   ``training_curves.png``, one GIF per shown validation video (input | ground truth |
   prediction) and ``contact_sheet.png``.
"""

import functools
import json
import math
import os
import os.path as osp
import platform
import re
import time
from dataclasses import asdict, dataclass, field
from typing import Dict, List, Optional, Tuple, Union

import cv2
import torch
from mmengine.config import Config
from mmengine.runner import Runner
from tqdm import tqdm

import maskfreevis
from maskfreevis.apis.inference import inference_vis
from maskfreevis.engine import ProgressBarHook, build_runner
from maskfreevis.evaluation import evaluate_mask_quality
from maskfreevis.utils.checkpoint_files import write_text_atomically
from maskfreevis.visualization import (
    draw_comparison_panels,
    gt_instances_of_video,
    make_contact_sheet,
    plot_training_curves,
    read_scalars,
    write_gif,
)

from .datasets.real_imagery import (
    RealImageryVISSettings,
    generate_real_imagery_vis,
    real_imagery_dataset_exists,
)
from .datasets.synthetic import (
    SyntheticVISSettings,
    generate_synthetic_vis,
    synthetic_dataset_exists,
)

__all__ = [
    'METRIC_NAMES',
    'EVAL_RECORDS_FILE',
    'DemoOptions',
    'DemoDataSettings',
    'DEMO_DATASETS',
    'demo_data_settings',
    'ensure_demo_data',
    'build_demo_config',
    'pretraining_stage_path',
    'train_pretraining_stage',
    'fit_schedule',
    'render_val_videos',
    'write_results',
    'run_demo',
]

METRIC_NAMES = {
    'AP': 'youtube_vis/segm_mAP',
    'AP50': 'youtube_vis/segm_mAP_50',
    'AP75': 'youtube_vis/segm_mAP_75',
    'APs': 'youtube_vis/segm_mAP_s',
    'APm': 'youtube_vis/segm_mAP_m',
    'APl': 'youtube_vis/segm_mAP_l',
}
DATALOADERS = ('train_dataloader', 'val_dataloader', 'test_dataloader')
# frames of the generated videos are small; the drawings are magnified (by a whole factor) to at
# least this height so the tags stay readable
DRAWING_MIN_HEIGHT = 192
SHEET_FRAMES_PER_ROW = 5
# per-video matches of the final evaluation (maskfreevis.evaluation.video_bootstrap), per view
EVAL_RECORDS_FILE = 'eval_records.json'
# where tools/train.py writes a config's checkpoints by default: work_dirs/<config name>/
DEFAULT_WORK_DIRS = 'work_dirs'
# the demo's configs, where a pretraining stage named by its work_dir is looked up too
CONFIG_DIR = osp.join(
    osp.dirname(osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))),
    'configs',
    'maskfreevis',
)
DemoDataSettings = Union[RealImageryVISSettings, SyntheticVISSettings]
# dataset name -> (its settings, its demo config in configs/maskfreevis/, where it is generated)
DEMO_DATASETS = {
    'real-imagery': (
        RealImageryVISSettings,
        'maskfreevis_mobilenetv2_1xb4-200iter_realimagery.py',
        'data/real_imagery_vis',
    ),
    # the hard case for colour priors: the same objects' shapes filled with photographs
    'real-imagery-textured': (
        functools.partial(RealImageryVISSettings, object_texture='photo'),
        'maskfreevis_mobilenetv2_1xb4-200iter_realimagery.py',
        'data/real_imagery_textured_vis',
    ),
    'synthetic': (
        SyntheticVISSettings,
        'maskfreevis_r18_1xb4-800iter_synthetic.py',
        'data/synthetic_vis',
    ),
}


@dataclass
class DemoOptions:
    """One demo run.

    Attributes:
        config: the training config file (the last stage, when its ``load_from`` names a
            pretraining stage: :func:`pretraining_stage_path`).
        out_dir: where the artefacts go (the Runner's work dir is ``out_dir/work_dir``, the
            pretraining stage's ``out_dir/work_dir/pretraining_stage``).
        data_root: the generated dataset (generated there if absent).
        data_seed: seed of the generated data.
        seed: training seed.
        iters: training iterations of every stage; None keeps the configs'.
        pretraining_iters: iterations of the pretraining stage (overrides ``iters`` there).
        pretraining_dir: where the pretraining stage runs; a finished run there with the same
            config, seed, length, data and overrides is reused (the supervision comparison
            shares one between the variants whose first stage is the same). None: in
            ``out_dir``, never reused.
        data: the generated dataset: its kind (real imagery or synthetic shapes) and size.
        threads: torch CPU threads; None uses every core.
        num_gifs: validation videos to draw.
        score_thr: drawn predictions need at least this score.
        visuals: draw the GIFs and the contact sheet.
        progress: show progress bars.
        verbose: show the Runner's INFO log.
        cfg_options: config overrides (``--cfg-options`` style), applied last.
        command: how the run was started, for the report.
    """

    config: str
    out_dir: str = 'demo_outputs'
    data_root: str = 'data/real_imagery_vis'
    data_seed: int = 0
    seed: int = 0
    iters: Optional[int] = None
    pretraining_iters: Optional[int] = None
    pretraining_dir: Optional[str] = None
    data: DemoDataSettings = field(default_factory=RealImageryVISSettings)
    threads: Optional[int] = None
    num_gifs: int = 4
    score_thr: float = 0.3
    visuals: bool = True
    progress: bool = True
    verbose: bool = False
    cfg_options: Optional[dict] = None
    command: str = ''


def demo_data_settings(
    dataset: str,
    num_train_videos: Optional[int] = None,
    num_val_videos: Optional[int] = None,
    num_frames: Optional[int] = None,
) -> DemoDataSettings:
    """The settings of a :data:`DEMO_DATASETS` entry: its defaults, the given sizes (None keeps
    the default)."""
    if dataset not in DEMO_DATASETS:
        raise ValueError(
            f'unknown demo dataset {dataset!r}, expected one of {sorted(DEMO_DATASETS)}'
        )
    sizes = dict(
        num_train_videos=num_train_videos, num_val_videos=num_val_videos, num_frames=num_frames
    )
    settings_type = DEMO_DATASETS[dataset][0]
    return settings_type(**{key: value for key, value in sizes.items() if value is not None})


def ensure_demo_data(
    data_root: str, seed: int, settings: DemoDataSettings, show_progress: bool = True
) -> bool:
    """Generate the dataset that ``settings`` describes (real imagery or synthetic shapes)
    unless ``data_root`` already holds it with this seed; returns whether it was generated."""
    if isinstance(settings, RealImageryVISSettings):
        exists, generate = real_imagery_dataset_exists, generate_real_imagery_vis
    elif isinstance(settings, SyntheticVISSettings):
        exists, generate = synthetic_dataset_exists, generate_synthetic_vis
    else:
        raise TypeError(
            f'no generator for settings of type {type(settings).__name__}; expected '
            f'RealImageryVISSettings or SyntheticVISSettings'
        )
    if exists(data_root, seed, settings):
        return False
    generate(data_root, seed, settings, show_progress=show_progress)
    return True


def fit_schedule(cfg: Config, max_iters: int) -> None:
    """Change the run length of an iteration-based config.

    LR milestones and the criterion's loss warm-ups (``criterion.warmup_iters``) scale with the
    length (a ramp over the whole image stage stays a ramp over the whole stage), scheduler ends
    are kept inside it, validation happens once, at the end, and checkpoints and log lines keep
    their interval, capped at the run length (so an interrupted run resumes from its last
    interval, and a short run still saves a checkpoint and logs its losses at the end).
    """
    old_max = cfg.train_cfg.max_iters
    cfg.train_cfg.max_iters = max_iters
    cfg.train_cfg.val_interval = max_iters
    checkpoint = cfg.default_hooks.checkpoint
    checkpoint.interval = min(checkpoint.get('interval', max_iters), max_iters)
    logger = cfg.default_hooks.get('logger', None)
    if logger is not None:  # a run shorter than the log interval would log no loss at all
        logger.interval = min(logger.get('interval', max_iters), max_iters)
    schedulers = cfg.get('param_scheduler', None) or []
    for scheduler in [schedulers] if isinstance(schedulers, dict) else schedulers:
        if 'milestones' in scheduler:
            scheduler['milestones'] = [
                max(1, round(m * max_iters / old_max)) for m in scheduler['milestones']
            ]
        end = scheduler.get('end', None)
        if end is not None:
            scheduler['end'] = max_iters if end >= old_max else min(end, max_iters)
    criterion = cfg.get('model', {}).get('track_head', {}).get('criterion', {})
    warmup_iters = criterion.get('warmup_iters', None) or {}
    for loss_name, iterations in warmup_iters.items():
        if iterations > 0:
            warmup_iters[loss_name] = max(1, round(iterations * max_iters / old_max))


def build_demo_config(
    options: DemoOptions,
    work_dir: str,
    config: Optional[str] = None,
    iters: Optional[int] = None,
) -> Config:
    """The config pointed at ``options.data_root``, with the run's seed, length and logging, and
    no validation inside the training loop.

    Args:
        options: the run.
        work_dir: the Runner's work dir.
        config: a stage's config file instead of ``options.config``.
        iters: the stage's length instead of ``options.iters`` (None: that, or the config's).
    """
    cfg = Config.fromfile(config or options.config)
    data_root = osp.abspath(options.data_root) + os.sep
    for loader in DATALOADERS:
        if loader in cfg:
            cfg[loader].dataset.data_root = data_root
    iters = iters if iters is not None else options.iters
    if iters is not None:
        fit_schedule(cfg, iters)
    cfg.work_dir = work_dir
    # the demo owns its output folder: a re-run (`make demo` twice, a stage retrained with other
    # settings) replaces its own earlier run, which the work_dir guard otherwise refuses
    cfg.overwrite_work_dir = True
    if 'visualizer' in cfg:
        # mmengine keeps one visualizer per name in a process: a fixed name would send the second
        # stage's scalars to the first stage's folder; unnamed, each Runner names its own
        cfg.visualizer.pop('name', None)
    cfg.randomness = dict(seed=options.seed)
    if not options.verbose:
        cfg.log_level = 'WARNING'  # the progress bars report; scalars.json is written anyway
    if options.cfg_options:
        cfg.merge_from_dict(options.cfg_options)
    # no stage validates in its training loop: run_demo scores the video model once, after
    # training, per category and class-agnostic in one pass over the validation videos (each
    # loop validation would run the model over all of them once more)
    cfg.train_cfg.val_begin = cfg.train_cfg.max_iters + 1
    return cfg


def pretraining_stage_path(cfg: Config) -> Optional[str]:
    """The config file whose last checkpoint ``cfg`` starts from, or None.

    That is the config named by ``cfg.load_from`` when it has the form
    ``work_dirs/<config name>/iter_<n>.pth`` (``tools/train.py``'s default work_dir and the
    checkpoint it saves last) and ``<config name>.py`` lies next to ``cfg``'s file or in the
    repository's ``configs/maskfreevis/``. Any other ``load_from`` (None, a user's checkpoint) is
    no stage: the demo loads it as the config says.
    """
    load_from = cfg.get('load_from', None)
    if not isinstance(load_from, str):
        return None
    parts = osp.normpath(load_from).split(os.sep)
    if (
        len(parts) != 3
        or parts[0] != DEFAULT_WORK_DIRS
        or not re.fullmatch(r'iter_\d+\.pth', parts[2])
    ):
        return None
    own_dir = osp.dirname(osp.abspath(cfg.filename)) if cfg.filename else None
    for config_dir in (own_dir, CONFIG_DIR):
        path = osp.join(config_dir, parts[1] + '.py') if config_dir else None
        if path and osp.isfile(path):
            return path
    return None


def _build_runner_with_progress(
    cfg: Config, enabled: bool, description: str
) -> Tuple[Runner, ProgressBarHook]:
    """The Runner of ``cfg`` with a :class:`ProgressBarHook` declared in its ``custom_hooks``
    (the config stays the whole truth), and that hook (metrics and timings after training)."""
    progress = dict(type='ProgressBarHook', enabled=enabled, description=description)
    cfg.custom_hooks = [*(cfg.get('custom_hooks', None) or []), progress]
    runner = build_runner(cfg)
    return runner, next(hook for hook in runner.hooks if isinstance(hook, ProgressBarHook))


def _last_checkpoint(work_dir: str) -> str:
    """The checkpoint mmengine's CheckpointHook names in ``work_dir/last_checkpoint``."""
    pointer = osp.join(work_dir, 'last_checkpoint')
    if not osp.isfile(pointer):
        raise FileNotFoundError(f'{work_dir}: the stage saved no checkpoint (no last_checkpoint)')
    with open(pointer) as handle:
        checkpoint = handle.read().strip()
    if not osp.isfile(checkpoint):
        raise FileNotFoundError(f'{pointer} names {checkpoint}, which does not exist')
    return checkpoint


def train_pretraining_stage(
    options: DemoOptions, stage_config: str, work_dir: str
) -> Tuple[str, dict]:
    """Train (or reuse) the pretraining stage; returns its last checkpoint and its record.

    The record (``config``, ``iterations``, ``metrics``, ``train_s``, ``reused``) is also written
    to ``work_dir/stage.json`` together with what determines the run, so an identical later
    request (see ``DemoOptions.pretraining_dir``) reuses the checkpoint.
    """
    iters = options.pretraining_iters if options.pretraining_iters is not None else options.iters
    cfg = build_demo_config(options, work_dir, config=stage_config, iters=iters)
    fingerprint = dict(
        config=cfg.pretty_text,
        data_root=osp.abspath(options.data_root),
        data_seed=options.data_seed,
        data=asdict(options.data),
    )
    record_path = osp.join(work_dir, 'stage.json')
    if options.pretraining_dir is not None and osp.isfile(record_path):
        with open(record_path) as handle:
            record = json.load(handle)
        if record.get('fingerprint') == fingerprint and osp.isfile(record['checkpoint']):
            print(f'reusing the pretraining stage in {work_dir}')
            return record['checkpoint'], dict(record['summary'], reused=True)
    runner, progress = _build_runner_with_progress(cfg, options.progress, 'pretraining stage')
    runner.train()
    checkpoint = _last_checkpoint(runner.work_dir)
    summary = dict(
        config=_config_label(stage_config),
        iterations=runner.max_iters,
        metrics=progress.metrics,
        train_s=progress.timings.get('train_s', float('nan')),
        reused=False,
    )
    with open(record_path, 'w') as handle:
        json.dump(dict(fingerprint=fingerprint, checkpoint=checkpoint, summary=summary), handle)
    return checkpoint, summary


def render_val_videos(
    model: torch.nn.Module,
    cfg: Config,
    out_dir: str,
    num_videos: int,
    score_thr: float,
    show_progress: bool = True,
) -> Dict[str, List[str]]:
    """GIFs (input | ground truth | prediction) of the first validation videos, one contact sheet.

    Args:
        model: the trained model; ``model.cfg`` is set to ``cfg`` for inference.
        cfg: the run's config; its ``val_dataloader.dataset`` names the json and frames.
        out_dir: the GIFs go to ``out_dir/videos/<video name>.gif``, the sheet to
            ``out_dir/contact_sheet.png``.
        num_videos: how many videos to draw.
        score_thr: drawn predictions need at least this score.
        show_progress: show a progress bar.

    Returns:
        ``gifs`` and ``contact_sheet`` (empty without videos): the written paths.
    """
    dataset_cfg = cfg.val_dataloader.dataset
    ann_file = osp.join(dataset_cfg.data_root, dataset_cfg.ann_file)
    image_root = osp.join(dataset_cfg.data_root, dataset_cfg.data_prefix['img_path'])
    with open(ann_file) as handle:
        data = json.load(handle)
    class_names = [c['name'] for c in sorted(data['categories'], key=lambda c: c['id'])]
    model.cfg = cfg
    model.eval()
    gifs, sheet_rows, sheet_titles = [], [], []
    for video in tqdm(
        data['videos'][:num_videos], desc='drawing predictions', disable=not show_progress
    ):
        paths = [osp.join(image_root, name) for name in video['file_names']]
        frames = []
        for path in paths:
            image = cv2.imread(path)
            if image is None:
                raise FileNotFoundError(
                    f'{ann_file}: video {video["id"]}: cannot read frame {path}'
                )
            frames.append(image[..., ::-1])  # RGB
        panels, drawn_gt, drawn_pred = draw_comparison_panels(
            frames,
            gt_instances_of_video(data['annotations'], video),
            inference_vis(model, paths),
            class_names,
            score_thr,
            max(1, math.ceil(DRAWING_MIN_HEIGHT / frames[0].shape[0])),
        )
        name = video.get('name', f'video_{video["id"]}')
        gifs.append(write_gif(panels, osp.join(out_dir, 'videos', f'{name}.gif')))
        step = max(1, len(frames) // SHEET_FRAMES_PER_ROW)
        sheet_rows += [
            drawn_gt[::step][:SHEET_FRAMES_PER_ROW],
            drawn_pred[::step][:SHEET_FRAMES_PER_ROW],
        ]
        sheet_titles += [f'{name}: ground truth', f'{name}: prediction (score >= {score_thr})']
    if not sheet_rows:
        return dict(gifs=gifs, contact_sheet=[])
    sheet = osp.join(out_dir, 'contact_sheet.png')
    make_contact_sheet(sheet_rows, sheet, row_titles=sheet_titles)
    return dict(gifs=gifs, contact_sheet=[sheet])


def _fmt(value: Optional[float]) -> str:
    return '–' if value is None or value < 0 else f'{value:.3f}'


def _iterations_label(summary: dict) -> str:
    stage = summary.get('pretraining_stage')
    if not stage:
        return str(summary['iterations'])
    reused = ', reused' if stage.get('reused') else ''
    return (
        f'{stage["iterations"]} (`{stage["config"]}`{reused}), then {summary["iterations"]} '
        f'from its last checkpoint'
    )


def write_results(out_dir: str, summary: dict) -> Dict[str, str]:
    """``results.json`` (the whole summary) and ``results.md`` (AP tables and the run's facts).

    Returns:
        ``json`` and ``markdown``: the written paths.
    """
    json_path = osp.join(out_dir, 'results.json')
    write_text_atomically(json_path, json.dumps(summary, indent=2))
    t = summary['timings_s']
    best = summary['best_prediction_iou']
    rows = (
        ('per category (YouTube-VIS mask AP)', summary['mask_ap']),
        ('class-agnostic (categories merged)', summary['mask_ap_class_agnostic']),
    )
    lines = [
        '# MaskFreeVIS demo results',
        '',
        f'Trained from **boxes only** on {summary["data"]["num_train_videos"]} generated videos, '
        f'evaluated on {summary["data"]["num_val_videos"]} val videos with masks.',
        '',
        '| evaluation | mask AP | AP50 | AP75 | APs | APm | APl |',
        '|---|---|---|---|---|---|---|',
        *(
            '| ' + ' | '.join([name] + [_fmt(ap.get(k)) for k in METRIC_NAMES]) + ' |'
            for name, ap in rows
        ),
        '',
        f'Mask quality whatever the class and score: per GT object, the best video-level mask '
        f'IoU among the predictions averages **{best["mean"]:.3f}** '
        f'({100 * best["above_0_5"]:.0f} % of objects above 0.5); '
        f"that prediction has the object's category for "
        f'{100 * best["class_accuracy"]:.0f} % of them (chance {100 * best["chance"]:.0f} %).',
        '',
        '| run | value |',
        '|---|---|',
        f'| config | `{summary["config"]}` |',
        f'| iterations | {_iterations_label(summary)} |',
        f'| training seed / data seed | {summary["seed"]} / {summary["data_seed"]} |',
        f'| CPU threads | {summary["threads"]} |',
        f'| wall time: data / train / eval / drawing / total | {t["data"]:.0f} s / '
        f'{t["train"]:.0f} s / {t["eval"]:.0f} s / {t["visuals"]:.0f} s / {t["total"]:.0f} s |',
        f'| command | `{summary["command"]}` |',
        '',
    ]
    md_path = osp.join(out_dir, 'results.md')
    write_text_atomically(md_path, '\n'.join(lines))
    return dict(json=json_path, markdown=md_path)


def _config_label(config: str) -> str:
    """The config path relative to the checkout when it lies there (as the README writes it)."""
    checkout = osp.dirname(osp.dirname(osp.abspath(maskfreevis.__file__)))
    path = osp.abspath(config)
    return osp.relpath(path, checkout) if path.startswith(checkout + os.sep) else config


def run_demo(options: DemoOptions) -> dict:
    """Run the demo (see the module doc); returns the summary written to ``results.json``."""
    start = time.perf_counter()
    threads = options.threads or os.cpu_count() or 1
    torch.set_num_threads(threads)
    os.makedirs(options.out_dir, exist_ok=True)
    out_dir = osp.abspath(options.out_dir)

    if not ensure_demo_data(options.data_root, options.data_seed, options.data, options.progress):
        print(f'using the generated dataset in {options.data_root}')
    data_s = time.perf_counter() - start

    work_dir = osp.join(out_dir, 'work_dir')
    cfg = build_demo_config(options, work_dir)
    stage_config = pretraining_stage_path(cfg)
    pretraining = None
    if stage_config is not None:
        stage_dir = options.pretraining_dir or osp.join(work_dir, 'pretraining_stage')
        checkpoint, pretraining = train_pretraining_stage(
            options, stage_config, osp.abspath(stage_dir)
        )
        cfg.load_from = checkpoint
    if cfg.get('val_dataloader', None) is None or cfg.get('val_evaluator', None) is None:
        raise ValueError(
            f'{options.config}: the demo evaluates on the val_dataloader with the val_evaluator; '
            f'the config has no val_dataloader or no val_evaluator'
        )
    runner, progress = _build_runner_with_progress(cfg, options.progress, 'training')
    runner.train()

    agnostic_start = time.perf_counter()
    agnostic = evaluate_mask_quality(
        runner.model, runner.val_dataloader, options.progress, with_records=True
    )
    # per-video matches of both AP views: the supervision comparison bootstraps them
    records = agnostic.pop('records')
    per_category = agnostic.pop('per_category')
    write_text_atomically(osp.join(out_dir, EVAL_RECORDS_FILE), json.dumps(records))
    progress.timings['eval_s'] = (
        progress.timings.get('eval_s', 0.0) + time.perf_counter() - agnostic_start
    )

    visuals_start = time.perf_counter()
    artefacts: Dict[str, List[str]] = dict(gifs=[], contact_sheet=[])
    curves = plot_training_curves(
        read_scalars(runner.log_dir),
        osp.join(out_dir, 'training_curves.png'),
        f'{osp.basename(options.config)} (seed {options.seed})',
    )
    if options.visuals:
        artefacts = render_val_videos(
            runner.model, runner.cfg, out_dir, options.num_gifs, options.score_thr, options.progress
        )
    visuals_s = time.perf_counter() - visuals_start

    num_classes = len(runner.val_dataloader.dataset.metainfo['classes'])
    summary = dict(
        config=_config_label(options.config),
        command=options.command,
        iterations=runner.max_iters,
        pretraining_stage=pretraining,
        seed=options.seed,
        data_seed=options.data_seed,
        threads=threads,
        data=dict(
            root=osp.abspath(options.data_root),
            kind=type(options.data).__name__,
            **asdict(options.data),
        ),
        mask_ap={name: per_category.get(key) for name, key in METRIC_NAMES.items()},
        mask_ap_class_agnostic={name: agnostic.get(key) for name, key in METRIC_NAMES.items()},
        best_prediction_iou=dict(
            mean=agnostic['best_prediction_iou/mean'],
            above_0_5=agnostic['best_prediction_iou/above_0.5'],
            class_accuracy=agnostic['best_prediction_iou/class_accuracy'],
            chance=1.0 / num_classes,
        ),
        metrics=per_category,
        timings_s=dict(
            data=data_s,
            train=progress.timings.get('train_s', float('nan'))
            + (pretraining['train_s'] if pretraining and not pretraining['reused'] else 0.0),
            eval=progress.timings.get('eval_s', float('nan')),
            visuals=visuals_s,
            total=time.perf_counter() - start,
        ),
        environment=dict(
            torch=torch.__version__,
            python=platform.python_version(),
            maskfreevis=maskfreevis.__version__,
            cpu_count=os.cpu_count(),
        ),
        artefacts=dict(training_curves=curves, work_dir=runner.work_dir, **artefacts),
    )
    write_results(out_dir, summary)
    return summary
