"""The loss benchmark (:mod:`.loss_benchmark`) and its profiling helpers (:mod:`.profiling`),
behind ``tools/analysis_tools/benchmark_losses.py``. They are analysis, not library, and move to
``maskfreevis_demo.analysis`` (projects/maskfreevis_demo), where the other analyses are; until
then :mod:`.model_benchmark` forwards the two functions the loss benchmark imports from there.
Import the modules directly; none is needed for training."""
