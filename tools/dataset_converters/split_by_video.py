"""Cut a training json into a local train / val split by whole videos (seeded).

``python tools/dataset_converters/split_by_video.py data/ytvis_2019/annotations/train.json
--val-ratio 0.1 --seed 0 --train-out local_train.json --val-out local_val.json``

YouTube-VIS / OVIS hide their val ground truth; a val split cut from train, masks kept, gives
local mask AP with ``YouTubeVISLocalMetric``. Train on the local train split after
``ytvis_to_box_only.py`` so that no mask reaches box-supervised training.
"""

import argparse
import os.path as osp
import sys

from maskfreevis.datasets.annotation_checks import load_annotation_json
from maskfreevis.datasets.converters.box_only_json import (
    check_output_path,
    summarise,
    write_json,
)
from maskfreevis.datasets.converters.video_split import categories_missing_from, split_by_video


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('input', help='YouTube-VIS / OVIS / CocoVID json')
    parser.add_argument('--train-out', required=True, help='json of the local train split')
    parser.add_argument('--val-out', required=True, help='json of the local val split')
    size = parser.add_mutually_exclusive_group(required=True)
    size.add_argument('--val-ratio', type=float, help='fraction of the videos for val, e.g. 0.1')
    size.add_argument('--val-count', type=int, help='number of videos for val')
    parser.add_argument('--seed', type=int, default=0, help='seed of the draw (default 0)')
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    try:
        check_output_path(args.train_out, [args.input])
        check_output_path(args.val_out, [args.input])
        if osp.realpath(args.train_out) == osp.realpath(args.val_out):
            raise ValueError(
                f'--train-out and --val-out are one file ({args.val_out}); give two paths'
            )
        data = load_annotation_json(args.input)
        train, val = split_by_video(
            data,
            val_ratio=args.val_ratio,
            val_count=args.val_count,
            seed=args.seed,
            source=args.input,
        )
        write_json(train, args.train_out, [args.input])
        write_json(val, args.val_out, [args.input])
    except (ValueError, OSError) as error:  # AnnotationError and json errors are ValueErrors
        print(f'split_by_video: error: {error}', file=sys.stderr)
        return 1
    for name, split, path in (('train', train, args.train_out), ('val', val, args.val_out)):
        print(f'{name}: {path}: {summarise(split)}')
    missing = categories_missing_from(val)
    if missing:
        print(f'warning: {len(missing)} categories have no val annotation: {missing}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
