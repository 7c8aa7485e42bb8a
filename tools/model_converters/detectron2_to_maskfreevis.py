"""Convert a detectron2 MaskFreeVIS / Mask2Former(-VIS) checkpoint for this package's model.

``python tools/model_converters/detectron2_to_maskfreevis.py CONFIG SOURCE OUTPUT``

SOURCE: a released detectron2 model (``model_final_*.pth``, ``model_final_*.pkl``,
``model_final_proj.pth``); CONFIG: the config of the model to load it into. Prints what was done
(dropped keys, class head, colour order) or every key that does not fit. Examples::

    # released MaskFreeVIS R50 (YouTube-VIS 2019, 40 classes): weights for tools/test.py
    python tools/model_converters/detectron2_to_maskfreevis.py \\
        configs/maskfreevis/maskfreevis_r50_8xb2-6k_youtubevis2019.py \\
        model_final_r50_0466.pth checkpoints/maskfreevis_r50_0466.pth
    # COCO box-supervised image model -> initialisation of the mask-free R50 recipe
    python tools/model_converters/detectron2_to_maskfreevis.py \\
        configs/maskfreevis/maskfreevis_r50_8xb2-6k_youtubevis2019.py \\
        model_final_proj.pth checkpoints/maskfreevis_r50_coco-box-init.pth
"""

import sys
from typing import Optional, Sequence

from maskfreevis.model_converters import convert_detectron2_state_dict
from maskfreevis.model_converters.command_line import run_command_line
from maskfreevis.model_converters.detectron2_maskfreevis import (
    DETECTRON2_CHANNEL_ORDER,
    DETECTRON2_NON_MODEL_KEYS,
    DETECTRON2_PIXEL_MEAN,
    DETECTRON2_PIXEL_STD,
)


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Run the conversion for ``argv`` (None: the command line); returns the exit status."""
    return run_command_line(
        argv,
        __doc__.splitlines()[0],
        convert_detectron2_state_dict,
        'detectron2',
        default_drops=DETECTRON2_NON_MODEL_KEYS,
        default_channel_order=DETECTRON2_CHANNEL_ORDER,
        source_normalisation=(DETECTRON2_PIXEL_MEAN, DETECTRON2_PIXEL_STD),
    )


if __name__ == '__main__':
    sys.exit(main())
