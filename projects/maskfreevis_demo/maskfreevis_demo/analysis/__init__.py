"""Analyses behind the tools in ``tools/analysis_tools/``: supervision comparison, colour-prior
precision, colour-space difference, model and inference benchmarks, the GPU check. Import the
modules directly; none is needed for training.

The loss benchmark and its profiling helpers are still :mod:`maskfreevis.analysis.loss_benchmark`
and :mod:`maskfreevis.analysis.profiling`, which these modules import from there.
"""
