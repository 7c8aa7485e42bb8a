"""Evaluation: metrics (registered in mmdet), box-track AP, submission checks and class-agnostic
mask-quality measures."""

from .best_prediction import best_predictions, summarise_best_predictions
from .class_agnostic import class_agnostic_view
from .functional import BoxTrackEval, box_track_iou
from .mask_quality import evaluate_mask_quality
from .metrics import YouTubeVISLocalMetric
from .submission import SubmissionError, check_submission_zip

__all__ = [
    'best_predictions',
    'summarise_best_predictions',
    'class_agnostic_view',
    'evaluate_mask_quality',
    'YouTubeVISLocalMetric',
    'BoxTrackEval',
    'box_track_iou',
    'SubmissionError',
    'check_submission_zip',
]
