"""Frame images on disk: the sorted image files of a sequence folder and one frame's size."""

import os
import os.path as osp
from typing import List, Optional, Sequence, Tuple

from PIL import Image

from ..annotation_checks import AnnotationError

IMAGE_EXTENSIONS = ('.jpg', '.jpeg', '.png', '.bmp', '.tif', '.tiff', '.webp')


def list_frame_images(folder: str) -> List[str]:
    """Image files of ``folder`` (not recursive) in sorted name order, as full paths.

    Annotation tools that export a sequence's frames with it (CVAT, Datumaro) number or name
    them so that name order is frame order; hidden files and non-images are ignored.
    """
    names = sorted(
        name
        for name in os.listdir(folder)
        if not name.startswith('.') and name.lower().endswith(IMAGE_EXTENSIONS)
    )
    return [osp.join(folder, name) for name in names]


def read_image_size(path: str) -> Tuple[int, int]:
    """``(width, height)`` of an image file, reading its header only.

    Raises:
        AnnotationError: naming the file when it is missing or not an image.
    """
    try:
        with Image.open(path) as image:
            return image.size
    except (OSError, ValueError) as error:
        raise AnnotationError(f'{path}: cannot read the frame size ({error})') from error


def resolve_frame_size(
    given: Optional[Sequence[int]], frame_paths: Sequence[str], where: str
) -> Tuple[int, int]:
    """The frame size of a video: ``given`` when set, else the size of its first frame image.

    Args:
        given: ``(width, height)`` from the command line / caller, or ``None``.
        frame_paths: Full paths of the video's frames.
        where: The video's source, for the message when no size can be found.

    Raises:
        AnnotationError: no size given and no frame image to read it from.
    """
    if given is not None:
        width, height = (int(value) for value in given)
        if width <= 0 or height <= 0:
            raise AnnotationError(f'{where}: frame size must be positive, got {width}x{height}')
        return width, height
    if not frame_paths or not osp.isfile(frame_paths[0]):
        first = frame_paths[0] if frame_paths else '(no frames)'
        raise AnnotationError(
            f'{where}: the frame size is not in the annotations and the first '
            f'frame {first} cannot be read; pass the size (--image-size W H)'
        )
    return read_image_size(frame_paths[0])
