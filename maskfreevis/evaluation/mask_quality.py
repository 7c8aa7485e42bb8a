"""Mask quality of a trained model apart from its classifier, over a validation dataloader."""

import contextlib
import io
import sys
from typing import Dict, List, Tuple

import torch
from tqdm import tqdm

from .best_prediction import best_predictions, summarise_best_predictions
from .class_agnostic import class_agnostic_view
from .metrics import YouTubeVISLocalMetric

__all__ = ['evaluate_mask_quality']


def evaluate_mask_quality(
    model: torch.nn.Module, dataloader, show_progress: bool = True
) -> Dict[str, float]:
    """Class-agnostic mask AP (categories merged) and the best-prediction IoU per GT object.

    Args:
        model: a VIS model whose ``val_step`` returns ``TrackDataSample`` predictions.
        dataloader: a validation dataloader of videos whose GT has masks.
        show_progress: draw a progress bar (on stderr).

    Returns:
        ``youtube_vis/segm_mAP`` ... of the class-agnostic evaluation and the keys of
        :func:`~maskfreevis.evaluation.best_prediction.summarise_best_predictions`.
    """
    metric = YouTubeVISLocalMetric(metric='youtube_vis_ap', iou_type='segm')
    metric.dataset_meta = dict(classes=('object',))
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
            metric.process(data_batch, [class_agnostic_view(v).to_dict() for v in outputs])
        results = metric.evaluate(size=len(dataloader.dataset))
    results.update(summarise_best_predictions(matches))
    return results
