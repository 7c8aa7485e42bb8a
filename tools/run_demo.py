"""MaskFreeVIS demo: train from boxes only on a generated video dataset, evaluate masks, show them.

Steps (what ``make demo`` runs):

1. generate the synthetic YouTube-VIS dataset (``maskfreevis.datasets.synthetic``) if absent;
2. train the small MaskFreeVIS config on CPU with mmengine's Runner (box-only train json);
3. evaluate mask AP on the val split (which has masks) with ``YouTubeVISLocalMetric``, per
   category (the YouTube-VIS metric) and class-agnostic (categories merged), plus the best
   prediction's mask IoU per GT object (mask quality whatever the class);
4. write into ``--out-dir``: ``results.md`` + ``results.json`` (AP table, timings),
   ``training_curves.png`` (from the run's ``vis_data/scalars.json``), one GIF per shown val video
   (input | ground truth | prediction, coloured masks with ids) and ``contact_sheet.png``.

Tiny run for tests: ``--iters 3 --train-videos 2 --val-videos 2 --frames 4``.
The supervision comparison (``tools/analysis_tools/compare_supervision.py``) calls this script once
per variant and seed with ``--no-visuals``.
"""
import argparse
import contextlib
import io
import json
import os
import os.path as osp
import platform
import re
import sys
import time
from typing import Dict, List, Optional, Sequence, Tuple

import cv2
import numpy as np
import pycocotools.mask as mask_utils
import torch
from mmengine.config import Config, DictAction
from mmengine.hooks import Hook
from mmengine.runner import Runner
from mmengine.structures import InstanceData
from mmdet.structures import TrackDataSample
from tqdm import tqdm

REPO_ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
if REPO_ROOT not in sys.path:  # run from a checkout without installing
    sys.path.insert(0, REPO_ROOT)

import maskfreevis  # noqa: E402  (registers the plugin)
from maskfreevis.apis import (draw_instances, draw_video, inference_vis,  # noqa: E402
                              make_contact_sheet, write_gif)
from maskfreevis.datasets.synthetic import (SyntheticVISSettings,  # noqa: E402
                                            generate_synthetic_vis, synthetic_dataset_exists)

DEFAULT_CONFIG = osp.join(REPO_ROOT, 'configs', 'maskfreevis',
                          'maskfreevis_r18_1xb4-800iter_synthetic.py')
METRIC_NAMES = {
    'AP': 'youtube_vis/segm_mAP',
    'AP50': 'youtube_vis/segm_mAP_50',
    'AP75': 'youtube_vis/segm_mAP_75',
    'APs': 'youtube_vis/segm_mAP_s',
    'APm': 'youtube_vis/segm_mAP_m',
    'APl': 'youtube_vis/segm_mAP_l',
}
DATALOADERS = ('train_dataloader', 'val_dataloader', 'test_dataloader')


class ProgressBarHook(Hook):
    """tqdm bars for training and evaluation; keeps the last validation metrics and timings."""

    priority = 'LOW'

    def __init__(self, enabled: bool = True) -> None:
        self.enabled = enabled
        self.metrics: Dict[str, float] = {}
        self.timings: Dict[str, float] = {}
        self._bar: Optional[tqdm] = None
        self._start = 0.0

    def before_train(self, runner) -> None:
        self._start = time.perf_counter()
        self._bar = tqdm(total=runner.max_iters, initial=runner.iter, desc='training',
                         disable=not self.enabled, dynamic_ncols=True)

    def after_train_iter(self, runner, batch_idx: int, data_batch=None, outputs=None) -> None:
        self._bar.update(1)
        if outputs and 'loss' in outputs:
            loss = outputs['loss']
            loss = loss.detach() if hasattr(loss, 'detach') else loss
            self._bar.set_postfix(loss=f'{float(loss):.3f}', refresh=False)
        if runner.iter + 1 >= runner.max_iters:
            self._bar.close()
            self.timings['train_s'] = time.perf_counter() - self._start

    def before_val_epoch(self, runner) -> None:
        self._start = time.perf_counter()
        self._bar = tqdm(total=len(runner.val_dataloader), desc='evaluating (val videos)',
                         disable=not self.enabled, dynamic_ncols=True)

    def after_val_iter(self, runner, batch_idx: int, data_batch=None, outputs=None) -> None:
        self._bar.update(1)

    def after_val_epoch(self, runner, metrics: Optional[Dict[str, float]] = None) -> None:
        self._bar.close()
        self.metrics = dict(metrics or {})
        self.timings['eval_s'] = time.perf_counter() - self._start


def class_agnostic_view(video: TrackDataSample) -> TrackDataSample:
    """The same video with every GT and predicted instance in one class ``object``.

    Mask2Former-VIS outputs the top-10 (query, class) pairs, so one query can appear with several
    classes; those copies have identical masks and are merged (highest score kept) so that a
    duplicate is not counted as a false positive.
    """
    frames = [video[t] for t in range(len(video))]
    preds = [frame.pred_track_instances for frame in frames]
    stacked = torch.stack([p.masks for p in preds], 1).flatten(1)  # (N, T*H*W)
    unique, group = torch.unique(stacked, dim=0, return_inverse=True)
    scores = preds[0].scores.new_full((len(unique), ), -1.0).scatter_reduce(
        0, group, preds[0].scores, 'amax')
    order = torch.arange(len(group))
    keep = order.new_full((len(unique), ), len(group)).scatter_reduce(0, group, order, 'amin')
    agnostic = []
    for frame, pred in zip(frames, preds):
        frame = frame.clone()
        frame.set_metainfo(dict(instances=[dict(inst, bbox_label=0)
                                           for inst in frame.metainfo.get('instances', [])]))
        frame.pred_track_instances = InstanceData(
            masks=pred.masks[keep], bboxes=pred.bboxes[keep], scores=scores,
            labels=torch.zeros_like(pred.labels[keep]),
            instances_id=torch.arange(len(keep)))
        agnostic.append(frame)
    return TrackDataSample(video_data_samples=agnostic)


def best_predictions(video: TrackDataSample) -> List[Tuple[float, bool]]:
    """Per GT object of a video: the highest video-level mask IoU of any prediction (class and
    score ignored), and whether that prediction has the object's category.

    The IoU is the "best query per object" mask quality of the issue's scale check; the category
    check tells classification apart from mask quality, which AP mixes.
    """
    frames = [video[t] for t in range(len(video))]
    pred = torch.stack([f.pred_track_instances.masks for f in frames], 1).flatten(1).float()
    pred_labels = frames[0].pred_track_instances.labels  # one label per video-level track
    gt_by_id: Dict[int, List[Optional[np.ndarray]]] = {}
    gt_labels: Dict[int, int] = {}
    for t, frame in enumerate(frames):
        for inst in frame.metainfo.get('instances', []):
            gt_by_id.setdefault(inst['instance_id'], [None] * len(frames))[t] = \
                mask_utils.decode(inst['mask'])
            gt_labels[inst['instance_id']] = int(inst['bbox_label'])
    if not gt_by_id:
        return []
    if pred.shape[0] == 0:
        return [(0.0, False)] * len(gt_by_id)
    shape = frames[0].metainfo['ori_shape'][:2]
    gt = torch.stack([
        torch.from_numpy(np.stack([m if m is not None else np.zeros(shape, np.uint8)
                                   for m in masks])).flatten() for masks in gt_by_id.values()
    ]).float()  # (M, T*H*W)
    inter = pred @ gt.T  # (N, M)
    union = pred.sum(1, keepdim=True) + gt.sum(1) - inter
    best_iou, best = (inter / union.clamp(min=1)).max(0)
    return [(float(iou), int(pred_labels[index]) == gt_labels[instance_id])
            for iou, index, instance_id in zip(best_iou, best, gt_by_id)]


def evaluate_mask_quality(model, dataloader, show_progress: bool) -> Dict[str, float]:
    """Class-agnostic mask AP (categories merged) and the best-prediction IoU per GT object."""
    from maskfreevis.evaluation import YouTubeVISLocalMetric
    metric = YouTubeVISLocalMetric(metric='youtube_vis_ap')
    metric.dataset_meta = dict(classes=('object', ))
    model.eval()
    matches: List[Tuple[float, bool]] = []
    # the vendored evaluator prints its tables; the summary reports the numbers
    with torch.no_grad(), contextlib.redirect_stdout(io.StringIO()):
        for data_batch in tqdm(dataloader, desc='evaluating class-agnostic',
                               disable=not show_progress, file=sys.stderr):
            outputs = model.val_step(data_batch)
            for video in outputs:
                matches += best_predictions(video)
            metric.process(data_batch, [class_agnostic_view(v).to_dict() for v in outputs])
        results = metric.evaluate(size=len(dataloader.dataset))
    ious = np.array([iou for iou, _ in matches])
    correct = np.array([same_class for _, same_class in matches])
    results['best_prediction_iou/mean'] = float(ious.mean()) if matches else float('nan')
    results['best_prediction_iou/above_0.5'] = float((ious > 0.5).mean()) \
        if matches else float('nan')
    results['best_prediction_iou/class_accuracy'] = float(correct.mean()) \
        if matches else float('nan')
    return results


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    defaults = SyntheticVISSettings()
    parser = argparse.ArgumentParser(description='MaskFreeVIS demo: train from boxes, evaluate '
                                     'mask AP, draw predictions')
    parser.add_argument('--config', default=DEFAULT_CONFIG, help='training config')
    parser.add_argument('--out-dir', default='demo_outputs', help='where artefacts go')
    parser.add_argument('--data-root', default='data/synthetic_vis',
                        help='generated dataset location (generated if absent)')
    parser.add_argument('--data-seed', type=int, default=0, help='seed of the generated data')
    parser.add_argument('--seed', type=int, default=0, help='training seed')
    parser.add_argument('--iters', type=int, default=None,
                        help='training iterations (default: the config\'s)')
    parser.add_argument('--train-videos', type=int, default=defaults.num_train_videos)
    parser.add_argument('--val-videos', type=int, default=defaults.num_val_videos)
    parser.add_argument('--frames', type=int, default=defaults.num_frames,
                        help='frames per generated video')
    parser.add_argument('--threads', type=int, default=None,
                        help='torch CPU threads (default: all cores)')
    parser.add_argument('--num-gifs', type=int, default=4, help='val videos to draw')
    parser.add_argument('--score-thr', type=float, default=0.3,
                        help='drawn predictions need at least this score')
    parser.add_argument('--no-visuals', action='store_true',
                        help='skip GIFs and contact sheet (results + curves only)')
    parser.add_argument('--no-progress', action='store_true', help='no progress bars')
    parser.add_argument('--verbose', action='store_true', help='show the Runner\'s INFO log')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='config overrides, key=value (applied last)')
    return parser.parse_args(argv)


def prepare_data(args: argparse.Namespace) -> SyntheticVISSettings:
    """Generate the dataset unless ``--data-root`` already holds one with the same settings."""
    settings = SyntheticVISSettings(num_train_videos=args.train_videos,
                                    num_val_videos=args.val_videos, num_frames=args.frames)
    if synthetic_dataset_exists(args.data_root, args.data_seed, settings):
        print(f'using the generated dataset in {args.data_root}')
    else:
        generate_synthetic_vis(args.data_root, args.data_seed, settings,
                               show_progress=not args.no_progress)
    return settings


def build_config(args: argparse.Namespace, work_dir: str) -> Config:
    """The demo config pointed at ``--data-root``, with the run's seed, length and logging."""
    cfg = Config.fromfile(args.config)
    data_root = osp.abspath(args.data_root) + os.sep
    for loader in DATALOADERS:
        if loader in cfg:
            cfg[loader].dataset.data_root = data_root
    if args.iters is not None:
        _fit_schedule(cfg, args.iters)
    cfg.work_dir = work_dir
    cfg.randomness = dict(seed=args.seed)
    if not args.verbose:
        cfg.log_level = 'WARNING'  # the progress bars report; scalars.json is written anyway
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    return cfg


def _fit_schedule(cfg: Config, max_iters: int) -> None:
    """Change the run length; LR milestones scale with it, validation stays at the end."""
    old_max = cfg.train_cfg.max_iters
    cfg.train_cfg.max_iters = max_iters
    cfg.train_cfg.val_interval = max_iters
    cfg.default_hooks.checkpoint.interval = max_iters
    schedulers = cfg.get('param_scheduler', None) or []
    for scheduler in [schedulers] if isinstance(schedulers, dict) else schedulers:
        if 'milestones' in scheduler:
            scheduler['milestones'] = [max(1, round(m * max_iters / old_max))
                                       for m in scheduler['milestones']]
        end = scheduler.get('end', None)
        if end is not None:
            scheduler['end'] = max_iters if end >= old_max else min(end, max_iters)


def read_scalars(log_dir: str) -> List[dict]:
    """Rows of the run's ``vis_data/scalars.json`` (one json object per logged step)."""
    path = osp.join(log_dir, 'vis_data', 'scalars.json')
    if not osp.isfile(path):
        return []
    with open(path) as handle:
        return [json.loads(line) for line in handle if line.strip()]


def plot_training_curves(rows: List[dict], path: str, title: str) -> Optional[str]:
    """Loss terms (last decoder layer) and learning rate against iteration, as a PNG."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    train_rows = [r for r in rows if 'loss' in r and 'iter' in r]
    if not train_rows:
        return None
    # terms that stay zero (e.g. the mask losses of a box-only run) have no place on a log axis
    keys = sorted({k for r in train_rows for k in r
                   if k.startswith('loss') and not re.match(r'd\d+\.', k) and r[k] > 0})
    iters = [r['iter'] for r in train_rows]
    fig, (ax_loss, ax_lr) = plt.subplots(2, 1, figsize=(7, 6), sharex=True,
                                         gridspec_kw=dict(height_ratios=[3, 1]))
    for key in keys:
        values = [r.get(key, np.nan) for r in train_rows]
        ax_loss.plot(iters, values, label=key, linewidth=2 if key == 'loss' else 1)
    ax_loss.set_yscale('log')
    ax_loss.set_ylabel('loss (all layers for "loss", last layer otherwise)')
    ax_loss.legend(fontsize=8)
    ax_loss.set_title(title, fontsize=9)
    ax_loss.grid(alpha=0.3)
    ax_lr.plot(iters, [r.get('lr', np.nan) for r in train_rows], color='k')
    ax_lr.set_ylabel('lr')
    ax_lr.set_xlabel('iteration')
    ax_lr.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def gt_instances_of_video(annotations: List[dict], video: dict) -> List[dict]:
    """Per frame: ``masks (K, H, W)`` and ``ids`` of the GT instances present in that frame."""
    anns = [a for a in annotations if a['video_id'] == video['id']]
    frames = []
    for f in range(video['length']):
        masks, ids = [], []
        for k, ann in enumerate(anns):
            rle = (ann.get('segmentations') or [None] * video['length'])[f]
            if rle is not None:
                masks.append(mask_utils.decode(rle).astype(bool))
                ids.append(k + 1)
        shape = (video['height'], video['width'])
        frames.append(dict(masks=np.array(masks).reshape(-1, *shape), ids=ids))
    return frames


def render_val_videos(model, cfg: Config, out_dir: str, num_videos: int, score_thr: float,
                      show_progress: bool) -> Dict[str, List[str]]:
    """GIFs (input | GT | prediction) for the first val videos, and one contact sheet."""
    dataset_cfg = cfg.val_dataloader.dataset
    ann_file = osp.join(dataset_cfg.data_root, dataset_cfg.ann_file)
    image_root = osp.join(dataset_cfg.data_root, dataset_cfg.data_prefix['img_path'])
    with open(ann_file) as handle:
        data = json.load(handle)
    class_names = [c['name'] for c in sorted(data['categories'], key=lambda c: c['id'])]
    model.cfg = cfg
    model.eval()
    gifs, sheet_rows, sheet_titles = [], [], []
    upscale = 3
    for video in tqdm(data['videos'][:num_videos], desc='drawing predictions',
                      disable=not show_progress):
        paths = [osp.join(image_root, name) for name in video['file_names']]
        frames = [cv2.imread(p)[..., ::-1] for p in paths]  # RGB
        predictions = inference_vis(model, paths)
        drawn_pred = draw_video(frames, predictions, class_names, score_thr, upscale)
        gt = gt_instances_of_video(data['annotations'], video)
        drawn_gt = [draw_instances(f, g['masks'], g['ids'], upscale=upscale)
                    for f, g in zip(frames, gt)]
        raw = [np.repeat(np.repeat(f, upscale, 0), upscale, 1) for f in frames]
        panels = [np.concatenate([r, g, p], 1) for r, g, p in zip(raw, drawn_gt, drawn_pred)]
        name = video.get('name', f'video_{video["id"]}')
        gifs.append(write_gif(panels, osp.join(out_dir, 'videos', f'{name}.gif')))
        step = max(1, len(frames) // 5)
        sheet_rows += [drawn_gt[::step][:5], drawn_pred[::step][:5]]
        sheet_titles += [f'{name}: ground truth', f'{name}: prediction (score >= {score_thr})']
    sheet = osp.join(out_dir, 'contact_sheet.png')
    if sheet_rows:
        make_contact_sheet(sheet_rows, sheet, row_titles=sheet_titles)
    return dict(gifs=gifs, contact_sheet=[sheet] if sheet_rows else [])


def write_results(out_dir: str, summary: dict) -> Dict[str, str]:
    """``results.json`` (everything) and ``results.md`` (the AP table and the run's facts)."""
    json_path = osp.join(out_dir, 'results.json')
    with open(json_path, 'w') as handle:
        json.dump(summary, handle, indent=2)
    t = summary['timings_s']
    rows = (('per category (YouTube-VIS mask AP)', summary['mask_ap']),
            ('class-agnostic (categories merged)', summary['mask_ap_class_agnostic']))
    lines = [
        '# MaskFreeVIS demo results', '',
        f'Trained from **boxes only** on {summary["data"]["num_train_videos"]} generated videos, '
        f'evaluated on {summary["data"]["num_val_videos"]} val videos with masks.', '',
        '| evaluation | mask AP | AP50 | AP75 | APs | APm | APl |',
        '|---|---|---|---|---|---|---|',
        *('| ' + ' | '.join([name] + [_fmt(ap.get(k)) for k in METRIC_NAMES]) + ' |'
          for name, ap in rows), '',
        f'Mask quality whatever the class and score: per GT object, the best video-level mask '
        f'IoU among the predictions averages **{summary["best_prediction_iou"]["mean"]:.3f}** '
        f'({100 * summary["best_prediction_iou"]["above_0_5"]:.0f} % of objects above 0.5); '
        f'that prediction has the object\'s category for '
        f'{100 * summary["best_prediction_iou"]["class_accuracy"]:.0f} % of them (chance '
        f'{100 * summary["best_prediction_iou"]["chance"]:.0f} %).', '',
        '| run | value |', '|---|---|',
        f'| config | `{summary["config"]}` |',
        f'| iterations | {summary["iterations"]} |',
        f'| training seed / data seed | {summary["seed"]} / {summary["data_seed"]} |',
        f'| CPU threads | {summary["threads"]} |',
        f'| wall time: data / train / eval / drawing / total | {t["data"]:.0f} s / '
        f'{t["train"]:.0f} s / {t["eval"]:.0f} s / {t["visuals"]:.0f} s / {t["total"]:.0f} s |',
        f'| command | `{summary["command"]}` |', ''
    ]
    md_path = osp.join(out_dir, 'results.md')
    with open(md_path, 'w') as handle:
        handle.write('\n'.join(lines))
    return dict(json=json_path, markdown=md_path)


def _fmt(value: Optional[float]) -> str:
    return '–' if value is None or value < 0 else f'{value:.3f}'


def main(argv: Optional[Sequence[str]] = None) -> dict:
    args = parse_args(argv)
    start = time.perf_counter()
    threads = args.threads or os.cpu_count() or 1
    torch.set_num_threads(threads)
    os.makedirs(args.out_dir, exist_ok=True)
    out_dir = osp.abspath(args.out_dir)

    settings = prepare_data(args)
    data_s = time.perf_counter() - start

    cfg = build_config(args, osp.join(out_dir, 'work_dir'))
    runner = Runner.from_cfg(cfg)
    progress = ProgressBarHook(enabled=not args.no_progress)
    runner.register_hook(progress)
    runner.train()  # validates once at the end (train_cfg.val_interval == max_iters)
    if not progress.metrics:
        raise RuntimeError('the run produced no validation metrics; does the config have a '
                           'val_dataloader and val_evaluator?')

    agnostic_start = time.perf_counter()
    agnostic = evaluate_mask_quality(runner.model, runner.val_dataloader, not args.no_progress)
    progress.timings['eval_s'] = progress.timings.get('eval_s', 0.0) + \
        time.perf_counter() - agnostic_start

    visuals_start = time.perf_counter()
    artefacts: Dict[str, List[str]] = dict(gifs=[], contact_sheet=[])
    curves = plot_training_curves(read_scalars(runner.log_dir),
                                  osp.join(out_dir, 'training_curves.png'),
                                  f'{osp.basename(args.config)} (seed {args.seed})')
    if not args.no_visuals:
        artefacts = render_val_videos(runner.model, runner.cfg, out_dir, args.num_gifs,
                                      args.score_thr, not args.no_progress)
    visuals_s = time.perf_counter() - visuals_start

    summary = dict(
        config=osp.relpath(args.config, REPO_ROOT) if args.config.startswith(REPO_ROOT)
        else args.config,
        command='python ' + ' '.join([osp.relpath(__file__, os.getcwd())] +
                                     list(argv if argv is not None else sys.argv[1:])),
        iterations=runner.max_iters, seed=args.seed, data_seed=args.data_seed, threads=threads,
        data=dict(root=osp.abspath(args.data_root), **{k: v for k, v in settings.__dict__.items()}),
        mask_ap={name: progress.metrics.get(key) for name, key in METRIC_NAMES.items()},
        mask_ap_class_agnostic={name: agnostic.get(key) for name, key in METRIC_NAMES.items()},
        best_prediction_iou=dict(mean=agnostic['best_prediction_iou/mean'],
                                 above_0_5=agnostic['best_prediction_iou/above_0.5'],
                                 class_accuracy=agnostic['best_prediction_iou/class_accuracy'],
                                 chance=1.0 / len(runner.val_dataloader.dataset.metainfo[
                                     'classes'])),
        metrics=progress.metrics,
        timings_s=dict(data=data_s, train=progress.timings.get('train_s', float('nan')),
                       eval=progress.timings.get('eval_s', float('nan')), visuals=visuals_s,
                       total=time.perf_counter() - start),
        environment=dict(torch=torch.__version__, python=platform.python_version(),
                         maskfreevis=maskfreevis.__version__, cpu_count=os.cpu_count()),
        artefacts=dict(training_curves=curves, work_dir=runner.work_dir, **artefacts))
    results = write_results(out_dir, summary)
    print(open(results['markdown']).read())
    print(f'artefacts in {out_dir} (total {summary["timings_s"]["total"]:.0f} s)')
    return summary


if __name__ == '__main__':
    main()
