# Ablation for the supervision comparison: box projection loss only (no colour pairwise, no
# Temporal KNN-patch loss) - BoxInst's projection term alone; boxes only, same data and schedule.
_base_ = './maskfreevis_r18_1xb4-800iter_synthetic.py'
model = dict(
    track_head=dict(criterion=dict(loss_pair=dict(loss_weight=0.0), loss_tk=dict(loss_weight=0.0)))
)
