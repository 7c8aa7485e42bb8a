"""Draw sampled training clips of a dataset, after the training pipeline, with their ground-truth
boxes, instance ids and classes, so annotations can be checked before training.

``python tools/analysis_tools/browse_dataset.py CONFIG --out-dir DIR [--num-clips 8] [--seed 0]
[--output images|mp4] [--split train] [--cfg-options train_dataloader.dataset.ann_file=...]``
"""

import argparse
from typing import Optional, Sequence

from mmengine.config import DictAction
from mmengine.runner import set_random_seed

from maskfreevis.apis.config_loading import read_config
from maskfreevis.visualization.dataset_browsing import browse_dataset, build_dataset_from_config


def positive_int(text: str) -> int:
    """An argparse type: an integer >= 1."""
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f'must be a positive integer, got {text}')
    return value


def positive_float(text: str) -> float:
    """An argparse type: a number > 0."""
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f'must be a positive number, got {text}')
    return value


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Browse a video dataset as training sees it')
    parser.add_argument('config', help='config whose <split>_dataloader.dataset is drawn')
    parser.add_argument('--out-dir', required=True, help='folder for the images / the MP4')
    parser.add_argument('--split', default='train', choices=['train', 'val', 'test'])
    parser.add_argument('--num-clips', type=positive_int, default=8, help='clips to draw')
    parser.add_argument(
        '--seed', type=int, default=0, help='seed of the video choice and of the pipeline'
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
    return parser.parse_args(argv)


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
