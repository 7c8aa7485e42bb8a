"""YouTube-VIS track AP with box IoU over the video, for ground truth that has boxes only."""

import numpy as np
from mmdet.evaluation.functional import YTVISeval

from .box_track_iou import box_track_iou, track_boxes_to_array


def mean_box_area(boxes_xywh: list) -> float:
    """Mean area of the present boxes of one track (``[x, y, w, h]`` or ``None`` per frame)."""
    areas = [box[2] * box[3] for box in boxes_xywh if box is not None and box[2] * box[3] > 0]
    return float(np.mean(areas)) if areas else 0.0


class BoxTrackEval(YTVISeval):
    """``YTVISeval`` with ``iouType='bbox'`` computed the YouTube-VIS way over the video.

    mmdet 3.3.0's ``YTVISeval`` accepts ``'bbox'`` but then hands boxes to ``maskUtils.merge``,
    which takes RLE masks only, and never sets the ``avg_area`` its area ranges need. Here the IoU
    is :func:`box_track_iou` (sum of intersections over sum of unions over the frames) and a
    track's area (for the small / medium / large ranges) is the mean area of its present boxes.
    Ground truth and predictions both carry ``bboxes``: one ``[x, y, w, h]`` or ``None`` per frame.
    Everything else (matching, 101-point precision, 10 IoU thresholds 0.5:0.95) is YTVISeval's.
    """

    def __init__(self, ground_truth=None, predictions=None) -> None:
        super().__init__(ground_truth, predictions, iouType='bbox')

    def _prepare(self) -> None:
        """Collect the tracks per (video, category) as YTVISeval does, with box-based areas."""
        super()._prepare()
        for tracks in (*self._gts.values(), *self._dts.values()):
            for track in tracks:
                track['avg_area'] = mean_box_area(track['bboxes'])

    def computeIoU(self, vidId, catId) -> np.ndarray:  # noqa: N802, N803 (YTVISeval's names)
        """Box track IoU ``(D, G)`` of one video and category, D sorted by score as YTVISeval."""
        params = self.params
        category_ids = [catId] if params.useCats else params.catIds
        gts = [gt for category in category_ids for gt in self._gts[vidId, category]]
        dts = [dt for category in category_ids for dt in self._dts[vidId, category]]
        if not gts and not dts:
            return []
        # the same stable order and cut as evaluateVid, which indexes this matrix by it
        order = np.argsort([-dt['score'] for dt in dts], kind='mergesort')
        dts = [dts[i] for i in order][: params.maxDets[-1]]
        if not gts or not dts:
            return np.zeros((len(dts), len(gts)))
        return box_track_iou(
            track_boxes_to_array([dt['bboxes'] for dt in dts]),
            track_boxes_to_array([gt['bboxes'] for gt in gts]),
        )
