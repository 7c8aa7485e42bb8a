"""Convert an mmdet Mask2Former / Mask2FormerVideo checkpoint for this package's model.

``python tools/model_converters/mmdet_to_maskfreevis.py CONFIG SOURCE OUTPUT``

SOURCE: an mmdet 3.x checkpoint (COCO instance or panoptic ``mask2former_*_coco*.pth``, keys
``backbone.*`` / ``panoptic_head.*``; or a YouTube-VIS ``Mask2FormerVideo``, ``track_head.*``).
The class head is re-initialised when the class counts differ, or mapped onto the target classes
with ``--target-classes``. Example::

    # COCO instance Mask2Former R50 -> YouTube-VIS 2019 model, COCO rows of shared classes kept
    python tools/model_converters/mmdet_to_maskfreevis.py \\
        configs/maskfreevis/maskfreevis-cocomask_r50_8xb2-6k_youtubevis2019.py \\
        mask2former_r50_8xb2-lsj-50e_coco_20220506_191028-41b088b6.pth \\
        checkpoints/mask2former_r50_coco-to-youtubevis2019.pth --target-classes youtubevis2019
"""

import sys
from typing import Optional, Sequence

from maskfreevis.model_converters import convert_mmdet_state_dict
from maskfreevis.model_converters.command_line import run_command_line


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Run the conversion for ``argv`` (None: the command line); returns the exit status."""
    return run_command_line(argv, __doc__.splitlines()[0], convert_mmdet_state_dict, 'mmdet')


if __name__ == '__main__':
    sys.exit(main())
