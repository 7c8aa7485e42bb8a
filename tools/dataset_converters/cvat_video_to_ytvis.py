"""CVAT "for video 1.1" XML exports (one task each) -> box-only YouTube-VIS json.

``python tools/dataset_converters/cvat_video_to_ytvis.py exports/*/annotations.xml
-o exports/train.json``

Each XML is one video; its frames are the ``images/`` folder next to it (an export "with
images"), else ``images/frame_{frame:06d}.png``. Frame file names are written relative to
``--data-root`` (default: the folder holding the exports' folders). Track semantics (outside,
keyframes, rotation) are described in ``maskfreevis/datasets/converters/cvat_video.py``.
"""

import argparse
import os.path as osp
import sys

from maskfreevis.datasets.converters.command_line import add_image_size_argument, run_conversion
from maskfreevis.datasets.converters.cvat_video import DEFAULT_FRAME_PATTERN, convert_cvat_video


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('xml', nargs='+', help='annotations.xml of each exported task')
    parser.add_argument('-o', '--output', required=True, help='box-only json to write')
    parser.add_argument('--data-root', help='folder the frame file names are relative to')
    parser.add_argument(
        '--classes', nargs='+', help='labels to keep, in this order (default: every label)'
    )
    parser.add_argument(
        '--drop-occluded', action='store_true', help='leave out boxes flagged occluded'
    )
    parser.add_argument(
        '--frame-pattern',
        default=DEFAULT_FRAME_PATTERN,
        help='frame file names (relative to the XML folder) when there is no '
        'images/ folder; {frame} is the absolute frame number '
        f'(default: {DEFAULT_FRAME_PATTERN})',
    )
    add_image_size_argument(parser)
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    data_root = args.data_root or osp.commonpath(
        [osp.dirname(osp.dirname(osp.abspath(path))) for path in args.xml]
    )

    def convert(skips):
        return convert_cvat_video(
            args.xml,
            data_root,
            classes=args.classes,
            drop_occluded=args.drop_occluded,
            image_size=args.image_size,
            frame_pattern=args.frame_pattern,
            skips=skips,
        )

    return run_conversion(convert, args.output, 'cvat_video_to_ytvis')


if __name__ == '__main__':
    sys.exit(main())
