"""BDD100K / Scalabel box-tracking json -> box-only YouTube-VIS json.

``python tools/dataset_converters/scalabel_to_ytvis.py bdd100k/labels/box_track_20/train
-o bdd100k/annotations/box_track_train.json --bdd100k``

Inputs are json files or folders of them (one file per video, or Scalabel ``{"frames": ...}``
files). Frame file names are ``videoName/name``, relative to the frame folder (for BDD100K
``bdd100k/images/track/train``). Choices (corner convention, categories, crowd) are described in
``maskfreevis/datasets/converters/scalabel.py``.
"""

import argparse
import sys

from maskfreevis.datasets.converters.command_line import add_image_size_argument, run_conversion
from maskfreevis.datasets.converters.scalabel import (
    BDD100K_BOX_TRACK_CLASSES,
    BDD100K_IGNORED_CLASSES,
    convert_scalabel,
)


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('inputs', nargs='+', help='json files or folders of json files')
    parser.add_argument('-o', '--output', required=True, help='box-only json to write')
    parser.add_argument(
        '--classes',
        nargs='+',
        help='categories to keep, in this order (default: the config categories, '
        'else every category met)',
    )
    parser.add_argument(
        '--ignore-classes', nargs='+', default=[], help='categories whose labels are dropped'
    )
    parser.add_argument(
        '--bdd100k',
        action='store_true',
        help='BDD100K box tracking: --classes '
        f'{" ".join(BDD100K_BOX_TRACK_CLASSES)} --ignore-classes '
        f'{" ".join(map(repr, BDD100K_IGNORED_CLASSES))}',
    )
    parser.add_argument(
        '--exclusive-corners',
        action='store_true',
        help="box2d x2/y2 are exclusive (w = x2 - x1); Scalabel's default is "
        'inclusive (w = x2 - x1 + 1)',
    )
    parser.add_argument(
        '--image-root', help='frame folder, to read a frame size the json does not give'
    )
    add_image_size_argument(parser)
    args = parser.parse_args(argv)
    if args.bdd100k:
        if args.classes or args.ignore_classes:
            parser.error('--bdd100k sets --classes and --ignore-classes; give one or the other')
        args.classes = list(BDD100K_BOX_TRACK_CLASSES)
        args.ignore_classes = list(BDD100K_IGNORED_CLASSES)
    return args


def main(argv=None) -> int:
    args = parse_args(argv)

    def convert(skips):
        return convert_scalabel(
            args.inputs,
            classes=args.classes,
            ignore_classes=args.ignore_classes,
            inclusive_corners=not args.exclusive_corners,
            image_size=args.image_size,
            image_root=args.image_root,
            skips=skips,
        )

    return run_conversion(convert, args.output, 'scalabel_to_ytvis')


if __name__ == '__main__':
    sys.exit(main())
