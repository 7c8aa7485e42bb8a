"""YouTube-VIS track AP computed locally, under numpy 2: mask AP, or box AP for box-only ground
truth."""

import logging
from typing import Dict, List, Sequence, Tuple

from mmdet.evaluation.functional import YTVIS
from mmdet.evaluation.metrics import YouTubeVISMetric
from mmdet.registry import METRICS
from mmengine.logging import print_log

from ...utils import numpy_float_alias, removing_result_collection_dir
from ..functional import (
    BoxTrackEval,
    box_only_video_ground_truth,
    first_track_without_mask,
    predicted_track_boxes,
)

# YTVISeval.stats order (COCO's summary)
TRACK_AP_ITEMS = (
    'mAP',
    'mAP_50',
    'mAP_75',
    'mAP_s',
    'mAP_m',
    'mAP_l',
    'AR@1',
    'AR@10',
    'AR@100',
    'AR_s@100',
    'AR_m@100',
    'AR_l@100',
)
IOU_TYPES = ('auto', 'segm', 'bbox')


@METRICS.register_module()
class YouTubeVISLocalMetric(YouTubeVISMetric):
    """mmdet's ``YouTubeVISMetric`` that works under numpy 2 and measures box-only ground truth.

    Same arguments and outputs as :class:`mmdet.evaluation.metrics.YouTubeVISMetric`
    (``youtube_vis/segm_mAP``, ``segm_mAP_50``, ...), plus ``iou_type``:

    * ``'auto'`` (default): mask AP when every ground-truth instance has a mask in every frame
      where it has a box, else box-track AP (``youtube_vis/bbox_mAP``, ``bbox_mAP_50``, ...);
    * ``'segm'``: mask AP; ground truth without a mask is an error;
    * ``'bbox'``: box-track AP even when the ground truth has masks.

    Box-track AP is the YouTube-VIS protocol (categories, 10 IoU thresholds 0.5:0.95, 101-point
    precision, max 100 tracks per video) with the video IoU of boxes: per video, the sum over
    frames of the boxes' intersection over the sum over frames of their union, frames where both
    are absent skipped (:mod:`maskfreevis.evaluation.functional.box_track_iou`). Predicted boxes
    are the model's ``pred_track_instances.bboxes``; the small / medium / large ranges use the
    mean box area of a track.

    Other differences from mmdet:

    * the evaluation runs with ``np.float`` provided (mmdet 3.3.0's ``YTVISeval.accumulate`` uses
      the alias removed in numpy 1.24 — see :mod:`maskfreevis.utils.numpy_compat`);
    * mmdet's result collection (``collect_tracking_results``) leaves an empty ``.dist_test``
      folder in the working directory after every evaluation; it is removed again when this
      evaluation created it (see :mod:`maskfreevis.utils.result_collection`);
    * with ``iou_type='segm'``, ground truth without a mask raises a ``ValueError`` naming the
      video, frame and instance, instead of mmdet's bare ``KeyError: 'segmentation'``; with
      ``format_only=True`` box-only ground truth is fine (it is not used);
    * ``format_only=True`` writes the CodaLab submission (YouTube-VIS 2019 / 2021, OVIS):
      ``<outfile_prefix>.submission_file.zip`` holding ``results.json``, a list of
      ``{video_id, category_id, score, segmentations}`` with one RLE (``counts`` a str) or
      ``None`` per frame (check one with :func:`maskfreevis.evaluation.check_submission_zip`);
      ``category_id`` is the json's id of the class (the dataset's ``category_ids`` metainfo;
      mmdet writes label + 1, wrong for ids that are not 1..K in class order, e.g. with
      ``metainfo=dict(classes=...)`` choosing a subset);
    * ``format_only=True`` without ``outfile_prefix`` warns that the predictions are not kept
      (mmdet writes them into a temporary folder it deletes at once).
    """

    def __init__(self, *args, iou_type: str = 'auto', **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if iou_type not in IOU_TYPES:
            raise ValueError(
                f'YouTubeVISLocalMetric: iou_type must be one of {IOU_TYPES}, got {iou_type!r}'
            )
        self.iou_type = iou_type

    def _format_one_video_gts(self, gt_dicts: Tuple[dict]) -> List:
        """Format one video's ground truth: mmdet's way when every instance has a mask, else as
        box tracks (``iou_type='segm'``: a clear error instead)."""
        box_only = any(not ann.get('mask') for gt in gt_dicts for ann in gt.get('anns', []))
        if box_only and not self.format_only and self.iou_type != 'segm':
            videos, images, tracks = box_only_video_ground_truth(gt_dicts)
            self._vis_meta_info['images'].extend(images)
            self._vis_meta_info['videos'].extend(videos)
            return tracks
        for gt_dict in gt_dicts:
            annotations = gt_dict.get('anns', [])
            without_mask = [ann for ann in annotations if not ann.get('mask')]
            if not without_mask:
                continue
            if self.format_only:
                gt_dict['anns'] = [ann for ann in annotations if ann.get('mask')]
                continue
            first = without_mask[0]
            raise ValueError(
                f'YouTubeVISLocalMetric needs ground-truth masks to compute mask AP, but video '
                f'{gt_dict["video_id"]} frame {gt_dict["frame_id"]} (img_id {gt_dict["img_id"]}) '
                f'has {len(without_mask)} instance(s) without a mask (first: instance_id '
                f'{first.get("instance_id")}). Evaluate on a split whose json has `segmentations`, '
                "measure box-track AP instead (iou_type='auto' or 'bbox'), "
                'or only write the predictions: format_only=True with outfile_prefix=PATH (e.g. '
                '--cfg-options test_evaluator.format_only=True '
                'test_evaluator.outfile_prefix=work_dirs/results).'
            )
        return super()._format_one_video_gts(gt_dicts)

    def _format_one_video_preds(self, pred_dicts: Tuple[dict]) -> List:
        """Format as mmdet does, adding each track's per-frame boxes (``bboxes``, xywh or None)."""
        tracks = super()._format_one_video_preds(pred_dicts)
        for track, boxes in zip(tracks, predicted_track_boxes(pred_dicts), strict=True):
            track['bboxes'] = boxes
        return tracks

    def evaluate(self, size: int = 1) -> dict:
        """Evaluate as mmdet does, without leaving mmdet's empty ``.dist_test`` folder behind."""
        with removing_result_collection_dir():
            return super().evaluate(size)

    def save_pred_results(self, pred_results: List) -> None:
        """Write the predictions to ``outfile_prefix`` (.json and .submission_file.zip).

        Without ``outfile_prefix`` mmdet writes them into a temporary folder deleted right away
        (while logging "please submit the zip file" with its path); here nothing is written and
        a warning says how to keep them.
        """
        if self.outfile_prefix is None:
            print_log(
                'YouTubeVISLocalMetric: format_only=True but no outfile_prefix, so the '
                'predictions are not kept; set outfile_prefix=PATH (e.g. --cfg-options '
                'test_evaluator.outfile_prefix=work_dirs/results) to write them.',
                logger='current',
                level=logging.WARNING,
            )
            return
        # mmdet writes label + 1 as the category id: the json's ids only when they are 1..K in
        # class order; the dataset's category_ids (label -> json id) give them in any case
        category_ids = (self.dataset_meta or {}).get('category_ids')
        # the server's layout: video_id, category_id, score, segmentations (no boxes)
        super().save_pred_results(
            [
                {
                    **{key: value for key, value in track.items() if key != 'bboxes'},
                    **(
                        {'category_id': int(category_ids[track['category_id'] - 1])}
                        if category_ids
                        else {}
                    ),
                }
                for track in pred_results
            ]
        )

    def compute_metrics(self, results: List) -> Dict[str, float]:
        """Compute mask or box-track AP (or write the results when ``format_only``); numpy-2
        safe."""
        if self.format_only or self._chosen_iou_type(results) == 'segm':
            with numpy_float_alias():
                return super().compute_metrics(results)
        return self._box_track_ap(results)

    def _chosen_iou_type(self, results: List) -> str:
        """``iou_type``, or for ``'auto'`` box AP when some ground truth lacks a mask."""
        if self.iou_type != 'auto':
            return self.iou_type
        without_mask = first_track_without_mask([t for _, tracks in results for t in tracks])
        if without_mask is None:
            return 'segm'
        print_log(
            f'YouTubeVISLocalMetric: ground-truth instance {without_mask["id"]} of video '
            f'{without_mask["video_id"]} has a box but no mask, so box-track AP (bbox_mAP, ...) is '
            'computed instead of mask AP.',
            logger='current',
        )
        return 'bbox'

    def _box_track_ap(self, results: List) -> Dict[str, float]:
        """YouTube-VIS track AP with the video box IoU, ``bbox_<item>`` per ``metric_items``."""
        items = self.metric_items or TRACK_AP_ITEMS[:6]
        unknown = [item for item in items if item not in TRACK_AP_ITEMS]
        if unknown:
            raise KeyError(
                f'metric items {unknown} are not supported; choose from {TRACK_AP_ITEMS}'
            )
        predictions, ground_truth = zip(*results)
        ground_truth = YTVIS(self.format_gts(ground_truth))
        stats = self._box_track_stats(ground_truth, self.format_preds(predictions))
        return {
            f'bbox_{item}': round(float(stats[TRACK_AP_ITEMS.index(item)]), 3) for item in items
        }

    @staticmethod
    def _box_track_stats(ground_truth: YTVIS, predictions: List[dict]) -> Sequence[float]:
        """The 12 summary numbers of BoxTrackEval; all 0 when nothing was predicted."""
        if not predictions:
            print_log(
                'YouTubeVISLocalMetric: no predicted tracks at all, box-track AP is 0.',
                logger='current',
                level=logging.WARNING,
            )
            return [0.0] * len(TRACK_AP_ITEMS)
        evaluator = BoxTrackEval(ground_truth, ground_truth.loadRes(predictions))
        evaluator.params.vidIds = ground_truth.getVidIds()
        with numpy_float_alias():
            evaluator.evaluate()
            evaluator.accumulate()
            evaluator.summarize()
        return evaluator.stats
