"""Temporary: the demo datasets table that :func:`maskfreevis.analysis.loss_benchmark.
demo_config_name` imports from here; the demo moved to :mod:`maskfreevis_demo.runner`. This file
goes when the loss benchmark moves to ``maskfreevis_demo.analysis``."""

from maskfreevis_demo.runner import DEMO_DATASETS

__all__ = ['DEMO_DATASETS']
