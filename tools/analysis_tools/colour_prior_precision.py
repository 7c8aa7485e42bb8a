"""Do MaskFreeVIS's colour priors hold on a dataset? Measure them against its GT masks.

How many of the pixel pairs the pairwise and TK losses keep are right (both pixels in the mask or
both out), over a YouTube-VIS json **with masks**, with the config's loss knobs, test resize and
mask stride and colours (``model.data_preprocessor.colour_space``); see
:mod:`maskfreevis_demo.analysis.colour_prior_precision`.

Example (the demo's generated validation split, which carries masks)::

    python tools/analysis_tools/colour_prior_precision.py \
        --ann-file data/synthetic_vis/annotations/val.json \
        --img-dir data/synthetic_vis/val/JPEGImages
"""

import argparse
import json
import os.path as osp
from typing import Optional, Sequence

from mmengine.config import Config, DictAction

from maskfreevis.apis.cli import format_command
from maskfreevis_demo.analysis.colour_prior_precision import (
    colour_space_of,
    find_resize_scale,
    loss_knobs,
    mask_stride_of,
    measure,
    to_markdown,
)

DEFAULT_CONFIG = osp.join(
    osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))),
    'configs',
    'maskfreevis',
    'maskfreevis_r18_1xb4-800iter_synthetic.py',
)


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--ann-file', required=True, help='YouTube-VIS json with segmentations')
    parser.add_argument('--img-dir', required=True, help='folder the file_names are relative to')
    parser.add_argument(
        '--config',
        default=DEFAULT_CONFIG,
        help='config whose loss knobs, mask stride, colours and test Resize scale are used',
    )
    parser.add_argument(
        '--scale',
        type=int,
        nargs=2,
        default=None,
        metavar=('W', 'H'),
        help="resize scale (default: the config's test Resize)",
    )
    parser.add_argument('--max-videos', type=int, default=None)
    parser.add_argument('--out', default=None, help='also write the result as json here')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        default={},
        help='config overrides, e.g. model.track_head.criterion.loss_pair.dilation=1 or '
        'model.data_preprocessor.colour_space=release',
    )
    return parser.parse_args(argv)


def main(argv: Optional[Sequence[str]] = None) -> dict:
    args = parse_args(argv)
    config = Config.fromfile(args.config)
    if args.cfg_options:
        config.merge_from_dict(args.cfg_options)
    scale = (
        tuple(args.scale)
        if args.scale
        else find_resize_scale(config.test_dataloader.dataset.pipeline)
    )
    stride = mask_stride_of(config)
    colour_space = colour_space_of(config)
    pair_knobs, tk_knobs = loss_knobs(config)
    result = measure(
        args.ann_file,
        args.img_dir,
        scale,
        pair_knobs,
        tk_knobs,
        args.max_videos,
        stride=stride,
        colour_space=colour_space,
    )
    command = format_command(__file__, argv)
    print(to_markdown(result, pair_knobs, tk_knobs, command))
    if args.out:
        with open(args.out, 'w') as handle:
            json.dump(
                dict(
                    result,
                    pair_knobs=pair_knobs,
                    tk_knobs=tk_knobs,
                    scale=scale,
                    mask_stride=stride,
                    colour_space=colour_space,
                    command=command,
                ),
                handle,
                indent=2,
            )
    return result


if __name__ == '__main__':
    main()
