# MaskTrack R-CNN (mmdet's MaskTrackRCNN, RoI embedding tracker) trained from boxes on the
# generated demo videos, the counterpart of configs/maskfreevis/maskfreevis_r18_1xb4-800iter_
# synthetic.py: ResNet-18 from scratch, 128-channel FPN, 64 x 96 input, clips of one key and one
# reference frame (+-5 frames), 4 clips per batch, 800 iterations on one CPU process.
# Mask branch: box projection on the RoI + colour pairwise and TK on the RoI logits pasted onto
# the frame's mask grid (stride 1, see below). Loss weights: the demo's (projection 5.0,
# pairwise 1.25, TK 0.5) divided by 5, so the projection has Mask R-CNN's mask-loss weight 1.0.
# Run from the repository root: PYTHONPATH=. python tools/train.py <this config>
_base_ = [
    'mmdet::_base_/models/mask-rcnn_r50_fpn.py',
    '../../../configs/_base_/datasets/synthetic_vis.py',
    '../../../configs/_base_/schedules/schedule_800iter_from_scratch.py',
    '../../../configs/_base_/default_runtime.py',
]
custom_imports = dict(
    imports=['maskfreevis', 'projects.masktrack_rcnn_maskfree.masktrack_rcnn_maskfree'],
    allow_failed_imports=False,
)

num_classes = 4
channels = 128
# The colour terms see the RoI masks pasted onto the frame's mask grid. At stride 4 (the Mask2Former
# demo's 16 x 24 cells) an object spans ~4 x 5 cells and the terms barely constrain the 28 x 28 RoI
# mask: it converged to a line along two box edges (projection met, AP 0.000 at 400 iterations).
# Stride 1 (64 x 96) gives a 64 x 96-pixel frame the resolution stride 4 gives a 256 x 384 one.
mask_stride = 1
detector = _base_.model
detector.pop('data_preprocessor')
detector.update(
    dict(
        # from scratch, as the demo: BN learns and updates its statistics, nothing is frozen
        backbone=dict(depth=18, frozen_stages=-1, norm_eval=False, init_cfg=None),
        neck=dict(in_channels=[64, 128, 256, 512], out_channels=channels),
        # objects of the demo are 8-50 pixels: anchors 16 (stride 4) to 256 (stride 64)
        rpn_head=dict(
            in_channels=channels, feat_channels=channels, anchor_generator=dict(scales=[4])
        ),
        roi_head=dict(
            type='MaskFreeRoIHead',
            mask_stride=mask_stride,
            loss_proj=dict(type='BoxProjectionLoss', loss_weight=1.0),
            loss_pair=dict(
                type='PairwiseColourLoss',
                kernel_size=3,
                dilation=2,
                threshold=0.3,
                loss_weight=0.25,
            ),
            bbox_roi_extractor=dict(out_channels=channels),
            bbox_head=dict(in_channels=channels, fc_out_channels=256, num_classes=num_classes),
            mask_roi_extractor=dict(out_channels=channels),
            # bilinear 14 -> 28 instead of the stride-2 deconvolution: the projection loss only
            # asks every row and column of the RoI mask to reach the box, which a deconvolution
            # meets with a checkerboard (its 4 output phases have separate weights; measured:
            # alternate cells ~1 and ~0 after 400 iterations, mask AP 0.000), and the colour
            # terms on the coarser frame grid cannot see one
            mask_head=dict(
                in_channels=channels,
                conv_out_channels=channels,
                num_classes=num_classes,
                upsample_cfg=dict(type='bilinear', scale_factor=2),
            ),
        ),
    )
)
detector.train_cfg.rpn.sampler.update(dict(num=64))
detector.train_cfg.rpn_proposal.update(dict(nms_pre=200, max_per_img=200))
detector.train_cfg.rcnn.sampler.update(dict(num=64))
detector.test_cfg.rpn.update(dict(nms_pre=200, max_per_img=200))
detector.test_cfg.rcnn.update(dict(score_thr=0.01, max_per_img=20))
# 2 x 2 samples per output cell instead of the adaptive count: the same RoIs at ~0.7x the CPU
# time of a training step (mmcv's CPU RoIAlign dominates it)
for extractor in (detector.roi_head.bbox_roi_extractor, detector.roi_head.mask_roi_extractor):
    extractor.roi_layer.sampling_ratio = 2
del extractor

model = dict(
    _delete_=True,
    type='MaskFreeMaskTrackRCNN',
    data_preprocessor=dict(
        type='MaskFreeDataPreprocessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        bgr_to_rgb=True,
        pad_size_divisor=32,
        mask_stride=mask_stride,
    ),
    detector=detector,
    track_head=dict(
        type='RoITrackHead',
        roi_extractor=dict(
            type='SingleRoIExtractor',
            roi_layer=dict(type='RoIAlign', output_size=7, sampling_ratio=2),
            out_channels=channels,
            featmap_strides=[4, 8, 16, 32],
        ),
        embed_head=dict(
            type='RoIEmbedHead',
            num_fcs=2,
            roi_feat_size=7,
            in_channels=channels,
            fc_out_channels=256,
        ),
        train_cfg=dict(
            assigner=dict(
                type='MaxIoUAssigner',
                pos_iou_thr=0.5,
                neg_iou_thr=0.5,
                min_pos_iou=0.5,
                match_low_quality=True,
                ignore_iof_thr=-1,
            ),
            sampler=dict(
                type='RandomSampler',
                num=64,
                pos_fraction=0.25,
                neg_pos_ub=-1,
                add_gt_as_proposals=True,
            ),
            pos_weight=-1,
            debug=False,
        ),
    ),
    tracker=dict(
        type='MaskTrackRCNNTracker',
        match_weights=dict(det_score=1.0, iou=2.0, det_label=10.0),
        num_frames_retain=20,
    ),
    loss_tk=dict(
        type='TemporalKNNPatchLoss',
        patch_size=3,
        grid_size=3,
        dilation=3,
        topk=5,
        threshold=0.05,
        pairing='all',
        loss_weight=0.1,
    ),
    tk_warmup_iters=100,  # the demo's
)
del detector

# one key and one reference frame within +-5 frames (MaskTrack R-CNN's clip)
train_pipeline = [
    dict(type='UniformRefFrameSample', num_ref_imgs=1, frame_range=5, filter_key_img=True),
    _base_.box_clip_transforms,
    dict(type='PackTrackInputs'),
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))

# mmdet's MaskTrack R-CNN optimiser settings' gradient clip; the demo's AdamW schedule otherwise
optim_wrapper = dict(clip_grad=dict(max_norm=35, norm_type=2))
default_hooks = dict(logger=dict(interval=10), checkpoint=dict(interval=100, max_keep_ckpts=1))
log_processor = dict(window_size=10)
randomness = dict(seed=0)
