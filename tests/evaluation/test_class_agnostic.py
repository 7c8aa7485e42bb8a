"""The class-agnostic view merges the copies of one query and all categories."""

import pytest

from maskfreevis.evaluation import YouTubeVISLocalMetric, class_agnostic_view


def test_query_copies_are_merged(right_mask_wrong_classes):
    view = class_agnostic_view(right_mask_wrong_classes)
    pred = view[0].pred_track_instances
    assert len(pred) == 2  # the two copies of the right mask are one prediction now
    assert sorted(pred.scores.tolist()) == pytest.approx([0.1, 0.6])
    assert pred.labels.tolist() == [0, 0]
    assert view[1].metainfo['instances'][0]['bbox_label'] == 0
    assert right_mask_wrong_classes[1].metainfo['instances'][0]['bbox_label'] == 2  # unchanged


def test_class_agnostic_ap_ignores_the_wrong_class(right_mask_wrong_classes):
    per_category = YouTubeVISLocalMetric()
    per_category.dataset_meta = dict(classes=('a', 'b', 'c'))
    per_category.process({}, [right_mask_wrong_classes.to_dict()])
    assert per_category.evaluate(size=1)['youtube_vis/segm_mAP'] == pytest.approx(0.0)
    agnostic = YouTubeVISLocalMetric()
    agnostic.dataset_meta = dict(classes=('object',))
    agnostic.process({}, [class_agnostic_view(right_mask_wrong_classes).to_dict()])
    assert agnostic.evaluate(size=1)['youtube_vis/segm_mAP'] == pytest.approx(1.0)
