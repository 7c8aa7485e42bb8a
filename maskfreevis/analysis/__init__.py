"""Analyses behind the tools in ``tools/analysis_tools/``: supervision comparison, colour-prior
precision, loss and model benchmarks. Import the modules directly; none is needed for training."""
