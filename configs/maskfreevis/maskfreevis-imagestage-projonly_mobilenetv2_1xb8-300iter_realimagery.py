# Image stage of the supervision comparison's projection-only variant: the demo's image stage
# (maskfreevis-imagestage_mobilenetv2_...) without the colour pairwise term (box projection alone,
# BoxInst's projection term).
_base_ = './maskfreevis-imagestage_mobilenetv2_1xb8-300iter_realimagery.py'
model = dict(track_head=dict(criterion=dict(loss_pair=dict(loss_weight=0.0))))
