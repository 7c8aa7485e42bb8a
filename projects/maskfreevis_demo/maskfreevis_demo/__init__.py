"""The MaskFreeVIS demo and the package's analyses, beside the library (``maskfreevis``).

* :mod:`.datasets`: the demo's generated YouTube-VIS datasets (real objects over real
  photographs, textured synthetic shapes) and their shared json writer;
* :mod:`.runner`: the two-stage demo that ``tools/run_demo.py`` (``make demo``) runs;
* :mod:`.analysis`: what ``tools/analysis_tools/`` computes (supervision comparison, colour-prior
  precision, colour-space difference, model and inference benchmarks, the GPU check).

Import the modules directly; importing the package loads none of them.
"""
