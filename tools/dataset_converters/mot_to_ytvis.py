"""MOTChallenge / CVAT "MOT 1.1" sequences -> box-only YouTube-VIS json.

``python tools/dataset_converters/mot_to_ytvis.py MOT17/train -o MOT17/annotations/train.json``

ROOT is a sequence folder (``gt/gt.txt`` + ``seqinfo.ini`` or ``img1/``) or a folder of them.
Frame file names are written relative to ``--data-root`` (default: ROOT, or its parent when ROOT
is itself a sequence), which is then the dataset's ``data_prefix.img_path``. What is kept (flag,
classes, visibility) is described in ``maskfreevis/datasets/converters/mot.py``.
"""

import argparse
import fnmatch
import os.path as osp
import sys

from maskfreevis.datasets.annotation_checks import AnnotationError
from maskfreevis.datasets.converters.command_line import add_image_size_argument, run_conversion
from maskfreevis.datasets.converters.mot import convert_mot, find_mot_sequences


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('root', help='a sequence folder or a folder of sequence folders')
    parser.add_argument('-o', '--output', required=True, help='box-only json to write')
    parser.add_argument('--data-root', help='folder the frame file names are relative to')
    parser.add_argument(
        '--sequences',
        default='*',
        help="glob on sequence folder names, e.g. '*-FRCNN' to take each MOT17 "
        'sequence once (default: all)',
    )
    parser.add_argument(
        '--classes',
        nargs='+',
        help='categories to keep (MOTChallenge class names such as pedestrian '
        'static_person, or CVAT labels); default: pedestrian for '
        'MOTChallenge ids, every label for CVAT exports',
    )
    parser.add_argument(
        '--min-visibility',
        type=float,
        default=0.0,
        help='drop boxes with a lower visibility column (default 0: keep all)',
    )
    add_image_size_argument(parser)
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)

    def convert(skips):
        sequences = find_mot_sequences(args.root)
        chosen = [
            path
            for path in sequences
            if fnmatch.fnmatch(osp.basename(osp.normpath(path)), args.sequences)
        ]
        if not chosen:
            raise AnnotationError(
                f'{args.root}: no sequence matches --sequences {args.sequences!r}'
            )
        default_root = (
            osp.dirname(osp.normpath(args.root)) if sequences == [args.root] else args.root
        )
        return convert_mot(
            chosen,
            args.data_root or default_root,
            classes=args.classes,
            min_visibility=args.min_visibility,
            image_size=args.image_size,
            skips=skips,
        )

    return run_conversion(convert, args.output, 'mot_to_ytvis')


if __name__ == '__main__':
    sys.exit(main())
