# Ablation for the supervision comparison: MaskFreeVIS demo without the Temporal KNN-patch loss
# (box projection + colour pairwise only; boxes only, same data and schedule).
_base_ = './maskfreevis_r18_1xb4-800iter_synthetic.py'
model = dict(track_head=dict(criterion=dict(loss_tk=dict(loss_weight=0.0))))
