# Stage 1 of the demo's two-stage recipe (the release's: the mask-free losses are never trained
# from random weights): a box-supervised IMAGE model - single frames, box projection + colour
# pairwise, the pairwise term at the release's image weight (5.0 x 0.25, set in the model base)
# ramped in linearly over the whole stage (the release ramps it too, over 10k iterations), no
# temporal term. The colour term sharpens whatever mask it finds, and a box projection met by a
# thin cross does not hold the rest of the box: at full weight before projection has formed filled
# masks, it collapsed the masks of photo-textured objects; ramped over the whole stage, it still
# does on 2 of 4 seeds there (docs/en/demo.md).
# The small MaskFreeVIS on the ImageNet MobileNetV2, 300 iterations on one CPU process.
_base_ = [
    '../models/maskfreevis_mobilenetv2_small.py',
    '../schedules/schedule_300iter_image_stage.py',
    '../demo_runtime.py',
]
model = dict(
    track_head=dict(criterion=dict(loss_tk=dict(loss_weight=0.0), warmup_iters=dict(loss_pair=300)))
)
