# Ablation for the supervision comparison: the demo (maskfreevis_mobilenetv2_...) without the
# Temporal KNN-patch loss in its video stage (box projection + colour pairwise only); the same
# image stage.
_base_ = './maskfreevis_mobilenetv2_1xb4-200iter_realimagery.py'
model = dict(track_head=dict(criterion=dict(loss_tk=dict(loss_weight=0.0))))
