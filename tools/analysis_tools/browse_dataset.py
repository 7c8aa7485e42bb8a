"""Draw sampled training clips of a dataset, after the training pipeline, with their ground-truth
boxes, instance ids and classes, so annotations can be checked before training.

``python tools/analysis_tools/browse_dataset.py CONFIG --out-dir DIR [--num-clips 8] [--seed 0]
[--output images|mp4] [--split train] [--cfg-options train_dataloader.dataset.ann_file=...]``
"""

import argparse
import math
import os
import os.path as osp
import tempfile
from typing import Optional, Sequence

import numpy as np
from mmengine.config import DictAction
from mmengine.runner import set_random_seed

from maskfreevis.apis.config_loading import read_config
from maskfreevis.visualization.dataset_browsing import browse_dataset, build_dataset_from_config
from maskfreevis.visualization.video_file import VideoFileWriter

# numpy's legacy seeding, which set_random_seed uses, takes seeds in [0, 2**32 - 1]
MAX_SEED = 2**32 - 1


def positive_int(text: str) -> int:
    """An argparse type: an integer >= 1."""
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f'must be a positive integer, got {text}')
    return value


def positive_float(text: str) -> float:
    """An argparse type: a finite number > 0."""
    value = float(text)
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f'must be a positive number, got {text}')
    return value


def seed_value(text: str) -> int:
    """An argparse type: a seed numpy takes, 0 to 2**32 - 1."""
    value = int(text)
    if not 0 <= value <= MAX_SEED:
        raise argparse.ArgumentTypeError(f'must lie in 0..{MAX_SEED}, got {text}')
    return value


def check_out_dir(parser: argparse.ArgumentParser, out_dir: str) -> None:
    """Refuse an ``--out-dir`` that is a file or cannot be created or written, before the
    dataset loads."""
    if osp.exists(out_dir) and not osp.isdir(out_dir):
        parser.error(f'--out-dir {out_dir} is a file, not a folder; give a folder for the drawings')
    existing = osp.abspath(out_dir)
    while not osp.exists(existing):
        existing = osp.dirname(existing)
    if not osp.isdir(existing):
        parser.error(f'--out-dir {out_dir}: cannot create it, {existing} is a file, not a folder')
    if not os.access(existing, os.W_OK | os.X_OK):
        parser.error(f'--out-dir {out_dir}: cannot write into {existing} (permission denied)')


def check_mp4_frame_rate(parser: argparse.ArgumentParser, fps: float) -> None:
    """Refuse an ``--fps`` the MP4 encoder cannot write, by encoding one frame at that rate
    (MPEG-4 takes rates of about 0.01 to 65535 fps), before any clip is drawn."""
    with tempfile.TemporaryDirectory(prefix='browse_dataset_') as folder:
        try:
            with VideoFileWriter(osp.join(folder, 'probe.mp4'), fps) as writer:
                writer.write(np.zeros((16, 16, 3), np.uint8))
        except (OSError, ValueError):
            parser.error(
                f'--fps {fps:g}: the MP4 encoder (OpenCV, codec mp4v) cannot write a video at '
                'this frame rate; MPEG-4 takes about 0.01 to 65535 frames per second, e.g. --fps 2'
            )


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Browse a video dataset as training sees it')
    parser.add_argument('config', help='config whose <split>_dataloader.dataset is drawn')
    parser.add_argument('--out-dir', required=True, help='folder for the images / the MP4')
    parser.add_argument('--split', default='train', choices=['train', 'val', 'test'])
    parser.add_argument('--num-clips', type=positive_int, default=8, help='clips to draw')
    parser.add_argument(
        '--seed',
        type=seed_value,
        default=0,
        help=f'seed of the video choice and of the pipeline (0..{MAX_SEED})',
    )
    parser.add_argument(
        '--indices', type=int, nargs='+', help='draw these video indices instead of random ones'
    )
    parser.add_argument('--output', default='images', choices=['images', 'mp4'])
    parser.add_argument(
        '--upscale', type=positive_int, default=2, help='frame magnification (1, 2, ...)'
    )
    parser.add_argument(
        '--fps', type=positive_float, default=2.0, help='frames per second of the MP4'
    )
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override settings of the config, key=value pairs (e.g. the dataset ann_file)',
    )
    args = parser.parse_args(argv)
    check_out_dir(parser, args.out_dir)
    if args.output == 'mp4':
        check_mp4_frame_rate(parser, args.fps)
    return args


def main(argv: Optional[Sequence[str]] = None) -> None:
    args = parse_args(argv)
    cfg = read_config(args.config, args.cfg_options)
    dataset = build_dataset_from_config(cfg, args.split)
    set_random_seed(args.seed)  # the same clips, frames and augmentations on every run
    written = browse_dataset(
        dataset,
        args.out_dir,
        num_clips=args.num_clips,
        seed=args.seed,
        output=args.output,
        upscale=args.upscale,
        fps=args.fps,
        indices=args.indices,
    )
    print(f'{len(written)} file(s) written to {args.out_dir}:')
    for path in written:
        print(f'  {path}')


if __name__ == '__main__':
    main()
