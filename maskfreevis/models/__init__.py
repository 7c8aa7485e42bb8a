"""Models: detectors, tracking heads, criteria, losses, match costs and data preprocessors."""

from .criteria import *  # noqa: F401,F403
from .data_preprocessors import *  # noqa: F401,F403
from .detectors import *  # noqa: F401,F403
from .losses import *  # noqa: F401,F403
from .task_modules import *  # noqa: F401,F403
from .tracking_heads import *  # noqa: F401,F403
