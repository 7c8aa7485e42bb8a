"""Temporary: the two functions :mod:`maskfreevis.analysis.loss_benchmark` imports from its
neighbour ``.model_benchmark``, which moved to :mod:`maskfreevis_demo.analysis.model_benchmark`.
This file goes when the loss benchmark moves there too."""

from maskfreevis_demo.analysis.model_benchmark import benchmark_batch, build_model_and_optimizer

__all__ = ['benchmark_batch', 'build_model_and_optimizer']
