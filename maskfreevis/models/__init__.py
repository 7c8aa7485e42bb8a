"""Models: detectors, tracking heads, losses, match costs and data preprocessors."""
from .data_preprocessors import *  # noqa: F401,F403
from .detectors import *  # noqa: F401,F403
from .losses import *  # noqa: F401,F403
from .task_modules import *  # noqa: F401,F403
from .tracking_heads import *  # noqa: F401,F403
