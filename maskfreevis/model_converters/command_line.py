"""The command line shared by ``tools/model_converters/*_to_maskfreevis.py``.

``python tools/model_converters/<source>_to_maskfreevis.py CONFIG SOURCE OUTPUT [options]`` reads
SOURCE, converts it for the model CONFIG describes, prints what it did and writes OUTPUT
(``{'state_dict', 'meta'}``, loadable with torch's safe loader) - or prints every key that does
not fit and writes nothing (exit status 1).
"""

import argparse
import os.path as osp
import sys
from typing import Callable, Mapping, Optional, Sequence, Tuple

from mmengine.config import DictAction
from torch import Tensor

from maskfreevis.utils import UntrustedCheckpointError

from .checkpoint_files import CheckpointFormatError, load_state_dict_file, save_converted_checkpoint
from .class_tables import CLASS_LIST_NAMES, CLASS_TABLE_NAMES
from .conversion import ClassHeadOptions, convert_state_dict
from .key_rules import RenameResult
from .state_dict_check import StateDictMismatchError
from .target_model import target_from_config_file

__all__ = ['build_parser', 'run_conversion', 'run_command_line']


def build_parser(
    description: str, default_drops: Sequence[str], default_channel_order: str
) -> argparse.ArgumentParser:
    """The arguments of a converter tool.

    Args:
        description: first line of the tool's help.
        default_drops: source keys dropped unless ``--no-default-drops`` is given.
        default_channel_order: the colour order the source format's models were trained on.
    """
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument('config', help='config of the model the weights are for')
    parser.add_argument('source', help='checkpoint to convert (.pkl or .pth)')
    parser.add_argument('output', help='converted checkpoint to write (.pth)')
    parser.add_argument(
        '--drop',
        nargs='+',
        default=[],
        metavar='PATTERN',
        help='also drop source keys matching these shell-style patterns (e.g. "criterion.*"); '
        f'dropped by default: {", ".join(default_drops) or "nothing"}',
    )
    parser.add_argument(
        '--no-default-drops',
        dest='default_drops',
        action='store_const',
        const=(),
        default=tuple(default_drops),
        help='drop only what --drop names',
    )
    parser.add_argument(
        '--source-channel-order',
        choices=('RGB', 'BGR'),
        default=default_channel_order,
        help='colour order the source model was trained on (default: %(default)s); the first '
        'convolution is flipped when the config feeds the other order',
    )
    parser.add_argument(
        '--target-classes',
        metavar='LIST',
        help=f'map class-head rows onto these classes: one of {", ".join(CLASS_LIST_NAMES)} or a '
        'json file with "categories" (e.g. the training json of the target dataset)',
    )
    parser.add_argument(
        '--source-classes',
        metavar='LIST',
        help='classes of the source head (default: coco for 81 rows, coco-panoptic for 134)',
    )
    parser.add_argument(
        '--class-table',
        metavar='TABLE',
        help=f'source->target class table: one of {", ".join(CLASS_TABLE_NAMES)} or a json '
        'object file (default: the release table for COCO -> YouTube-VIS, else equal names)',
    )
    parser.add_argument(
        '--reinit-class-head',
        action='store_true',
        help='re-initialise the class rows even when the class counts agree',
    )
    parser.add_argument('--seed', type=int, default=0, help='seed of re-initialised rows')
    parser.add_argument(
        '--trust-checkpoint',
        action='store_true',
        help="allow a full (code-executing) unpickle of a .pth that torch's safe "
        'loader rejects; only for a file you trust',
    )
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override settings of the config, key=value pairs',
    )
    return parser


def run_conversion(
    args: argparse.Namespace,
    rename: Callable[[Mapping[str, Tensor]], RenameResult],
    source_format: str,
    source_normalisation: Optional[Tuple[Sequence[float], Sequence[float]]] = None,
    stdout=None,
    stderr=None,
) -> int:
    """Convert ``args.source`` for ``args.config``; print the report; write ``args.output``.

    Args:
        args: parsed by :func:`build_parser`.
        rename: the source format's converter.
        source_format: ``'detectron2'`` or ``'mmdet'``, stored in the output's meta.
        source_normalisation: ``(mean, std)`` the source models are trained with, if known.
        stdout, stderr: streams for the report and the errors (default: ``sys.stdout/stderr``).

    Returns:
        0 on success, 1 when the weights do not fit (nothing is written then).
    """
    stdout = stdout or sys.stdout
    stderr = stderr or sys.stderr
    class_head = ClassHeadOptions(
        target_classes=args.target_classes,
        source_classes=args.source_classes,
        class_table=args.class_table,
        reinitialise=args.reinit_class_head,
        seed=args.seed,
    )
    try:
        weights = load_state_dict_file(args.source, trust=args.trust_checkpoint)
        target = target_from_config_file(args.config, args.cfg_options)
        result = convert_state_dict(
            weights,
            rename,
            target,
            args.source,
            drop_patterns=list(args.default_drops) + list(args.drop),
            source_channel_order=args.source_channel_order,
            class_head=class_head,
            source_normalisation=source_normalisation,
        )
    except UntrustedCheckpointError as error:
        print(f'{error}\nWith this tool: --trust-checkpoint.', file=stderr)
        return 1
    except (StateDictMismatchError, CheckpointFormatError, FileNotFoundError, ValueError) as error:
        print(str(error), file=stderr)
        return 1
    for line in result.report:
        print(line, file=stdout)
    meta = dict(
        converted_from=osp.basename(args.source),
        source_format=source_format,
        config=osp.basename(args.config),
        dropped=result.dropped,
        report=result.report,
    )
    save_converted_checkpoint(result.state_dict, meta, args.output)
    print(
        f'{len(result.state_dict)} tensors, every key of the model present with its shape; '
        f'written to {args.output}',
        file=stdout,
    )
    return 0


def run_command_line(
    argv: Optional[Sequence[str]],
    description: str,
    rename: Callable[[Mapping[str, Tensor]], RenameResult],
    source_format: str,
    default_drops: Sequence[str] = (),
    default_channel_order: str = 'RGB',
    source_normalisation: Optional[Tuple[Sequence[float], Sequence[float]]] = None,
) -> int:
    """Parse ``argv`` (None: the command line) and run one conversion; returns the exit status."""
    parser = build_parser(description, default_drops, default_channel_order)
    return run_conversion(parser.parse_args(argv), rename, source_format, source_normalisation)
