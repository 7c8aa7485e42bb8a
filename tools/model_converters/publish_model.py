"""Strip a training checkpoint to its weights and plain metadata, for publishing.

``python tools/model_converters/publish_model.py work_dirs/x/iter_6000.pth maskfreevis_r50.pth``
writes ``maskfreevis_r50-<sha256[:8]>.pth`` holding only ``state_dict`` and plain ``meta`` values
(no optimizer, no message hub), which loads with torch's safe ``weights_only`` loader anywhere.

The input is read with that safe loader too, so a crafted file cannot run code here. A checkpoint
that needs a full unpickle (written by plain mmengine or an older version of this package) is
refused unless ``--trust`` says you vouch for it; it is then unpickled with a warning naming it,
and the published copy no longer needs that trust.
"""

import argparse
import hashlib
import os
import os.path as osp
from typing import List, Optional

import torch

from maskfreevis.utils import load_checkpoint_file, trust_checkpoints

# Meta fields that are plain Python values (safe for weights_only loading).
PUBLISHED_META_KEYS = (
    'epoch',
    'iter',
    'mmengine_version',
    'time',
    'dataset_meta',
    'experiment_name',
)


def publish(in_file: str, out_file: str, trust: bool = False) -> str:
    """Write the weights-only copy of ``in_file``; returns the final path with the hash suffix.

    Args:
        in_file: the training checkpoint.
        out_file: the output path (``.pth``); the hash of the content is added to its name.
        trust: allow a full unpickle of ``in_file`` if the safe loader cannot read it.
    """
    with trust_checkpoints([in_file] if trust else []):
        checkpoint = load_checkpoint_file(in_file, 'cpu', in_file)
    state_dict = checkpoint.get('state_dict', checkpoint)
    meta = {
        key: checkpoint.get('meta', {}).get(key)
        for key in PUBLISHED_META_KEYS
        if key in checkpoint.get('meta', {})
    }
    partial = out_file + '.partial'
    torch.save({'state_dict': state_dict, 'meta': meta}, partial)
    with open(partial, 'rb') as handle:
        digest = hashlib.sha256(handle.read()).hexdigest()[:8]
    stem = out_file[: -len('.pth')] if out_file.endswith('.pth') else out_file
    final_file = f'{stem}-{digest}.pth'
    if osp.realpath(final_file) == osp.realpath(in_file):
        os.remove(partial)
        raise ValueError(f'{in_file} is already this published checkpoint')
    os.replace(partial, final_file)
    return final_file


def main(argv: Optional[List[str]] = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('in_file', help='training checkpoint')
    parser.add_argument('out_file', help='output path ending in .pth')
    parser.add_argument(
        '--trust',
        action='store_true',
        help='you vouch for IN: allow a full (code-executing) unpickle when the safe loader '
        'cannot read it (checkpoints of plain mmengine or older versions of this package)',
    )
    args = parser.parse_args(argv)
    if not osp.isfile(args.in_file):
        parser.error(f'{args.in_file} does not exist')
    print(publish(args.in_file, args.out_file, trust=args.trust))


if __name__ == '__main__':
    main()
