"""Segment and track the instances of a video: an MP4 with coloured masks and labels, and json.

Input: a video file (mp4/avi/mov/mkv/webm/...) or a folder of frames. Output: an MP4 where each
instance has its colour and a label ``#id class score`` on a box at the instance, and (with
``--out-json``) the per-frame results with COCO RLE masks. Long videos run in windows of frames
(``--window``), so memory does not grow with the video's length.

Example (the model ``make demo`` trains: the real-imagery demo config, its last checkpoint)::

    python demo/video_demo.py my_video.mp4 \\
        configs/maskfreevis/maskfreevis_mobilenetv2_1xb4-400iter_realimagery.py \\
        demo_outputs/work_dir/iter_400.pth --out outputs/my_video.mp4 \\
        --out-json outputs/my_video.json
"""

import argparse
import sys
from typing import Optional, Sequence

from mmengine.config import DictAction

from maskfreevis.apis.video_demo import AUTO_WINDOW, WHOLE_VIDEO_MAX_FRAMES, run_video_demo
from maskfreevis.utils.checkpoint_loading import CheckpointReadError, UntrustedCheckpointError
from maskfreevis.visualization.video_file import VIDEO_CODECS


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('video', help='a video file or a folder of frames')
    parser.add_argument('config', help='config file of the model')
    parser.add_argument('checkpoint', help='checkpoint file of the model')
    parser.add_argument('--out', required=True, help='the MP4 to write')
    parser.add_argument('--out-json', help='also write the per-frame results (RLE masks) here')
    parser.add_argument('--device', default='cpu', help="'cpu', 'cuda' or 'cuda:N'")
    parser.add_argument(
        '--window',
        default='auto',
        help=f'frames per forward pass; 0 = the whole video at once; auto (default) = the whole '
        f'video up to {WHOLE_VIDEO_MAX_FRAMES} frames, else {AUTO_WINDOW}',
    )
    parser.add_argument('--overlap', type=int, default=4, help='frames shared by two windows')
    parser.add_argument('--score-thr', type=float, default=0.3, help='lowest score drawn')
    parser.add_argument('--max-instances', type=int, default=10, help='instances per window')
    parser.add_argument(
        '--codec',
        default='mp4v',
        choices=VIDEO_CODECS,
        help='mp4v: fast, desktop players; vp09: also plays in web browsers, slow to encode; '
        'avc1: H.264, plays everywhere, fast (needs imageio-ffmpeg)',
    )
    parser.add_argument('--cfg-options', nargs='+', action=DictAction, help='config overrides')
    parser.add_argument('--no-progress', action='store_true', help='no progress bar')
    args = parser.parse_args(argv)
    if args.window != 'auto':
        try:
            args.window = int(args.window)
        except ValueError:
            parser.error(f"--window must be a number of frames or 'auto', got {args.window!r}")
    return args


def main(argv: Optional[Sequence[str]] = None) -> dict:
    args = parse_args(argv)
    try:
        summary = run_video_demo(
            args.video,
            args.config,
            args.checkpoint,
            args.out,
            out_json=args.out_json,
            device=args.device,
            window=args.window,
            overlap=args.overlap,
            score_thr=args.score_thr,
            max_instances=args.max_instances,
            codec=args.codec,
            cfg_options=args.cfg_options,
            progress=not args.no_progress,
        )
    except (OSError, ValueError, CheckpointReadError, UntrustedCheckpointError) as error:
        # bad input: the message names the file at fault and what to do
        print(f'video_demo.py: error: {error}', file=sys.stderr)
        raise SystemExit(1) from error
    window = 'whole video' if summary['window'] is None else f'windows of {summary["window"]}'
    print(
        f'{summary["frames"]} frames ({window}), {len(summary["instances"])} instances -> '
        f'{summary["video"]}' + (f' and {summary["json"]}' if summary['json'] else '')
    )
    return summary


if __name__ == '__main__':
    main()
