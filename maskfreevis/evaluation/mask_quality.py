"""Mask quality of a trained model apart from its classifier, over a validation dataloader."""

import contextlib
import io
import sys
from typing import Dict, List, Tuple

import numpy as np
import torch
from mmdet.evaluation.functional import YTVIS, YTVISeval
from tqdm import tqdm

from ..utils import numpy_float_alias
from .best_prediction import best_predictions, summarise_best_predictions
from .class_agnostic import class_agnostic_view
from .metrics import YouTubeVISLocalMetric
from .video_bootstrap import video_match_records

__all__ = ['evaluate_mask_quality']


def evaluate_mask_quality(
    model: torch.nn.Module, dataloader, show_progress: bool = True, with_records: bool = False
) -> Dict[str, float]:
    """Class-agnostic mask AP (categories merged) and the best-prediction IoU per GT object.

    Args:
        model: a VIS model whose ``val_step`` returns ``TrackDataSample`` predictions.
        dataloader: a validation dataloader of videos whose GT has masks.
        show_progress: draw a progress bar (on stderr).
        with_records: also score the per-category mask AP in the same pass and return the
            per-video matches of both views (for :mod:`~maskfreevis.evaluation.video_bootstrap`).

    Returns:
        ``youtube_vis/segm_mAP`` ... of the class-agnostic evaluation and the keys of
        :func:`~maskfreevis.evaluation.best_prediction.summarise_best_predictions`; with
        ``with_records`` also ``per_category`` (the per-category ``youtube_vis/segm_*`` metrics)
        and ``records`` (``class_agnostic`` and ``per_category``:
        :func:`~maskfreevis.evaluation.video_bootstrap.video_match_records`).
    """
    agnostic = YouTubeVISLocalMetric(metric='youtube_vis_ap', iou_type='segm')
    agnostic.dataset_meta = dict(classes=('object',))
    per_category = None
    if with_records:
        per_category = YouTubeVISLocalMetric(metric='youtube_vis_ap', iou_type='segm')
        per_category.dataset_meta = dataloader.dataset.metainfo
    model.eval()
    matches: List[Tuple[float, bool]] = []
    # the vendored evaluator prints its tables; the caller reports the numbers
    with torch.no_grad(), contextlib.redirect_stdout(io.StringIO()):
        for data_batch in tqdm(
            dataloader, desc='evaluating class-agnostic', disable=not show_progress, file=sys.stderr
        ):
            outputs = model.val_step(data_batch)
            for video in outputs:
                matches += best_predictions(video)
            agnostic.process(data_batch, [class_agnostic_view(v).to_dict() for v in outputs])
            if per_category is not None:
                per_category.process(data_batch, [v.to_dict() for v in outputs])
        size = len(dataloader.dataset)
        records = None
        if with_records:
            records = dict(
                class_agnostic=_match_records(agnostic), per_category=_match_records(per_category)
            )
        results = agnostic.evaluate(size=size)
        if with_records:
            results['per_category'] = per_category.evaluate(size=size)
            results['records'] = records
    results.update(summarise_best_predictions(matches))
    return results


def _match_records(metric: YouTubeVISLocalMetric) -> dict:
    """The per-video matches of the videos ``metric`` has processed (before ``evaluate``)."""
    predictions, ground_truth = zip(*metric.results)
    ground_truth = YTVIS(metric.format_gts(ground_truth))
    predictions = metric.format_preds(predictions)
    with numpy_float_alias():
        if not predictions:
            empty = dict(video_ids=sorted(ground_truth.vids), categories={})
            return dict(empty, iou_thresholds=[float(t) for t in np.linspace(0.5, 0.95, 10)])
        evaluator = YTVISeval(ground_truth, ground_truth.loadRes(predictions), 'segm')
        evaluator.evaluate()
    return video_match_records(evaluator)
