"""Evaluation: metrics (registered in mmdet) and class-agnostic mask-quality measures."""
from .best_prediction import best_predictions, summarise_best_predictions
from .class_agnostic import class_agnostic_view
from .mask_quality import evaluate_mask_quality
from .metrics import *  # noqa: F401,F403
