# Ablation for the supervision comparison: box projection loss only in both stages (no colour
# pairwise, no Temporal KNN-patch); boxes only, same data and schedules as the demo
# (maskfreevis_mobilenetv2_...).
_base_ = './maskfreevis_mobilenetv2_1xb4-200iter_realimagery.py'
# the last checkpoint of its image stage, where tools/train.py leaves it by default
load_from = (
    'work_dirs/maskfreevis-imagestage-projonly_mobilenetv2_1xb8-300iter_realimagery/iter_300.pth'
)
model = dict(
    track_head=dict(criterion=dict(loss_pair=dict(loss_weight=0.0), loss_tk=dict(loss_weight=0.0)))
)
