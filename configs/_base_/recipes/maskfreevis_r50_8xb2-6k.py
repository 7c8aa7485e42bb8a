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
# The release's deliberate choices, so that a reproduction trains what the release trained (the
# demo and own-data configs keep the package's, see docs/en/advanced_guides/
# criterion_and_preprocessor.md): Lab of the channel-reversed, truncated colours it feeds
# rgb2lab, on which its thresholds were tuned; box masks filled at input resolution and resized
# bilinearly; box-mask dice matching on 20000 random points; zero padding in both colour terms
# (neighbours and candidates outside the image or on the batch padding are black, Lab 0).
model = dict(
    init_cfg=_base_.coco_box_init_r50,
    data_preprocessor=dict(colour_space='release'),
    track_head=dict(
        criterion=dict(
            box_mask='bilinear',
            loss_pair=dict(padding_mode='zeros'),
            loss_tk=dict(padding_mode='zeros'),
            assigner=dict(
                match_costs=[
                    dict(type='ClassificationCost', weight=2.0),
                    dict(type='BoxMaskDiceCost', weight=5.0, num_points=20000),
                ]
            ),
        )
    ),
)
