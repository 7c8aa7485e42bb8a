# Stage 2 of the demo's two-stage recipe: the video model - 3-frame clips (the data's default),
# box projection + colour pairwise + Temporal KNN-patch (ramped in over 100 iterations, set in the
# model base) - 200 iterations, meant to start from the stage-1 checkpoint
# (./maskfreevis-imagestage_mobilenetv2_1xb8-300iter.py).
_base_ = [
    '../models/maskfreevis_mobilenetv2_small.py',
    '../schedules/schedule_200iter_video_stage.py',
    '../demo_runtime.py',
]
