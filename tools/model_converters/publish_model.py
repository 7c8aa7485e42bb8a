"""Strip a training checkpoint to its weights so it loads with torch's safe ``weights_only`` loader.

``python tools/model_converters/publish_model.py work_dirs/x/iter_6000.pth maskfreevis_r50.pth``
writes ``maskfreevis_r50-<sha256[:8]>.pth`` holding only ``state_dict`` and plain ``meta`` values
(no optimizer, no message hub), which anyone can load without trusting the file's pickle.
"""
import argparse
import hashlib
import os
import os.path as osp
import sys

import torch

sys.path.insert(0, osp.join(osp.dirname(osp.abspath(__file__)), '..', '..'))
from maskfreevis.utils import load_checkpoint_file, trust_checkpoints  # noqa: E402

# Meta fields that are plain Python values (safe for weights_only loading).
PUBLISHED_META_KEYS = ('epoch', 'iter', 'mmengine_version', 'time', 'dataset_meta', 'experiment_name')


def publish(in_file: str, out_file: str) -> str:
    """Write the weights-only copy of ``in_file``; returns the final path with the hash suffix."""
    with trust_checkpoints([in_file]):  # the user named this file: it is trusted by them
        checkpoint = load_checkpoint_file(in_file, 'cpu', in_file)
    state_dict = checkpoint.get('state_dict', checkpoint)
    meta = {key: checkpoint.get('meta', {}).get(key) for key in PUBLISHED_META_KEYS
            if key in checkpoint.get('meta', {})}
    torch.save({'state_dict': state_dict, 'meta': meta}, out_file)
    with open(out_file, 'rb') as handle:
        digest = hashlib.sha256(handle.read()).hexdigest()[:8]
    stem = out_file[:-len('.pth')] if out_file.endswith('.pth') else out_file
    final_file = f'{stem}-{digest}.pth'
    os.replace(out_file, final_file)
    return final_file


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('in_file', help='training checkpoint (trusted by you)')
    parser.add_argument('out_file', help='output path ending in .pth')
    args = parser.parse_args()
    print(publish(args.in_file, args.out_file))


if __name__ == '__main__':
    main()
