"""The video demo: segment a video file or a folder of frames, write an MP4 and per-frame RLE json.

Frames stream through: decoded, segmented (whole video or windows, see
:func:`maskfreevis.apis.inference_video`), drawn and written one at a time, so a long video needs
the memory of one window, and the json is written as the frames come (into ``<json>.part``,
renamed when complete, so an interrupted run leaves no half json under the final name).
"""

import json
import os
import os.path as osp
from typing import Optional, Union

import numpy as np
from mmengine.config import Config
from tqdm import tqdm

from ..visualization.drawing import draw_instances
from ..visualization.video_file import VideoFileWriter
from .inference import init_vis_model
from .video_inference import inference_video
from .video_source import VideoInput, VideoSource

__all__ = ['run_video_demo', 'choose_window', 'WHOLE_VIDEO_MAX_FRAMES', 'AUTO_WINDOW']

# With window='auto': videos up to this long run in one forward pass (the evaluation setting),
# longer ones (or a video file whose length is unknown) in windows of AUTO_WINDOW frames.
WHOLE_VIDEO_MAX_FRAMES = 64
AUTO_WINDOW = 32


def choose_window(num_frames: Optional[int], window: Union[int, str, None]) -> Optional[int]:
    """The window to run with: ``None`` or ``0`` = the whole video, ``'auto'`` = the whole video
    when it has at most :data:`WHOLE_VIDEO_MAX_FRAMES` frames, else :data:`AUTO_WINDOW`."""
    if window == 'auto':
        if num_frames is not None and num_frames <= WHOLE_VIDEO_MAX_FRAMES:
            return None
        return AUTO_WINDOW
    if window is None or int(window) == 0:
        return None
    return int(window)


def run_video_demo(
    video: VideoInput,
    config: Union[str, Config],
    checkpoint: Optional[str],
    out_video: str,
    out_json: Optional[str] = None,
    device: str = 'cpu',
    window: Union[int, str, None] = 'auto',
    overlap: int = 4,
    score_thr: float = 0.3,
    max_instances: int = 10,
    codec: str = 'mp4v',
    cfg_options: Optional[dict] = None,
    progress: bool = True,
) -> dict:
    """Segment a video and write the drawn video (and the per-frame results as json).

    Args:
        video: a video file, a folder of frames, or a list of frames (see
            :class:`~maskfreevis.apis.VideoSource`).
        config: config file or :class:`Config` of the model.
        checkpoint: its weights (refused with an error when they do not fit the config).
        out_video: the MP4 to write: coloured masks, and per instance a label ``#id class score``.
        out_json: where to write ``{video, fps, width, height, classes, window, frames}``, each
            frame ``{frame_index, instances: [{id, label, class, score, bbox, segmentation}]}``
            with COCO RLE masks; None writes none.
        device: ``'cpu'``, ``'cuda'`` or ``'cuda:N'``.
        window: frames per forward pass (see :func:`choose_window`).
        overlap: frames shared by consecutive windows.
        score_thr: instances scoring below this are not kept.
        max_instances: at most this many instances per window.
        codec: a codec of :class:`~maskfreevis.visualization.video_file.VideoFileWriter`:
            ``'mp4v'`` (fast, desktop players), ``'vp09'`` (browsers too, slow to encode) or
            ``'avc1'`` (H.264: plays everywhere, fast; needs imageio-ffmpeg).
        cfg_options: overrides merged into the config.
        progress: show a progress bar on stderr.

    Returns:
        A summary: ``frames``, ``instances`` (the ids seen), ``window``, ``video``, ``json``.
    """
    source = VideoSource(video)  # a bad video is reported before the model is built
    model = init_vis_model(config, checkpoint, device=device, cfg_options=cfg_options)
    classes = (model.dataset_meta or {}).get('classes')
    class_names = list(classes) if classes is not None else None
    chosen = choose_window(source.num_frames, window)
    seen_ids = set()
    frames = 0
    json_file, partial = None, None
    try:
        with VideoFileWriter(out_video, source.fps, codec=codec) as writer:
            results = inference_video(
                model,
                source,
                window=chosen,
                overlap=overlap,
                score_thr=score_thr,
                max_instances=max_instances,
            )
            bar = tqdm(results, total=source.num_frames, unit='frame', disable=not progress)
            for result in bar:
                if frames == 0 and out_json is not None:
                    json_file, partial = _open_json(out_json, source, result, class_names, chosen)
                drawn = draw_instances(
                    np.ascontiguousarray(result.image[..., ::-1]),
                    result.masks,
                    result.instance_ids.tolist(),
                    labels=result.labels,
                    scores=result.scores,
                    class_names=class_names,
                )
                writer.write(drawn)
                if json_file is not None:
                    json_file.write(
                        (',\n' if frames else '\n') + json.dumps(result.to_dict(class_names))
                    )
                seen_ids.update(result.instance_ids.tolist())
                frames += 1
        if json_file is not None:
            json_file.write('\n]}\n')
            json_file.close()
            json_file = None
            os.replace(partial, out_json)
    finally:
        if json_file is not None:
            json_file.close()
    return dict(
        frames=frames, instances=sorted(seen_ids), window=chosen, video=out_video, json=out_json
    )


def _open_json(path: str, source: VideoSource, first, class_names, window):
    """Open ``<path>.part`` and write the header of the results json up to the frames list."""
    os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
    partial = path + '.part'
    handle = open(partial, 'w')
    header = dict(
        video=source.name,
        fps=source.fps,
        width=int(first.image.shape[1]),
        height=int(first.image.shape[0]),
        classes=class_names,
        window=window,
    )
    handle.write(json.dumps(header)[:-1] + ', "frames": [')
    return handle, partial
