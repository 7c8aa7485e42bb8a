# ResNet-101 in place of the ResNet-50 of a Mask2Former-VIS model:
# `model = dict(_base_.resnet101_model, ...)`.
resnet101_model = dict(
    backbone=dict(depth=101, init_cfg=dict(type='Pretrained', checkpoint='torchvision://resnet101'))
)
