"""Analyses behind the tools in ``tools/analysis_tools/``: supervision comparison, colour-prior
precision, colour-space difference, loss, model and inference benchmarks and their profiling
helpers, the GPU check. Import the modules directly; none is needed for training.
"""
