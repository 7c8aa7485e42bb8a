"""CVAT "for video 1.1" XML exports (tracks of boxes) as box-only YouTube-VIS videos.

One export (``annotations.xml``, with the frames in ``images/`` next to it when exported with
images) is one task or job, hence one video::

    <annotations><meta><task> size, start_frame, stop_frame, frame_filter (step=N),
                               labels/label/name, original_size/width, height </task></meta>
      <track id="0" label="car">
        <box frame="0" outside="0" occluded="0" keyframe="1" xtl= ytl= xbr= ybr= [rotation=]/>

How the tracks are read, following CVAT's own track semantics:

* ``frame`` is CVAT's absolute frame number: frame ``start_frame + k * step`` is the video's
  position ``k`` (``0 <= k < size``). Any other frame number is an error - except on an
  ``outside`` box just past the end, which CVAT writes to close a track on the last frame.
* A track is on every frame from its first listed box up to its next ``outside="1"`` box, and
  again from the next box that is not outside. CVAT exports list a box on every such frame
  (``keyframe="0"`` for the interpolated ones); exports that list only keyframes are completed the
  way CVAT interpolates them: linearly between consecutive listed boxes (also towards an
  ``outside`` one), the last box held to the end of the video when no ``outside`` box follows.
* ``occluded="1"`` boxes are kept (the object is there, partly hidden) unless ``drop_occluded``.
* A rotated box (``rotation`` degrees) becomes the axis-aligned box enclosing it.
* Tracks of other shapes (polygon, polyline, points, cuboid, ellipse, mask, skeleton) and tags are
  not boxes: they are skipped and counted.
* ``xbr < xtl`` or ``ybr < ytl``, non-numeric coordinates, a frame listed twice in one track, a
  repeated track id and a label missing from the task's label list are errors naming the file and
  the XML element.

Frames: the sorted images of ``images/`` next to the XML when present (their number must equal
``size``), else CVAT's names for video frames, ``images/frame_{frame:06d}.png`` with the absolute
frame number (``frame_pattern``). Frame size: ``original_size``, else the given size, else the
first image.

Project exports (``<meta><project>``, several tasks in one file) and "CVAT for images" exports
(``<image>`` elements) are refused with the export to choose instead.
"""

import logging
import os.path as osp
import re
import xml.etree.ElementTree as ElementTree
from typing import List, Optional, Sequence, Set, Tuple

import numpy as np

from ..annotation_checks import AnnotationError, SkipCounter
from .box_only_json import BoxTrack, VideoBoxTracks, build_box_only_json
from .frame_images import list_frame_images, resolve_frame_size

try:  # defusedxml refuses entity-expansion and external-entity tricks; used when installed.
    from defusedxml import ElementTree as SafeElementTree
except ImportError:  # The standard parser: no external entities, expat >= 2.4 limits expansion.
    SafeElementTree = ElementTree

DEFAULT_FRAME_PATTERN = 'images/frame_{frame:06d}.png'
NON_BOX_SHAPES = ('polygon', 'polyline', 'points', 'cuboid', 'ellipse', 'mask', 'skeleton')


def parse_cvat_xml(xml_path: str) -> ElementTree.Element:
    """The ``<annotations>`` root of a CVAT XML file.

    Raises:
        AnnotationError: not well-formed XML (with its line and column) or another root.
    """
    try:
        root = SafeElementTree.parse(xml_path).getroot()
    except ElementTree.ParseError as error:
        raise AnnotationError(f'{xml_path}: not well-formed XML ({error})') from error
    except ValueError as error:  # defusedxml's refusals
        raise AnnotationError(f'{xml_path}: refused XML ({error})') from error
    if root.tag != 'annotations':
        raise AnnotationError(
            f'{xml_path}: the root element is <{root.tag}>, not <annotations> '
            '(not a CVAT XML export)'
        )
    return root


def _meta_task(root: ElementTree.Element, xml_path: str) -> ElementTree.Element:
    """The ``meta/task`` (or ``meta/job``) element describing the exported frames."""
    if root.find('image') is not None:
        raise AnnotationError(
            f'{xml_path}: this is a "CVAT for images" export (<image> '
            'elements); export the task as "CVAT for video 1.1"'
        )
    if root.find('meta/project') is not None:
        raise AnnotationError(
            f'{xml_path}: this is a project export (several tasks in one file); '
            'export each task as "CVAT for video 1.1"'
        )
    for path in ('meta/task', 'meta/job'):
        element = root.find(path)
        if element is not None:
            return element
    raise AnnotationError(f'{xml_path}: no <meta><task> (or <job>) element')


def _meta_int(
    task: ElementTree.Element, path: str, xml_path: str, default: Optional[int] = None
) -> int:
    """An integer field of the task meta, e.g. ``size`` or ``original_size/width``."""
    element = task.find(path)
    if element is None or not (element.text or '').strip():
        if default is None:
            raise AnnotationError(f'{xml_path}: <meta><{task.tag}> has no <{path}>')
        return default
    try:
        return int(element.text.strip())
    except ValueError as error:
        raise AnnotationError(
            f'{xml_path}: <{path}> must be an integer, got {element.text!r}'
        ) from error


def _frame_step(task: ElementTree.Element, xml_path: str) -> int:
    """The ``step=N`` of ``frame_filter`` (1 when absent)."""
    text = (task.findtext('frame_filter') or '').strip()
    if not text:
        return 1
    match = re.fullmatch(r'step\s*=\s*(\d+)', text)
    if match is None or int(match.group(1)) < 1:
        raise AnnotationError(f'{xml_path}: unsupported <frame_filter> {text!r} (expected step=N)')
    return int(match.group(1))


def _describe(element: ElementTree.Element) -> str:
    """``<box frame="3" ...>`` style name of an element, for messages."""
    keys = [key for key in ('id', 'label', 'frame') if key in element.attrib]
    attributes = ' '.join(f'{key}="{element.attrib[key]}"' for key in keys)
    return f'<{element.tag} {attributes}>' if attributes else f'<{element.tag}>'


def _read_box_numbers(boxes: Sequence[ElementTree.Element], where: str) -> np.ndarray:
    """(K, 8) float: frame, outside, occluded, xtl, ytl, xbr, ybr, rotation of each ``<box>``."""
    names = ('frame', 'outside', 'occluded', 'xtl', 'ytl', 'xbr', 'ybr', 'rotation')
    defaults = {'outside': '0', 'occluded': '0', 'rotation': '0'}
    numbers = np.zeros((len(boxes), len(names)))
    for row, box in enumerate(boxes):
        for column, name in enumerate(names):
            text = box.attrib.get(name, defaults.get(name))
            if text is None:
                raise AnnotationError(f'{where} {_describe(box)}: no attribute {name!r}')
            try:
                numbers[row, column] = float(text)
            except ValueError:
                raise AnnotationError(
                    f'{where} {_describe(box)}: {name}={text!r} is not a number'
                ) from None
    bad_rows = ~np.isfinite(numbers).all(axis=1) | (numbers[:, 0] != np.round(numbers[:, 0]))
    bad_rows |= ~np.isin(numbers[:, 1], (0, 1)) | ~np.isin(numbers[:, 2], (0, 1))
    if bad_rows.any():
        box = boxes[np.flatnonzero(bad_rows)[0]]
        raise AnnotationError(
            f'{where} {_describe(box)}: frame must be an integer, outside and '
            'occluded 0 or 1, coordinates finite'
        )
    negative = (numbers[:, 5] < numbers[:, 3]) | (numbers[:, 6] < numbers[:, 4])
    if negative.any():
        box = boxes[np.flatnonzero(negative)[0]]
        raise AnnotationError(f'{where} {_describe(box)}: negative size (xbr < xtl or ybr < ytl)')
    return numbers


def expand_track_boxes(
    positions: np.ndarray,
    boxes_xyxy: np.ndarray,
    rotations: np.ndarray,
    outside: np.ndarray,
    occluded: np.ndarray,
    num_frames: int,
) -> Tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """A track's box on every frame it is on, from its listed boxes (CVAT track semantics).

    Args:
        positions: (K,) int frame positions of the listed boxes, strictly increasing (an
            outside box may lie past the last frame).
        boxes_xyxy: (K, 4) listed boxes.
        rotations: (K,) listed rotations in degrees.
        outside: (K,) bool, the object is absent from this frame on.
        occluded: (K,) bool occluded flag.
        num_frames: Frames of the video.

    Returns:
        ``(frames, boxes_xyxy, rotations, occluded)`` for the M frames the object is on:
        (M,) int, (M, 4), (M,), (M,) bool. Between two listed boxes the box and rotation are
        interpolated linearly (rotation along the shorter arc); after the last listed box that is
        not outside it is held to the end; an outside box starts an absence.
    """
    first = int(positions[0])
    frames = np.arange(first, num_frames)
    previous = np.searchsorted(positions, frames, side='right') - 1
    present = ~outside[previous]
    frames, previous = frames[present], previous[present]
    following = np.minimum(previous + 1, len(positions) - 1)
    span = positions[following] - positions[previous]
    weight = np.where(span > 0, (frames - positions[previous]) / np.maximum(span, 1), 0.0)
    boxes = boxes_xyxy[previous] + weight[:, None] * (boxes_xyxy[following] - boxes_xyxy[previous])
    turn = (rotations[following] - rotations[previous] + 180.0) % 360.0 - 180.0
    angles = (rotations[previous] + weight * turn) % 360.0
    return frames, boxes, angles, occluded[previous]


def enclosing_boxes_xywh(boxes_xyxy: np.ndarray, degrees: np.ndarray) -> np.ndarray:
    """(N, 4) ``[x, y, w, h]`` enclosing each (N, 4) box rotated by (N,) degrees about its
    centre; unrotated boxes are returned exactly."""
    x1, y1, x2, y2 = boxes_xyxy.T
    width, height = x2 - x1, y2 - y1
    radians = np.deg2rad(degrees)
    cos, sin = np.abs(np.cos(radians)), np.abs(np.sin(radians))
    half_w = (width * cos + height * sin) / 2
    half_h = (width * sin + height * cos) / 2
    centre_x, centre_y = (x1 + x2) / 2, (y1 + y2) / 2
    rotated = np.stack([centre_x - half_w, centre_y - half_h, 2 * half_w, 2 * half_h], axis=1)
    straight = np.stack([x1, y1, width, height], axis=1)
    return np.where((degrees % 360.0 == 0)[:, None], straight, rotated)


def _frame_files(xml_path: str, size: int, start: int, step: int, frame_pattern: str) -> List[str]:
    """Frame paths (full) of the export: ``images/`` listing, else ``frame_pattern``."""
    image_dir = osp.join(osp.dirname(xml_path), 'images')
    if osp.isdir(image_dir):
        paths = list_frame_images(image_dir)
        if len(paths) != size:
            raise AnnotationError(
                f'{xml_path}: the task has {size} frames but {image_dir} holds {len(paths)} images'
            )
        return paths
    return [
        osp.join(osp.dirname(xml_path), frame_pattern.format(frame=start + k * step))
        for k in range(size)
    ]


def read_cvat_video_xml(
    xml_path: str,
    data_root: str,
    skips: SkipCounter,
    drop_occluded: bool = False,
    image_size: Optional[Sequence[int]] = None,
    frame_pattern: str = DEFAULT_FRAME_PATTERN,
) -> Tuple[VideoBoxTracks, List[str]]:
    """One "CVAT for video 1.1" export as a video of box tracks (see the module docstring).

    Args:
        xml_path: The export's ``annotations.xml``.
        data_root: Frame file names are written relative to this folder.
        skips: Counts skipped tracks and interpolated / dropped boxes.
        drop_occluded: Leave out boxes flagged ``occluded``.
        image_size: ``(width, height)`` when the XML has no ``original_size``.
        frame_pattern: Frame file names (relative to the XML's folder) when there is no
            ``images/`` folder; ``{frame}`` is the absolute frame number.

    Returns:
        ``(video, label_names)``: the video and the task's labels in their listed order (the
        track labels in first-seen order when the meta lists none).
    """
    root = parse_cvat_xml(xml_path)
    task = _meta_task(root, xml_path)
    size = _meta_int(task, 'size', xml_path)
    start = _meta_int(task, 'start_frame', xml_path, default=0)
    step = _frame_step(task, xml_path)
    label_names = [label.findtext('name', '').strip() for label in task.findall('labels/label')]
    meta_labels = set(label_names)
    frame_paths = _frame_files(xml_path, size, start, step, frame_pattern)
    if task.find('original_size') is not None and image_size is None:
        width = _meta_int(task, 'original_size/width', xml_path)
        height = _meta_int(task, 'original_size/height', xml_path)
    else:
        width, height = resolve_frame_size(image_size, frame_paths, xml_path)

    tracks: List[BoxTrack] = []
    seen_ids: Set[str] = set()
    for track in root.findall('track'):
        where = f'{xml_path}: {_describe(track)}'
        track_id, label = track.attrib.get('id'), track.attrib.get('label')
        if track_id is None or label is None:
            raise AnnotationError(f'{where}: a track needs "id" and "label" attributes')
        if track_id in seen_ids:
            raise AnnotationError(f'{where}: track id {track_id} is used twice')
        seen_ids.add(track_id)
        if meta_labels and label not in meta_labels:
            raise AnnotationError(
                f'{where}: label {label!r} is not among the task labels {label_names}'
            )
        if not meta_labels and label not in label_names:
            label_names.append(label)
        boxes = track.findall('box')
        if not boxes:
            shapes = sorted({child.tag for child in track if child.tag in NON_BOX_SHAPES})
            skips.add(f'tracks of non-box shapes {shapes} (skipped)', 1, [where])
            continue
        numbers = _read_box_numbers(boxes, where)
        offsets = numbers[:, 0] - start
        positions = (offsets // step).astype(np.int64)
        past_end = (numbers[:, 1] == 1) & (positions >= size) & (offsets % step == 0)
        invalid = ~past_end & ((offsets % step != 0) | (positions < 0) | (positions >= size))
        if invalid.any():
            box = boxes[np.flatnonzero(invalid)[0]]
            raise AnnotationError(
                f'{where} {_describe(box)}: frame is not one of the task '
                f'frames {start} + k * {step}, k = 0..{size - 1}'
            )
        # Outside boxes past the end stay: a box before them interpolates towards them.
        order = np.argsort(positions, kind='stable')
        repeated = np.flatnonzero(np.diff(positions[order]) == 0)
        if len(repeated):
            box = boxes[order[repeated[0] + 1]]
            raise AnnotationError(
                f'{where} {_describe(box)}: this track already has a box on this frame'
            )
        numbers, positions = numbers[order], positions[order]
        if positions[0] >= size:
            continue
        frames, boxes_xyxy, angles, occluded = expand_track_boxes(
            positions, numbers[:, 3:7], numbers[:, 7], numbers[:, 1] == 1, numbers[:, 2] == 1, size
        )
        filled = np.setdiff1d(frames, positions).size
        skips.add(
            'boxes interpolated between listed keyframes', filled, [where], level=logging.INFO
        )
        if drop_occluded:
            skips.add('occluded boxes (dropped)', int(occluded.sum()), [where], logging.INFO)
            frames, boxes_xyxy, angles = frames[~occluded], boxes_xyxy[~occluded], angles[~occluded]
        rotated = int((angles % 360.0 != 0).sum())
        skips.add(
            'rotated boxes (replaced by their enclosing axis-aligned box)',
            rotated,
            [where],
            level=logging.INFO,
        )
        tracks.append(
            BoxTrack(label, frames, enclosing_boxes_xywh(boxes_xyxy, angles), source=where)
        )
    tags = root.findall('tag')
    skips.add(
        '<tag> elements (frame labels, no box; skipped)',
        len(tags),
        [f'{xml_path}: {_describe(element)}' for element in tags],
        logging.INFO,
    )
    file_names = [osp.relpath(path, data_root) for path in frame_paths]
    return VideoBoxTracks(file_names, width, height, tracks, source=xml_path), label_names


def convert_cvat_video(
    xml_paths: Sequence[str],
    data_root: str,
    classes: Optional[Sequence[str]] = None,
    drop_occluded: bool = False,
    image_size: Optional[Sequence[int]] = None,
    frame_pattern: str = DEFAULT_FRAME_PATTERN,
    skips: Optional[SkipCounter] = None,
) -> Tuple[dict, List[str]]:
    """CVAT "for video 1.1" exports (one video each) as one box-only YouTube-VIS json.

    Args:
        xml_paths: The exports' XML files.
        data_root: Frame file names are relative to this folder (the dataset's image root).
        classes: Categories to keep, in this order; tracks of other labels are dropped and
            counted. ``None``: every label of the exports, in first-listed order.
        drop_occluded, image_size, frame_pattern: See :func:`read_cvat_video_xml`.
        skips: Collects the skip counts; a new one when ``None``.

    Returns:
        ``(json, input_files)``: the json (categories in the order of ``classes``) and the XML
        files read.

    Raises:
        AnnotationError: bad input (file and element named), or a requested class that no
            export has.
    """
    skips = skips or SkipCounter('cvat')
    videos, labels = [], []
    for xml_path in xml_paths:
        video, names = read_cvat_video_xml(
            xml_path, data_root, skips, drop_occluded, image_size, frame_pattern
        )
        videos.append(video)
        labels.extend(name for name in names if name not in labels)
    if classes is None:
        classes = labels
    unknown = [name for name in classes if name not in labels]
    if unknown:
        raise AnnotationError(f'classes {unknown} are not labels of the exports; labels: {labels}')
    for video in videos:
        dropped = [track for track in video.tracks if track.category not in classes]
        for track in dropped:
            skips.add(
                f'tracks of label {track.category!r} (not requested; dropped)',
                1,
                [track.source],
                logging.INFO,
            )
        video.tracks = [track for track in video.tracks if track.category in classes]
    return build_box_only_json(videos, list(classes)), list(xml_paths)
