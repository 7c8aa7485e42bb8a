# Data pipelines of the video recipes, by name (used by ./youtube_vis_2019_box.py and the datasets
# that inherit it; a config picks another one with e.g.
# `train_dataloader = dict(dataset=dict(pipeline=_base_.three_frame_train_pipeline))`).
backend_args = None
# frames load in their stored pixel grid, where YouTube-VIS / OVIS boxes and masks are; OpenCV's
# default decoding would turn frames that carry an EXIF orientation tag
load_frame = dict(
    type='LoadImageFromFile', color_type='color_ignore_orientation', backend_args=backend_args
)
load_boxes = dict(type='LoadTrackAnnotations', with_mask=False)
load_masks = dict(type='LoadTrackAnnotations', with_mask=True)
pack_inputs = dict(type='PackTrackInputs')
# one scale (short side 360 or 480) and one flip per clip
clip_augment = [
    dict(type='RandomChoiceResize', scales=[(1333, 360), (1333, 480)], keep_ratio=True),
    dict(type='RandomFlip', prob=0.5),
    dict(type='ClipBoxesToImage'),
]
box_clip_transforms = dict(
    type='TransformBroadcaster',
    share_random_params=True,
    transforms=[load_frame, load_boxes, *clip_augment],
)

# T = 5 frames (the mask-free recipe's cyclic tube) within +-5 frames of a random reference
# frame, shuffled (the release's sampler)
train_pipeline = [
    dict(type='SampleClipFrames', num_frames=5, frame_range=5, shuffle=True),
    box_clip_transforms,
    pack_inputs,
]
# 3-frame clips: 24 GB GPUs, and the video clips of the COCO joint recipe (its pseudo-videos
# have 3 frames and the clips of one batch must be equally long)
three_frame_train_pipeline = [
    dict(type='SampleClipFrames', num_frames=3, frame_range=5, shuffle=True),
    box_clip_transforms,
    pack_inputs,
]
# the Mask2Former-VIS recipe with the video masks: 2 ordered frames within +-20 frames
mask_train_pipeline = [
    dict(type='SampleClipFrames', num_frames=2, frame_range=20, shuffle=False),
    dict(box_clip_transforms, transforms=[load_frame, load_masks, *clip_augment]),
    pack_inputs,
]

# Whole videos resized to a short side of 360 (480 for Swin-L); the metric takes the ground truth
# from the annotation file.
test_resize = dict(type='Resize', scale=(1333, 360), keep_ratio=True)
test_pipeline = [
    dict(type='TransformBroadcaster', transforms=[load_frame, test_resize, load_boxes]),
    pack_inputs,
]
test_pipeline_480 = [
    dict(
        type='TransformBroadcaster',
        transforms=[load_frame, dict(test_resize, scale=(1333, 480)), load_boxes],
    ),
    pack_inputs,
]
