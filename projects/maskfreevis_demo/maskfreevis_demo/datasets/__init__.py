"""The demo's generated YouTube-VIS datasets: :mod:`.real_imagery` (real objects moved over real
photographs, the default), :mod:`.synthetic` (textured shapes) and :mod:`.vis_json_writer` (the
json layout, atomic writing and the refusal to write over a user's dataset, shared by both).

Each generator is a command line: ``python -m maskfreevis_demo.datasets.real_imagery --out DIR``.
Import the modules directly (so that ``python -m`` runs a module that was not imported yet).
"""
