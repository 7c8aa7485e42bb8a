# MaskFreeVIS, R50: the Mask2Former-VIS architecture of ./mask2former-vis_r50.py trained from
# boxes by `MaskFreeCriterion` (box projection + colour pairwise + Temporal KNN-patch losses,
# box-mask matching); clips whose ground truth carries masks get the stock mask losses and
# matching. T is read from every batch, never fixed in a config.
_base_ = './mask2former-vis_r50.py'

stock_head = _base_.model.track_head
model = dict(
    type='MaskFreeVIS',
    data_preprocessor=dict(
        _delete_=True,
        type='MaskFreeDataPreprocessor',  # pads GT masks per clip itself
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        bgr_to_rgb=True,
        pad_size_divisor=32,
        mask_stride=4,
    ),
    track_head=dict(
        _delete_=True,
        type='MaskFreeTrackHead',
        **_base_.mask2former_vis_head,
        criterion=dict(
            type='MaskFreeCriterion',
            # class_weight [1.0] * num_classes + [0.1] is set by the head
            loss_cls=dict(
                type='CrossEntropyLoss', use_sigmoid=False, loss_weight=2.0, reduction='mean'
            ),
            # released weights: projection 5.0, pairwise 5.0, temporal 5.0 x 0.1
            loss_proj=dict(type='BoxProjectionLoss', loss_weight=5.0),
            loss_pair=dict(
                type='PairwiseColourLoss', kernel_size=3, dilation=2, threshold=0.3, loss_weight=5.0
            ),
            loss_tk=dict(
                type='TemporalKNNPatchLoss',
                patch_size=3,
                grid_size=3,  # 3x3 candidates at dilation 3 (the paper's "R = 5")
                dilation=3,
                topk=5,
                threshold=0.05,
                pairing='cyclic',
                loss_weight=0.5,
            ),
            # clips whose ground truth carries masks: the stock point-sampled BCE + Dice
            loss_mask=stock_head.loss_mask,
            loss_dice=stock_head.loss_dice,
            warmup_iters=dict(loss_tk=200),  # the release's 2000 loss calls = ~200 iterations
            # box-supervised clips: class + box-mask dice over the clip, no BCE (released)
            assigner=dict(
                type='HungarianAssigner',
                match_costs=[
                    dict(type='ClassificationCost', weight=2.0),
                    dict(type='BoxMaskDiceCost', weight=5.0),
                ],
            ),
            # mask-labelled clips (COCO pseudo-videos): the stock Mask2Former-VIS costs
            mask_assigner=stock_head.train_cfg.assigner,
            num_points=20000,  # mask-labelled clips: released TRAIN_NUM_POINTS
            oversample_ratio=3.0,
            importance_sample_ratio=0.75,
        ),
    ),
)
del stock_head
