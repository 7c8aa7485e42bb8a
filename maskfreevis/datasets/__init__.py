"""Video datasets (box-only YouTube-VIS / OVIS json, CocoVID, COCO pseudo-videos) and transforms."""
from .transforms import *  # noqa: F401,F403
