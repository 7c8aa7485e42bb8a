"""YouTube-VIS mask AP computed locally, under numpy 2, with clear errors for box-only ground
truth."""

import logging
from typing import Dict, List, Tuple

from mmdet.evaluation.metrics import YouTubeVISMetric
from mmdet.registry import METRICS
from mmengine.logging import print_log

from ...utils import numpy_float_alias, removing_result_collection_dir


@METRICS.register_module()
class YouTubeVISLocalMetric(YouTubeVISMetric):
    """mmdet's ``YouTubeVISMetric`` that works under numpy 2 and explains missing GT masks.

    Same arguments and outputs as :class:`mmdet.evaluation.metrics.YouTubeVISMetric`
    (``youtube_vis/segm_mAP``, ``segm_mAP_50``, ...). Differences:

    * the evaluation runs with ``np.float`` provided (mmdet 3.3.0's ``YTVISeval.accumulate`` uses
      the alias removed in numpy 1.24 — see :mod:`maskfreevis.utils.numpy_compat`);
    * mmdet's result collection (``collect_tracking_results``) leaves an empty ``.dist_test``
      folder in the working directory after every evaluation; it is removed again when this
      evaluation created it (see :mod:`maskfreevis.utils.result_collection`);
    * ground truth without a mask (box-only annotations) raises a ``ValueError`` naming the video,
      frame and instance when AP is requested, instead of mmdet's bare ``KeyError: 'segmentation'``;
      with ``format_only=True`` box-only ground truth is fine (it is not used);
    * ``format_only=True`` without ``outfile_prefix`` warns that the predictions are not kept
      (mmdet writes them into a temporary folder it deletes at once).
    """

    def _format_one_video_gts(self, gt_dicts: Tuple[dict]) -> List:
        """Check every GT instance of one video carries a mask, then format as mmdet does."""
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
                'or only write the predictions: format_only=True with outfile_prefix=PATH (e.g. '
                '--cfg-options test_evaluator.format_only=True '
                'test_evaluator.outfile_prefix=work_dirs/results).'
            )
        return super()._format_one_video_gts(gt_dicts)

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
        super().save_pred_results(pred_results)

    def compute_metrics(self, results: List) -> Dict[str, float]:
        """Compute segm AP (or write the results when ``format_only``); numpy-2 safe."""
        with numpy_float_alias():
            return super().compute_metrics(results)
