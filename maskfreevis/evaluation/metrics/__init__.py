"""Evaluation metrics registered into mmdet's ``METRICS``."""

from .youtube_vis_local_metric import YouTubeVISLocalMetric

__all__ = ['YouTubeVISLocalMetric']
