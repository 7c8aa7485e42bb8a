# (a) MaskFreeVIS without any mask: R50 initialised from a COCO *box*-supervised Mask2Former,
# video boxes only, 5-frame cyclic TK tube (the data's default clips), 8 GPUs x 2 clips, 6k
# iterations (released on YouTube-VIS 2019: 42.5 AP). Recipes hold everything but the data;
# configs/maskfreevis/*.py put a recipe on a dataset of ../datasets/.
_base_ = [
    '../models/maskfreevis_r50.py',
    '../models/init_weights.py',
    '../schedules/schedule_6k.py',
    '../default_runtime.py',
]
model = dict(init_cfg=_base_.coco_box_init_r50)
