"""What the converter command lines in ``tools/dataset_converters/`` share: running a conversion,
reporting what was dropped, writing the json, and turning bad input into a one-line error."""

import argparse
import sys
from typing import Callable, Sequence, Tuple

from ..annotation_checks import SkipCounter
from .box_only_json import count_boxes, summarise, write_json

Conversion = Callable[[SkipCounter], Tuple[dict, Sequence[str]]]


def add_image_size_argument(parser: argparse.ArgumentParser) -> None:
    """``--image-size W H`` for inputs that do not record the frame size."""
    parser.add_argument(
        '--image-size',
        type=int,
        nargs=2,
        metavar=('W', 'H'),
        help='frame size when the annotations do not give it (default: read '
        'from the first frame image)',
    )


def run_conversion(convert: Conversion, output: str, name: str) -> int:
    """Run ``convert``, log the skip counts, write its json to ``output`` and print a summary.

    Args:
        convert: Takes a :class:`SkipCounter`, returns ``(json, input_files)``.
        output: The json to write (refused when it is one of the input files).
        name: The tool's name, for messages.

    Returns:
        The exit code: 0, or 1 after printing the error for bad input or a refused output.
    """
    skips = SkipCounter(name)
    try:
        data, input_files = convert(skips)
        if skips.counts and not count_boxes(data):
            dropped = '; '.join(f'{reason}: {count}' for reason, count in skips.counts.items())
            raise ValueError(
                f'every box of the input was dropped ({dropped}), so {output} would hold no '
                'box; nothing was written. Check the options that choose what is kept (e.g. '
                '--classes, --min-visibility) and the input layout.'
            )
        write_json(data, output, input_files)
    except (ValueError, OSError) as error:  # AnnotationError is a ValueError
        print(f'{name}: error: {error}', file=sys.stderr)
        return 1
    skips.log_summary()
    print(f'{output}: {summarise(data)}')
    if not count_boxes(data):
        print(f'{name}: warning: the input holds no box; {output} lists its videos only')
    return 0
