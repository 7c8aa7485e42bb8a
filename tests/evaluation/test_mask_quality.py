"""evaluate_mask_quality: class-agnostic and per-category AP in one pass, with per-video matches."""

import pytest

from maskfreevis.evaluation import evaluate_mask_quality
from maskfreevis.evaluation.video_bootstrap import multiset_average_precision


class ReplayModel:
    """``val_step`` returns the videos stored in the batch."""

    def eval(self):
        return self

    def val_step(self, batch):
        return batch['videos']


class ReplayLoader(list):
    """Batches of stored videos, with the ``dataset`` a dataloader has."""

    def __init__(self, videos, classes):
        super().__init__([dict(videos=videos)])
        self.dataset = type(
            'Dataset', (), dict(metainfo=dict(classes=classes), __len__=lambda self: len(videos))
        )()


def test_with_records_scores_both_views_and_the_records_reproduce_them(right_mask_wrong_classes):
    # GT class 2; the predictions have classes 0 and 1: right mask, wrong classes
    loader = ReplayLoader([right_mask_wrong_classes], ('a', 'b', 'c'))
    results = evaluate_mask_quality(ReplayModel(), loader, show_progress=False, with_records=True)
    assert results['youtube_vis/segm_mAP'] == pytest.approx(1.0)  # categories merged: right
    assert results['per_category']['youtube_vis/segm_mAP'] == pytest.approx(0.0)  # wrong class
    records = results['records']
    assert multiset_average_precision(records['class_agnostic']) == pytest.approx(1.0)
    assert multiset_average_precision(records['per_category']) == pytest.approx(0.0)
    plain = evaluate_mask_quality(ReplayModel(), loader, show_progress=False)
    assert 'records' not in plain and plain['youtube_vis/segm_mAP'] == pytest.approx(1.0)
