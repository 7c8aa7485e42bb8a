"""Mask AP of a trained checkpoint on its test videos: per category (YouTube-VIS mask AP) and
class-agnostic (categories merged), the two AP the demo reports for Mask2Former-VIS, in one pass.

(The demo's third measure, the best prediction per GT object, assumes one set of queries shared
by all frames of a video; MaskTrack R-CNN's tracks have per-frame detections, so it is left out.)

Run from the repository root:
    PYTHONPATH=. python projects/masktrack_rcnn_maskfree/tools/evaluate_masks.py CONFIG CHECKPOINT \
        [--out metrics.json] [--cfg-options k=v ...]
"""

import argparse
import contextlib
import io
import json
from typing import Optional, Sequence

import mmengine
import torch
from mmdet.structures import TrackDataSample

from maskfreevis.apis.cli import add_common_args, load_config, parse_launch_args
from maskfreevis.engine import build_runner
from maskfreevis.evaluation import YouTubeVISLocalMetric


def tracked_class_agnostic_view(video: TrackDataSample) -> TrackDataSample:
    """The video with every GT and predicted instance in one class (label 0).

    For tracker outputs (each frame's ``pred_track_instances`` are that frame's detections, one
    per track id), so, unlike ``maskfreevis.evaluation.class_agnostic_view`` for Mask2Former-VIS,
    there are no per-class copies of a track to merge.

    Args:
        video: T frames with ``pred_track_instances`` (``masks (N_t, H, W)``, ``labels (N_t,)``,
            ``instances_id``, ...) and the GT ``instances`` in their metainfo.

    Returns:
        A new sample of T frames; ``video`` is unchanged.
    """
    frames = []
    for index in range(len(video)):
        frame = video[index].clone()
        instances = frame.metainfo.get('instances', [])
        frame.set_metainfo(dict(instances=[dict(inst, bbox_label=0) for inst in instances]))
        # clone() of a data sample shares its InstanceData: relabel a copy
        predictions = frame.pred_track_instances.clone()
        predictions.labels = torch.zeros_like(predictions.labels)
        frame.pred_track_instances = predictions
        frames.append(frame)
    return TrackDataSample(video_data_samples=frames)


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('config', help='config file of the model')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--out', help='write the metrics to this json file')
    add_common_args(parser)
    return parse_launch_args(parser, argv)


def main(argv: Optional[Sequence[str]] = None) -> dict:
    args = parse_args(argv)
    cfg = load_config(args)
    cfg.load_from = args.checkpoint
    runner = build_runner(cfg)
    runner.load_or_resume()
    dataloader = runner.test_dataloader
    per_category = YouTubeVISLocalMetric(metric='youtube_vis_ap')
    per_category.dataset_meta = dataloader.dataset.metainfo
    agnostic = YouTubeVISLocalMetric(metric='youtube_vis_ap')
    agnostic.dataset_meta = dict(classes=('object',))
    model = runner.model
    model.eval()
    # the vendored evaluator prints its tables; the json below holds the numbers
    with torch.no_grad(), contextlib.redirect_stdout(io.StringIO()):
        for data_batch in dataloader:
            outputs = model.test_step(data_batch)
            per_category.process(data_batch, [video.to_dict() for video in outputs])
            agnostic.process(
                data_batch, [tracked_class_agnostic_view(v).to_dict() for v in outputs]
            )
        size = len(dataloader.dataset)
        metrics = dict(
            per_category=per_category.evaluate(size=size),
            class_agnostic=agnostic.evaluate(size=size),
        )
    print(json.dumps(metrics, indent=1))
    if args.out is not None:
        mmengine.dump(metrics, args.out)
    return metrics


if __name__ == '__main__':
    main()
