# MaskFreeVIS model fragment: turns mmdet's Mask2Former-VIS (R50) into the box-supervised model.
# Used as `model = _base_.maskfreevis_model` by configs whose chain ends in mmdet's
# Mask2Former-VIS config (mmengine forbids a sibling base that also defines `model`); the
# backbone, pixel decoder, decoder, queries and class count stay those of that chain.

maskfreevis_model = dict(
    type='MaskFreeVIS',
    # the head pads GT masks itself: mmdet's padding looks at the first clip only and fails on
    # a batch mixing mask-labelled and box-only clips
    data_preprocessor=dict(pad_mask=False),
    track_head=dict(
        type='MaskFreeTrackHead',
        num_frames=None,  # T is read from every batch, never fixed in a config
        # released weights: projection 5.0, pairwise 5.0, temporal 5.0 x 0.1
        loss_proj=dict(type='BoxProjectionLoss', loss_weight=5.0),
        loss_pair=dict(
            type='PairwiseColorLoss',
            kernel_size=3,
            dilation=2,
            threshold=0.3,
            loss_weight=5.0),
        loss_tk=dict(
            type='TemporalKNNPatchLoss',
            patch_size=3,
            grid_size=3,  # 3x3 candidates at dilation 3 (the paper's "R = 5")
            dilation=3,
            topk=5,
            threshold=0.05,
            pairing='cyclic',
            warmup_iters=200,  # the release's 2000 loss calls = ~200 iterations
            loss_weight=0.5),
        train_cfg=dict(
            num_points=20000,  # mask-labelled clips: released TRAIN_NUM_POINTS
            oversample_ratio=3.0,
            importance_sample_ratio=0.75,
            # box-supervised clips: class + box-mask dice over the clip, no BCE (released)
            assigner=dict(
                type='HungarianAssigner',
                match_costs=[
                    dict(type='ClassificationCost', weight=2.0),
                    dict(type='BoxMaskDiceCost', weight=5.0)
                ]),
            # mask-labelled clips (COCO pseudo-videos): stock Mask2Former-VIS costs
            mask_assigner=dict(
                type='HungarianAssigner',
                match_costs=[
                    dict(type='ClassificationCost', weight=2.0),
                    dict(type='CrossEntropyLossCost', weight=5.0, use_sigmoid=True),
                    dict(type='DiceCost', weight=5.0, pred_act=True, eps=1.0)
                ]),
            sampler=dict(type='MaskPseudoSampler'))))
