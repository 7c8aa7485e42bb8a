"""Evaluation: metrics (registered in mmdet) and class-agnostic mask-quality measures."""

from .best_prediction import best_predictions, summarise_best_predictions
from .class_agnostic import class_agnostic_view
from .mask_quality import evaluate_mask_quality
from .metrics import YouTubeVISLocalMetric

__all__ = [
    'best_predictions',
    'summarise_best_predictions',
    'class_agnostic_view',
    'evaluate_mask_quality',
    'YouTubeVISLocalMetric',
]
