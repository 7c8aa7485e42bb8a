"""Segment and track the instances of a video: an MP4 with coloured masks and labels, and json.

Input: a video file (mp4/avi/mov/mkv/webm/...) or a folder of frames. Output: an MP4 where each
instance has its colour and a label ``#id class score`` on a box at the instance, and (with
``--out-json``) the per-frame results with COCO RLE masks. Long videos run in windows of frames
(``--window``; ``auto`` sizes them from the frame size and the free memory), so memory does not
grow with the video's length. Every option is checked before the model is loaded; the outputs are
written atomically (an interrupted run leaves the earlier ones as they were) and never over an
input.

Example (the model ``make demo`` trains)::

    python demo/video_demo.py my_video.mp4 \\
        configs/maskfreevis/maskfreevis_mobilenetv2_1xb4-200iter_realimagery.py \\
        demo_outputs/work_dir/iter_200.pth --out outputs/my_video.mp4 \\
        --out-json outputs/my_video.json
"""

import argparse
import math
import signal
import sys
import warnings
from typing import Optional, Sequence

from mmengine.config import DictAction

from maskfreevis.apis.inference import check_device
from maskfreevis.apis.video_demo import (
    AUTO_WINDOW,
    WHOLE_VIDEO_MAX_FRAMES,
    check_outputs,
    run_video_demo,
)
from maskfreevis.apis.video_inference import check_window_arguments
from maskfreevis.apis.video_source import TruncatedVideoWarning
from maskfreevis.utils.checkpoint_loading import CheckpointReadError, UntrustedCheckpointError
from maskfreevis.visualization.video_file import VIDEO_CODECS

PROG = 'video_demo.py'
OPTION_NAMES = dict(
    window='--window',
    overlap='--overlap',
    score_thr='--score-thr',
    max_instances='--max-instances',
    out_video='--out',
    out_json='--out-json',
    fps='--fps',
)


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__.split('\n')[0])
    parser.add_argument('video', help='a video file or a folder of frames')
    parser.add_argument('config', help='config file of the model')
    parser.add_argument('checkpoint', help='checkpoint file of the model')
    parser.add_argument(
        '--out',
        required=True,
        help='the video to write (.mp4; mp4v and avc1 also .m4v/.mov/.mkv/.avi, vp09 .webm/.mkv)',
    )
    parser.add_argument('--out-json', help='also write the per-frame results (RLE masks) here')
    parser.add_argument('--device', default='cpu', help="'cpu', 'cuda' or 'cuda:N'")
    parser.add_argument(
        '--window',
        default='auto',
        help=f'frames per forward pass (at least 2); 0 = the whole video at once; auto (default) '
        f'= the whole video up to {WHOLE_VIDEO_MAX_FRAMES} frames, else {AUTO_WINDOW}, both '
        'lowered to what the free memory holds',
    )
    parser.add_argument('--overlap', type=int, default=4, help='frames shared by two windows')
    parser.add_argument('--score-thr', type=float, default=0.3, help='lowest score kept, in [0, 1]')
    parser.add_argument('--max-instances', type=int, default=10, help='instances per window')
    parser.add_argument(
        '--fps',
        type=float,
        help="frames per second of the output (default: the video's; 10 for frames)",
    )
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
        if args.window < 0:
            parser.error(
                f'--window must be 0 (the whole video), at least 2, or auto, got {args.window}'
            )
    window = args.window if args.window not in ('auto', 0) else None
    try:
        check_device(args.device, what='--device')
        if args.window == 'auto' and args.overlap < 1:
            raise ValueError(
                f'--overlap must be at least 1 (windows share frames), got {args.overlap}'
            )
        check_window_arguments(
            window, args.overlap, args.score_thr, args.max_instances, names=OPTION_NAMES
        )
        if args.fps is not None and not (math.isfinite(args.fps) and args.fps > 0):
            raise ValueError(
                f'--fps must be a positive number of frames per second, got {args.fps}'
            )
    except ValueError as error:
        parser.error(str(error))
    return args


class _Terminated(KeyboardInterrupt):
    """SIGTERM, turned into an exception so the partial outputs are cleaned up."""


def _raise_terminated(signum, frame) -> None:
    raise _Terminated()


def main(argv: Optional[Sequence[str]] = None) -> dict:
    args = parse_args(argv)
    outputs = args.out + (f' and {args.out_json}' if args.out_json else '')
    previous_sigterm = signal.getsignal(signal.SIGTERM)
    if previous_sigterm == signal.SIG_DFL:
        signal.signal(signal.SIGTERM, _raise_terminated)
    try:
        # before the video is read or the model built: outputs that would destroy an input,
        # each other, or that cannot be written (the video's own fps is checked later)
        check_outputs(
            args.video,
            args.config,
            args.checkpoint,
            args.out,
            args.out_json,
            codec=args.codec,
            fps=args.fps if args.fps is not None else 10.0,
            names=OPTION_NAMES,
        )
        with warnings.catch_warnings():
            # said once, at the end, with the summary
            warnings.simplefilter('ignore', TruncatedVideoWarning)
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
                fps=args.fps,
            )
    except KeyboardInterrupt as error:
        what = 'stopped by SIGTERM' if isinstance(error, _Terminated) else 'interrupted'
        if getattr(error, 'outputs_complete', False):
            done = f'as the run ended: {outputs} were written completely'
        else:
            done = f'nothing was written: {outputs} keep what they held before'
        print(f'{PROG}: {what}; {done}', file=sys.stderr)
        raise SystemExit(143 if isinstance(error, _Terminated) else 130) from None
    except (
        OSError,
        ValueError,
        MemoryError,
        CheckpointReadError,
        UntrustedCheckpointError,
    ) as error:
        # bad input, or a window that did not fit: the message names what and what to do
        print(f'{PROG}: error: {error}', file=sys.stderr)
        raise SystemExit(1) from error
    finally:
        signal.signal(signal.SIGTERM, previous_sigterm)
    if summary['window'] is None:
        window = 'whole video'
    else:
        window = f'windows of {summary["window"]}, overlap {summary["overlap"]}'
    if summary['window_reason']:
        window += f'; {summary["window_reason"]}'
    print(
        f'{summary["frames"]} frames ({window}), {len(summary["instances"])} instances -> '
        f'{summary["video"]}' + (f' and {summary["json"]}' if summary['json'] else '')
    )
    for message in summary['warnings']:
        print(f'{PROG}: WARNING: {message}', file=sys.stderr)
    return summary


if __name__ == '__main__':
    main()
