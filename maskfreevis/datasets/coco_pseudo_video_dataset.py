"""COCO-style image datasets served as one-image "videos" for joint training with video data."""

import os.path as osp
from typing import Dict, List, Mapping, Optional, Tuple, Union

import numpy as np
from mmdet.registry import DATASETS

from .annotation_checks import (
    AnnotationError,
    SkipCounter,
    as_int_array,
    crowd_flag,
    load_annotation_json,
    require_keys,
)
from .box_vis_dataset import BoxVISDataset

# the two release tables are re-exported: maskfreevis.datasets imports them from this module
from .categories import (  # noqa: F401
    COCO_TO_YTVIS_2019,
    COCO_TO_YTVIS_2021,
    check_class_names,
    coco_class_table,
    map_categories,
    read_categories,
    select_classes,
)


@DATASETS.register_module()
class CocoPseudoVideoDataset(BoxVISDataset):
    """A COCO-format image json whose images become one-frame pseudo-videos.

    Each image gives ``{'video_id': image id, 'video_length': 1, 'is_pseudo_video': True,
    'images': [frame]}`` with the frame layout of :class:`BoxVISDataset` (boxes always; ``mask``
    when the annotation has a ``segmentation``; ``iscrowd`` -> ``ignore_flag``; instance ids
    1..M over the dataset). :class:`SampleClipFrames` expands a pseudo-video into T copies and
    :class:`RandomPseudoVideoWarp` makes them move.

    Labels index the *video* dataset's classes so both can sit in one ``ConcatDataset``:
    ``class_mapping`` names a table of :mod:`maskfreevis.datasets.categories`
    (``'youtube_vis_2019'``, ``'youtube_vis_2021'``, ``'ovis'``), whose video classes become the
    classes unless ``metainfo=dict(classes=...)`` gives them; or ``class_mapping`` is a
    ``{coco_name: video_name}`` dict next to ``metainfo=dict(classes=<video classes>)``. Without a
    mapping, categories map to classes of the same name (and without ``metainfo`` classes, the
    json categories are the classes). ``ConcatDataset`` checks that the classes of its members
    are equal, so a video json whose categories differ from the table fails at start-up.
    Annotations of unmapped categories are dropped and counted; boxes are checked, images
    filtered (training: no usable box -> dropped, counted) and files checked as in
    :class:`BoxVISDataset`.
    Structural errors raise :class:`AnnotationError` naming the file and record.

    A train pipeline close to the released recipe (T = 3; the release resized the short side
    to 400-600 before its crop and to 288-512 after)::

        [dict(type='SampleClipFrames', num_frames=3),
         dict(type='TransformBroadcaster', share_random_params=True, transforms=[
             dict(type='LoadImageFromFile'),
             dict(type='LoadTrackAnnotations', with_mask=True),
             dict(type='RandomChoiceResize', scales=[(1333, 400), (1333, 500), (1333, 600)],
                  keep_ratio=True)]),
         dict(type='RandomPseudoVideoWarp', crop_prob=0.5, crop_size=(384, 600),
              max_rotate_degree=15),
         dict(type='TransformBroadcaster', share_random_params=True, transforms=[
             dict(type='RandomChoiceResize', scales=[(768, s) for s in range(288, 513, 32)],
                  keep_ratio=True),
             dict(type='RandomFlip', prob=0.5),
             dict(type='ClipBoxesToImage')]),
         dict(type='PackTrackInputs')]

    Args:
        class_mapping: The name of a COCO -> video class table (see
            :func:`~maskfreevis.datasets.categories.coco_class_table`), or
            ``{source category name: target class name}``.
        *args, **kwargs: :class:`BoxVISDataset` arguments (``check_files``, ``ann_file``,
            ``data_prefix``, ``metainfo``, ``filter_cfg``, ``pipeline``, ...).
    """

    def __init__(
        self, *args, class_mapping: Union[str, Mapping[str, str], None] = None, **kwargs
    ) -> None:
        self.table_classes: Optional[Tuple[str, ...]] = None
        if isinstance(class_mapping, str):
            try:
                self.table_classes, class_mapping = coco_class_table(class_mapping)
            except ValueError as error:
                raise ValueError(
                    f'CocoPseudoVideoDataset({kwargs.get("ann_file", "")}): {error}'
                ) from None
        self.class_mapping = dict(class_mapping) if class_mapping is not None else None
        super().__init__(*args, **kwargs)

    DROPPED_CLASS_REASON = 'annotations of unmapped categories (dropped)'

    def load_data_list(self) -> List[dict]:
        """Parse the COCO json into one pseudo-video dict per image."""
        self._skips = SkipCounter(f'{type(self).__name__}({self.ann_file})')
        self.data_format = 'coco'
        data = load_annotation_json(self.ann_file, backend_args=self.backend_args)
        require_keys(data, ('images', 'categories'), self.ann_file, 'the top-level object')
        names_by_id = read_categories(data['categories'], self.ann_file)
        self._map_classes(names_by_id)
        images, image_ids = self._read_images(data)
        annotations, positions = self._read_annotations(data, names_by_id, image_ids)

        image_wh = np.array(
            [[image['width'], image['height']] for image in images], dtype=np.float64
        ).reshape(-1, 2)
        category_ids = as_int_array(
            [ann['category_id'] for ann in annotations], self.ann_file, 'category ids'
        )
        keep, boxes_xyxy, labels = self._check_boxes(
            self._boxes_xywh(annotations),
            image_wh[positions],
            category_ids,
            lambda rows: [
                f'image {image_ids[positions[r]]}, annotation id {annotations[r]["id"]}'
                for r in rows[: self._skips.max_examples]
            ],
        )

        img_prefix = self.data_prefix.get('img_path', None)
        data_list = []
        for image, img_id in zip(images, image_ids.tolist()):
            frame = dict(
                img_path=osp.join(img_prefix, image['file_name'])
                if img_prefix
                else image['file_name'],
                img_id=img_id,
                video_id=img_id,
                frame_id=0,
                height=int(image['height']),
                width=int(image['width']),
                instances=[],
            )
            data_list.append(
                dict(video_id=img_id, images=[frame], video_length=1, is_pseudo_video=True)
            )
        # Each kept annotation is one object of its pseudo-video: ids 1..M in json order.
        for instance_id, row in enumerate(np.flatnonzero(keep).tolist(), start=1):
            ann = annotations[row]
            instance = dict(
                bbox=boxes_xyxy[row].tolist(),
                bbox_label=int(labels[row]),
                ignore_flag=int(crowd_flag(ann, self.ann_file, f'annotation id {ann["id"]}')),
                instance_id=instance_id,
            )
            if ann.get('segmentation'):
                instance['mask'] = ann['segmentation']
            data_list[positions[row]]['images'][0]['instances'].append(instance)
        return data_list

    def _map_classes(self, names_by_id: Dict[int, str]) -> None:
        """Set ``classes`` (target classes) and ``cat2label`` (source id -> target label)."""
        requested = check_class_names(self._metainfo.get('classes'), self.ann_file)
        requested = requested or self.table_classes
        if self.class_mapping is not None and requested is None:
            raise AnnotationError(
                'CocoPseudoVideoDataset with class_mapping needs '
                'metainfo=dict(classes=...) naming the target (video) classes'
            )
        if requested is None:
            classes, cat2label = select_classes(names_by_id, None, self.ann_file)
        else:
            classes = tuple(requested)
            cat2label = map_categories(names_by_id, classes, self.class_mapping, self.ann_file)
        self._metainfo['classes'] = classes
        self.cat2label = cat2label
        self.cat_ids = list(cat2label)

    def _read_images(self, data: dict) -> Tuple[List[dict], np.ndarray]:
        """Checked ``images`` and their (I,) integer ids."""
        images = data['images'] or []
        for index, image in enumerate(images):
            require_keys(
                image, ('id', 'file_name', 'width', 'height'), self.ann_file, f'images[{index}]'
            )
        image_ids = as_int_array([image['id'] for image in images], self.ann_file, 'image ids')
        unique, counts = np.unique(image_ids, return_counts=True)
        if (counts > 1).any():
            raise AnnotationError(
                f'{self.ann_file}: image id {unique[counts > 1][0]} is used more than once'
            )
        return images, image_ids

    def _read_annotations(
        self, data: dict, names_by_id: Dict[int, str], image_ids: np.ndarray
    ) -> Tuple[List[dict], np.ndarray]:
        """Checked ``annotations`` and the (A,) position of each one's image in ``images``."""
        annotations = data.get('annotations') or []
        if not self.test_mode and 'annotations' not in data:
            raise AnnotationError(f"{self.ann_file}: no key 'annotations' (needed for training)")
        position_by_id = {img_id: position for position, img_id in enumerate(image_ids.tolist())}
        for index, ann in enumerate(annotations):
            what = (
                f'annotation id {ann["id"]}'
                if isinstance(ann, Mapping) and 'id' in ann
                else f'annotations[{index}]'
            )
            require_keys(ann, ('id', 'image_id', 'category_id', 'bbox'), self.ann_file, what)
            if ann['category_id'] not in names_by_id:
                raise AnnotationError(
                    f'{self.ann_file}: {what} has category_id {ann["category_id"]!r}, which is '
                    f'not in categories {list(names_by_id)}'
                )
            if ann['image_id'] not in position_by_id:
                raise AnnotationError(
                    f'{self.ann_file}: {what} refers to unknown image_id {ann["image_id"]}'
                )
        positions = np.array(
            [position_by_id[ann['image_id']] for ann in annotations], dtype=np.int64
        )
        return annotations, positions

    def _boxes_xywh(self, annotations: List[dict]) -> np.ndarray:
        """(A, 4) float boxes, or an error naming the first malformed one."""
        try:
            return np.asarray([ann['bbox'] for ann in annotations], dtype=np.float64).reshape(
                len(annotations), 4
            )
        except (TypeError, ValueError):
            bad = next(ann for ann in annotations if np.size(ann['bbox']) != 4)
            raise AnnotationError(
                f'{self.ann_file}: annotation id {bad["id"]}: bbox must be '
                f'[x, y, w, h], got {bad["bbox"]!r}'
            ) from None
