"""Box-supervised video instance segmentation dataset: ORIGINAL YouTube-VIS/OVIS or CocoVID json."""

import logging
import os.path as osp
from collections import Counter
from typing import Callable, Dict, List, Optional, Tuple

import numpy as np
from mmdet.datasets import BaseVideoDataset
from mmdet.registry import DATASETS
from mmengine.fileio import LocalBackend, get_file_backend
from mmengine.logging import print_log

from .annotation_checks import (
    BOX_CLIPPED,
    BOX_EMPTY,
    BOX_OUTSIDE,
    NORMALISED_BOX_LIMIT,
    ORIENTATION_APPLYING_COLOR_TYPES,
    AnnotationError,
    FrameError,
    SkipCounter,
    box_format_mistake,
    check_image_files,
    diagnose_frames,
    exif_orientation,
    exif_orientation_problem,
    load_annotation_json,
    lookup_labels,
    sanitize_xywh_boxes,
    segmentation_problems,
)
from .categories import check_class_names, read_categories, select_classes
from .vis_json_formats import ParsedVideoJson, parse_video_json


@DATASETS.register_module()
class BoxVISDataset(BaseVideoDataset):
    """YouTube-VIS / OVIS style video dataset whose instances may carry boxes only.

    Reads the ORIGINAL json (``videos`` with ``file_names``; per-track ``bboxes`` and optional
    ``segmentations``) or mmdet's CocoVID json (``images`` with ``video_id``/``frame_id``), told
    apart by their keys. ``data_list`` has mmdet's per-video layout::

        {'video_id', 'video_length', 'images': [{'img_path', 'img_id', 'video_id', 'frame_id',
            'height', 'width', 'instances': [{'bbox' (xyxy), 'bbox_label', 'ignore_flag',
            'instance_id', 'mask' (only if the json has a segmentation there)}]}]}

    ``frame_id`` is the frame's position in its video (0..L-1; CocoVID frames are sorted by their
    ``frame_id``), which is what mmdet's YouTube-VIS metric indexes by. ``instance_id`` numbers
    object tracks 1..M over the whole dataset. Classes come from the json ``categories`` sorted by
    id; ``metainfo=dict(classes=...)`` restricts and orders them by name.

    Bad input: a missing, empty or invalid json, structural problems (missing keys, unknown
    video/category ids, wrong list lengths, duplicate ids) and a training split left without any
    video raise :class:`AnnotationError` naming the file and record; a frame image that is
    missing, empty, undecodable, or of another size than the json (or than the other frames of
    its video) raises :class:`FrameError` naming the file, video and frame. Masks that the
    evaluation cannot read (RLE counts that do not cover the frame, an RLE of another size, a
    polygon of fewer than 3 points) and boxes that as a whole look like corners
    ``[x1, y1, x2, y2]`` or 0-1 coordinates (:func:`box_format_mistake`) raise
    :class:`AnnotationError` naming the first few. Boxes with
    w or h <= 0 (or NaN) or outside the image are skipped, boxes partly outside are clipped, and
    annotations of classes left out by ``metainfo`` are dropped - all counted in
    :attr:`skip_counts` and logged with examples (video, frame, annotation id). In training,
    videos without any box are dropped (counted); in ``test_mode`` every video is kept, and a
    json without ``annotations`` is accepted. A clip longer than a video is handled by the frame
    sampler (:class:`SampleClipFrames` repeats frames and logs it).

    Args:
        check_files: Check that every frame image exists when loading (one ``stat`` per frame,
            local files only) so a wrong path fails at start-up naming file and video, instead
            of in a data-loader worker hours later. ~60k frames (YouTube-VIS 2019 train) cost well
            under a second on a local disk.
        check_box_format: Refuse boxes that as a whole look like corners or normalised
            coordinates; False trusts them.
        *args, **kwargs: :class:`mmdet.datasets.BaseVideoDataset` / mmengine ``BaseDataset``
            arguments (``ann_file``, ``data_root``, ``data_prefix=dict(img_path=...)``,
            ``metainfo``, ``filter_cfg=dict(filter_empty_gt=True, min_size=32)``, ``pipeline``,
            ``test_mode``, ``backend_args``, ...).
    """

    METAINFO = dict(classes=None)
    DROPPED_CLASS_REASON = 'boxes of categories not in metainfo classes (dropped)'

    def __init__(
        self, *args, check_files: bool = True, check_box_format: bool = True, **kwargs
    ) -> None:
        self.check_files = check_files
        self.check_box_format = check_box_format
        self._orientation_applied: Optional[bool] = None
        self.skip_counts: Dict[str, int] = {}
        self._skips: Optional[SkipCounter] = None
        super().__init__(*args, **kwargs)

    def load_data_list(self) -> List[dict]:
        """Parse the json into one dict per video (see the class docstring)."""
        self._skips = SkipCounter(f'{type(self).__name__}({self.ann_file})')
        check_class_names(self._metainfo.get('classes'), self.ann_file)
        data = load_annotation_json(self.ann_file, self.backend_args)
        data_format, parsed = parse_video_json(
            data, self.ann_file, self._skips, require_annotations=not self.test_mode
        )
        self.data_format = data_format
        names_by_id = self._read_class_names(data, parsed)
        classes, self.cat2label = select_classes(
            names_by_id, self._metainfo.get('classes'), self.ann_file
        )
        self._metainfo['classes'] = classes
        self.cat_ids = [cat_id for cat_id in names_by_id if cat_id in self.cat2label]
        self._record_category_ids(len(classes))
        self._check_annotation_ids(parsed, names_by_id)

        self._count_repeated_frames(parsed)
        keep, boxes_xyxy, labels = self._validate_rows(parsed)
        instance_ids = self._number_tracks(parsed, keep)
        return self._build_videos(parsed, keep, boxes_xyxy, labels, instance_ids)

    def _record_category_ids(self, num_classes: int) -> None:
        """Test splits whose category ids are not 1..K in class order get ``category_ids``
        (label -> json id) in their metainfo: written results (the submission) then carry the
        json's ids, where mmdet writes label + 1. Left out otherwise, so that the metainfo of
        training sets (compared by ``ConcatDataset`` in joint training) stays as it was."""
        id_of_label = {label: cat_id for cat_id, label in self.cat2label.items()}
        category_ids = tuple(id_of_label[label] for label in range(num_classes))
        if self.test_mode and category_ids != tuple(range(1, num_classes + 1)):
            self._metainfo['category_ids'] = category_ids

    def _count_repeated_frames(self, parsed: ParsedVideoJson) -> None:
        """Videos that list one frame file twice (an export error, or a deliberate pause):
        kept as listed, counted and logged with examples."""
        repeated = []
        for video in parsed.videos:
            twice = [name for name, count in Counter(video.file_names).items() if count > 1]
            if twice:
                repeated.append(f'video {video.video_id}: {twice[0]}')
        self._skips.add(
            'videos listing one frame file more than once (kept as listed)',
            len(repeated),
            repeated,
        )

    def _read_class_names(self, data: dict, parsed: ParsedVideoJson) -> Dict[int, str]:
        """``{category_id: name}``; without ``categories`` only an annotation-free split loads."""
        if data.get('categories') is not None:
            return read_categories(data['categories'], self.ann_file)
        requested = self._metainfo.get('classes')
        if len(parsed.annotation_ids) == 0 and requested is not None:
            # A test split may omit categories; ids are then 1..K in the given class order.
            return {index + 1: name for index, name in enumerate(requested)}
        raise AnnotationError(
            f"{self.ann_file}: no key 'categories' (needed to name the "
            'classes; a split without annotations may instead pass '
            'metainfo=dict(classes=...))'
        )

    def _check_annotation_ids(self, parsed: ParsedVideoJson, names_by_id: Dict[int, str]) -> None:
        """Unique annotation ids and known category ids, else an error naming the annotation."""
        ids, counts = np.unique(parsed.annotation_ids.astype(str), return_counts=True)
        if (counts > 1).any():
            raise AnnotationError(
                f'{self.ann_file}: annotation id {ids[counts > 1][0]} is used more than once'
            )
        known = np.fromiter(
            (cat_id in names_by_id for cat_id in parsed.annotation_category_ids),
            dtype=bool,
            count=len(parsed.annotation_category_ids),
        )
        if not known.all():
            first = np.flatnonzero(~known)[0]
            raise AnnotationError(
                f'{self.ann_file}: annotation id {parsed.annotation_ids[first]} has category_id '
                f'{parsed.annotation_category_ids[first]!r}, which is not in categories '
                f'{list(names_by_id)}'
            )

    def _describe_rows(self, parsed: ParsedVideoJson, rows: np.ndarray) -> List[str]:
        """Messages locating the first few rows: video, frame, annotation id."""
        return [
            f'video {parsed.videos[parsed.video_index[r]].video_id} frame '
            f'{parsed.frame_index[r]}, annotation id {parsed.row_annotation_ids[r]}'
            for r in rows[: self._skips.max_examples]
        ]

    def _validate_rows(self, parsed: ParsedVideoJson) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Look up each row's frame size, then :meth:`_check_boxes`."""
        frame_offsets = np.cumsum([0] + [len(v.file_names) for v in parsed.videos])
        all_frame_wh = np.concatenate([v.sizes_wh for v in parsed.videos] or [np.zeros((0, 2))])
        frame_wh = all_frame_wh[frame_offsets[parsed.video_index] + parsed.frame_index]
        self._check_segmentations(parsed, frame_wh)
        return self._check_boxes(
            parsed.boxes_xywh,
            frame_wh,
            parsed.category_ids,
            lambda rows: self._describe_rows(parsed, rows),
        )

    def _check_segmentations(self, parsed: ParsedVideoJson, frame_wh: np.ndarray) -> None:
        """Masks the evaluation can read: polygons of >= 3 points, RLEs of the frame's size whose
        counts cover it exactly (pycocotools hangs on counts that do not), else an error naming
        the first few."""
        problems = segmentation_problems(parsed.segmentations, frame_wh[:, ::-1])
        if not problems:
            return
        rows = np.array([row for row, _ in problems])
        listed = '; '.join(
            f'{where}: {problem}'
            for where, (_, problem) in zip(self._describe_rows(parsed, rows), problems)
        )
        raise AnnotationError(
            f'{self.ann_file}: {len(problems)} bad segmentation(s): {listed}. Re-export those '
            "masks, or drop them (set the frame's segmentation to null) to keep the box only."
        )

    def _check_boxes(
        self,
        boxes_xywh: np.ndarray,
        image_wh: np.ndarray,
        category_ids: np.ndarray,
        describe: Callable[[np.ndarray], List[str]],
    ) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Clip boxes, skip invalid ones and drop classes outside ``cat2label``, counting each.

        Args:
            boxes_xywh: (N, 4) json boxes.
            image_wh: (N, 2) size of each box's image.
            category_ids: (N,) json category ids (all known).
            describe: Rows -> messages locating the first few of them.

        Returns:
            ``keep`` (N,) bool, ``boxes_xyxy`` (N, 4) clipped boxes, ``labels`` (N,) label
            indices (-1 where the category has no label).
        """
        if self.check_box_format:
            self._refuse_box_format_mistake(boxes_xywh, image_wh, describe)
        boxes_xyxy, status = sanitize_xywh_boxes(boxes_xywh, image_wh)
        labels = lookup_labels(category_ids, self.cat2label)
        for code, reason, level in (
            (BOX_EMPTY, 'boxes with w or h <= 0 or non-finite (skipped)', logging.WARNING),
            (BOX_OUTSIDE, 'boxes entirely outside the image (skipped)', logging.WARNING),
            (BOX_CLIPPED, 'boxes partly outside the image (clipped)', logging.INFO),
        ):
            rows = np.flatnonzero(status == code)
            self._skips.add(reason, len(rows), describe(rows), level=level)
        valid_box = (status != BOX_EMPTY) & (status != BOX_OUTSIDE)
        rows = np.flatnonzero(valid_box & (labels < 0))
        self._skips.add(self.DROPPED_CLASS_REASON, len(rows), describe(rows), level=logging.INFO)
        return valid_box & (labels >= 0), boxes_xyxy, labels

    def _refuse_box_format_mistake(
        self,
        boxes_xywh: np.ndarray,
        image_wh: np.ndarray,
        describe: Callable[[np.ndarray], List[str]],
    ) -> None:
        """Refuse boxes that as a whole look like corners or 0-1 coordinates (they would train
        without any error on wrong boxes); see :func:`box_format_mistake`."""
        mistake = box_format_mistake(boxes_xywh, image_wh)
        if mistake is None:
            return
        kind, rows = mistake
        row = rows[0]
        width, height = image_wh[row].astype(int).tolist()
        example = (
            f'{describe(rows[:1])[0]}: {np.asarray(boxes_xywh[row]).tolist()} in a '
            f'{width}x{height} frame'
        )
        usable = int(
            (np.isfinite(boxes_xywh).all(1) & (boxes_xywh[:, 2] > 0) & (boxes_xywh[:, 3] > 0)).sum()
        )
        if kind == 'corners':
            found = (
                f'the boxes look like corners [x1, y1, x2, y2], not [x, y, w, h]: read as '
                f'[x, y, w, h], {len(rows)} of {usable} run past the frame (e.g. {example}), '
                f'while all {usable} fit inside it as corners. Convert them: w = x2 - x1, '
                'h = y2 - y1'
            )
        else:
            found = (
                f"all {usable} boxes lie within {NORMALISED_BOX_LIMIT} pixels of the frame's "
                f'corner (e.g. {example}): they look normalised to 0-1, but the json needs '
                '[x, y, w, h] in pixels. Multiply x and w by the frame width, y and h by its '
                'height'
            )
        raise AnnotationError(
            f'{self.ann_file}: {found}. If the boxes are right, pass check_box_format=False to '
            f'the dataset.'
        )

    def _number_tracks(self, parsed: ParsedVideoJson, keep: np.ndarray) -> np.ndarray:
        """Dataset-wide instance ids 1..M, one per (video, track key); (N,) with 0 where dropped."""
        instance_ids = np.zeros(len(keep), dtype=np.int64)
        if not keep.any():
            return instance_ids
        pairs = np.stack([parsed.video_index[keep], parsed.track_keys[keep]], axis=1)
        _, inverse = np.unique(pairs, axis=0, return_inverse=True)
        instance_ids[keep] = inverse.reshape(-1) + 1
        self._check_one_category_per_track(parsed, keep, inverse.reshape(-1))
        triples = np.concatenate([pairs, parsed.frame_index[keep, None]], axis=1)
        _, first, counts = np.unique(triples, axis=0, return_index=True, return_counts=True)
        if (counts > 1).any():
            row = np.flatnonzero(keep)[first[counts > 1][0]]
            raise AnnotationError(
                f'{self.ann_file}: {self._describe_rows(parsed, np.array([row]))[0]}: instance '
                f'{parsed.track_keys[row]} has more than one box in this frame'
            )
        return instance_ids

    def _check_one_category_per_track(
        self, parsed: ParsedVideoJson, keep: np.ndarray, track_of_row: np.ndarray
    ) -> None:
        """A CocoVID instance keeps one ``category_id`` over its frames (training refused the
        clip only when it sampled both frames; the evaluation would score one track twice)."""
        categories = parsed.category_ids[keep]
        pairs = np.unique(np.stack([track_of_row, categories], axis=1), axis=0)
        tracks, counts = np.unique(pairs[:, 0], return_counts=True)
        if (counts == 1).all():
            return
        track = tracks[counts > 1][0]
        rows = np.flatnonzero(keep)[track_of_row == track]
        first = rows[0]
        other = rows[np.flatnonzero(parsed.category_ids[rows] != parsed.category_ids[first])[0]]
        where = self._describe_rows(parsed, np.array([first, other]))
        raise AnnotationError(
            f'{self.ann_file}: instance {parsed.track_keys[first]} of video '
            f'{parsed.videos[parsed.video_index[first]].video_id} changes its category: '
            f'{parsed.category_ids[first]} at {where[0]}, {parsed.category_ids[other]} at '
            f'{where[1]}; an instance (track) has one category'
        )

    def _build_videos(
        self,
        parsed: ParsedVideoJson,
        keep: np.ndarray,
        boxes_xyxy: np.ndarray,
        labels: np.ndarray,
        instance_ids: np.ndarray,
    ) -> List[dict]:
        """Assemble mmdet's per-video dicts from the validated rows."""
        img_prefix = self.data_prefix.get('img_path', None)
        data_list = []
        for video in parsed.videos:
            sizes = video.sizes_wh.astype(int).tolist()
            frames = [
                dict(
                    img_path=osp.join(img_prefix, file_name) if img_prefix else file_name,
                    img_id=img_id,
                    video_id=video.video_id,
                    frame_id=frame_index,
                    height=height,
                    width=width,
                    instances=[],
                )
                for frame_index, (file_name, img_id, (width, height)) in enumerate(
                    zip(video.file_names, video.img_ids, sizes)
                )
            ]
            data_list.append(dict(video_id=video.video_id, images=frames, video_length=len(frames)))
        # Rows ordered by (video, frame, instance id) so instance order is deterministic.
        rows = np.flatnonzero(keep)
        rows = rows[
            np.lexsort((instance_ids[rows], parsed.frame_index[rows], parsed.video_index[rows]))
        ]
        # Plain Python values (not numpy scalars) in the data list, converted in bulk.
        boxes_list, labels_list = boxes_xyxy[rows].tolist(), labels[rows].tolist()
        crowd_list, ids_list = parsed.iscrowd[rows].tolist(), instance_ids[rows].tolist()
        videos_list = parsed.video_index[rows].tolist()
        frames_list = parsed.frame_index[rows].tolist()
        for i, row in enumerate(rows.tolist()):
            instance = dict(
                bbox=boxes_list[i],
                bbox_label=labels_list[i],
                ignore_flag=int(crowd_list[i]),
                instance_id=ids_list[i],
            )
            if parsed.segmentations[row] is not None:
                instance['mask'] = parsed.segmentations[row]
            data_list[videos_list[i]]['images'][frames_list[i]]['instances'].append(instance)
        return data_list

    def filter_data(self) -> List[dict]:
        """Training: drop videos without any box or smaller than ``min_size``; test: keep all.

        Also checks image files of the kept videos (``check_files``) and logs the skip summary.
        """
        data_list = self.data_list
        if not self.test_mode:
            filter_cfg = self.filter_cfg or {}
            filter_empty_gt = filter_cfg.get('filter_empty_gt', True)
            min_size = filter_cfg.get('min_size', 32)
            kept, empty, small = [], [], []
            for video in data_list:
                first = video['images'][0]
                if filter_empty_gt and not any(frame['instances'] for frame in video['images']):
                    empty.append(video['video_id'])
                elif min(first['width'], first['height']) < min_size:
                    small.append(video['video_id'])
                else:
                    kept.append(video)
            self._skips.add(
                'training videos without any annotated frame (skipped)',
                len(empty),
                [f'video {v}' for v in empty],
            )
            self._skips.add(
                f'training videos smaller than min_size={min_size} (skipped)',
                len(small),
                [f'video {v}' for v in small],
            )
            data_list = kept
        if self.check_files:
            paths = [frame['img_path'] for video in data_list for frame in video['images']]
            where = [
                (video['video_id'], frame['frame_id'])
                for video in data_list
                for frame in video['images']
            ]
            check_image_files(
                paths,
                lambda i: 'video {} frame {}'.format(*where[i]),
                self.ann_file,
                self.backend_args,
            )
            self._check_first_frames_orientation(data_list)
        self._skips.log_summary()
        self.skip_counts = dict(self._skips.counts)
        if not data_list:
            self._raise_empty()
        print_log(
            f'{type(self).__name__}({self.ann_file}): {len(data_list)} videos, '
            f'{sum(len(v["images"]) for v in data_list)} frames, '
            f'{len(self._metainfo["classes"])} classes ({self.data_format} json)',
            logger='current',
        )
        return data_list

    def _raise_empty(self) -> None:
        """No video to train or test on: say why, instead of an error deep in the sampler."""
        reasons = '; '.join(f'{reason}: {count}' for reason, count in self._skips.counts.items())
        raise AnnotationError(
            f'{self.ann_file}: no {"test" if self.test_mode else "training"} video left '
            f'({len(self.data_list)} in the json'
            f"{'; skipped: ' + reasons if reasons else ''}). Check the json's boxes and "
            f'categories (and metainfo classes, filter_cfg) against the warnings above.'
        )

    def prepare_data(self, idx) -> dict:
        """mmdet's ``prepare_data``, with errors that name the video and frame files.

        A failure inside the pipeline (an unreadable frame, frames of different sizes that
        cannot be stacked) is re-raised as :class:`FrameError` saying which files are wrong; a
        frame decoded at another size than the json states (boxes would not line up) is refused
        even when the pipeline itself would not fail.
        """
        video_index = idx[0] if isinstance(idx, tuple) else idx
        try:
            data = super().prepare_data(idx)
        except Exception as error:  # noqa: BLE001  re-raised with the video named
            raise self._frame_error(video_index, error) from error
        if self.loads_with_orientation():
            self._check_loaded_frames_orientation(data)
        self._check_decoded_sizes(video_index, data)
        return data

    def loads_with_orientation(self) -> bool:
        """Whether the pipeline decodes frames applying their EXIF orientation: a
        ``LoadImageFromFile`` (also inside ``TransformBroadcaster`` & co.) whose ``color_type``
        is ``'color'`` or ``'grayscale'`` (the default) rather than ``'color_ignore_orientation'``
        / ``'unchanged'``. Frames carrying an orientation tag are then refused, since their
        boxes are in the stored grid."""
        if self._orientation_applied is not None:
            return self._orientation_applied
        pending, found = [self.pipeline], False
        while pending and not found:
            transform = pending.pop()
            found = getattr(transform, 'color_type', None) in ORIENTATION_APPLYING_COLOR_TYPES
            children = getattr(transform, 'transforms', None)
            if isinstance(children, (list, tuple)):
                pending.extend(children)
            elif children is not None:
                pending.append(children)
        self._orientation_applied = found
        return found

    def _check_first_frames_orientation(self, data_list: List[dict]) -> None:
        """At start-up: the first frame of every video carries no EXIF orientation the pipeline
        would apply (one header read per video; local files only). Frames are tagged per
        video when a tool or a camera wrote them, so this finds the usual case early; every
        loaded frame is checked again in :meth:`prepare_data`."""
        if not data_list or not self.loads_with_orientation():
            return
        first = data_list[0]['images'][0]['img_path']
        if not isinstance(get_file_backend(first, backend_args=self.backend_args), LocalBackend):
            return
        for video in data_list:
            frame = video['images'][0]
            orientation = exif_orientation(frame['img_path'])
            if orientation != 1:
                raise FrameError(
                    f'{self.ann_file}: '
                    + exif_orientation_problem(
                        frame['img_path'], orientation, f'video {video["video_id"]} frame 0'
                    )
                )

    def _check_loaded_frames_orientation(self, data: dict) -> None:
        """Every loaded frame carries no EXIF orientation that the pipeline applied."""
        samples = data.get('data_samples') if isinstance(data, dict) else None
        for frame in getattr(samples, 'video_data_samples', None) or []:
            path = frame.metainfo.get('img_path')
            if not isinstance(path, str) or not osp.isfile(path):
                continue
            orientation = exif_orientation(path)
            if orientation != 1:
                where = (
                    f'video {frame.metainfo.get("video_id")} frame {frame.metainfo.get("frame_id")}'
                )
                raise FrameError(
                    f'{self.ann_file}: ' + exif_orientation_problem(path, orientation, where)
                )

    def _frame_sizes_hw(self, video_index: int) -> np.ndarray:
        """(L, 2) height and width of each frame of a video, as the json gives them."""
        return np.array(
            [
                [frame['height'], frame['width']]
                for frame in self.get_data_info(video_index)['images']
            ],
            dtype=np.int64,
        )

    def _frame_error(self, video_index: int, error: Exception) -> Exception:
        video = self.get_data_info(video_index)
        paths = [frame['img_path'] for frame in video['images']]
        problems = diagnose_frames(paths, self._frame_sizes_hw(video_index))
        found = (
            '; '.join(problems)
            if problems
            else 'the frame files look fine, so the pipeline or config is the likely cause'
        )
        return FrameError(
            f'{self.ann_file}: loading video {video["video_id"]} failed: {found}. '
            f'(Original error: {type(error).__name__}: {error})'
        )

    def _check_decoded_sizes(self, video_index: int, data: dict) -> None:
        """Each packed frame's decoded size (``ori_shape``) equals its size in the json."""
        samples = data.get('data_samples') if isinstance(data, dict) else None
        frames = getattr(samples, 'video_data_samples', None) or []
        if not frames:
            return
        expected = self._frame_sizes_hw(video_index)
        for frame in frames:
            frame_id, ori_shape = frame.metainfo.get('frame_id'), frame.metainfo.get('ori_shape')
            if frame_id is None or ori_shape is None or not 0 <= frame_id < len(expected):
                continue
            height, width = expected[frame_id].tolist()
            if tuple(ori_shape[:2]) != (height, width):
                raise FrameError(
                    f'{self.ann_file}: video {frame.metainfo.get("video_id")} frame {frame_id} '
                    f'({frame.metainfo.get("img_path")}) is {ori_shape[1]}x{ori_shape[0]} (w x h) '
                    f'but the json says {width}x{height}: its boxes and masks would not line up '
                    'with the image. Fix the width/height in the json or the frame files.'
                )
