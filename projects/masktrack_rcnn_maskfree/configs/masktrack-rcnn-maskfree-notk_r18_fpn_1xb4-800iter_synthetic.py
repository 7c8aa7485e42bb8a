# The same MaskTrack R-CNN without the temporal term (projection + pairwise only), for the
# with / without TK comparison of the README.
_base_ = './masktrack-rcnn-maskfree_r18_fpn_1xb4-800iter_synthetic.py'
model = dict(loss_tk=dict(loss_weight=0.0))
