# (c) MaskFreeVIS jointly trained with COCO pseudo-videos (R50), YouTube-VIS 2021 (the release
# shipped 2019 only): video clips carry boxes only (projection + pairwise + TK losses on a 3-frame
# all-pairs tube); COCO images become 3-frame pseudo-videos that keep their COCO masks
# (point-sampled BCE + Dice); no video mask anywhere. Each batch of 2 clips per GPU holds one clip
# of each source (the release mixed 4:3 COCO:video, one source per GPU batch, told apart by
# counting images).
_base_ = [
    './maskfreevis-cocomask_r50_8xb2-6k_youtubevis2021.py',
    '../_base_/datasets/coco_pseudo_video.py',
]

num_frames = 3
# YouTube-VIS 2021 category-id order (alphabetical); the COCO labels are mapped onto these classes
video_classes = (
    'airplane', 'bear', 'bird', 'boat', 'car', 'cat', 'cow', 'deer', 'dog', 'duck',
    'earless_seal', 'elephant', 'fish', 'flying_disc', 'fox', 'frog', 'giant_panda', 'giraffe',
    'horse', 'leopard', 'lizard', 'monkey', 'motorbike', 'mouse', 'parrot', 'person', 'rabbit',
    'shark', 'skateboard', 'snake', 'snowboard', 'squirrel', 'surfboard', 'tennis_racket',
    'tiger', 'train', 'truck', 'turtle', 'whale', 'zebra')
# the release's COCO_TO_YTVIS_2021 table, by class name
coco_to_video_classes = {
    'person': 'person', 'bicycle': 'motorbike', 'car': 'car', 'motorcycle': 'motorbike',
    'airplane': 'airplane', 'train': 'train', 'truck': 'truck', 'boat': 'boat', 'bird': 'bird',
    'cat': 'cat', 'dog': 'dog', 'horse': 'horse', 'cow': 'cow', 'elephant': 'elephant',
    'bear': 'bear', 'zebra': 'zebra', 'giraffe': 'giraffe', 'frisbee': 'flying_disc',
    'skis': 'snowboard', 'snowboard': 'snowboard', 'skateboard': 'skateboard',
    'surfboard': 'surfboard', 'tennis racket': 'tennis_racket'}

model = dict(track_head=dict(loss_tk=dict(pairing='all')))

video_dataset = _base_.train_dataloader.dataset
video_dataset.metainfo = dict(classes=video_classes)
video_dataset.pipeline[0].num_frames = num_frames
coco_dataset = _base_.coco_pseudo_video_dataset
coco_dataset.metainfo = dict(classes=video_classes)
coco_dataset.class_mapping = coco_to_video_classes
train_dataloader = dict(
    batch_size=2,
    # consecutive index pairs = one COCO clip + one video clip; no aspect-ratio regrouping
    sampler=dict(_delete_=True, type='MultiSourceSampler', batch_size=2, source_ratio=[1, 1]),
    batch_sampler=None,
    dataset=dict(
        _delete_=True, type='ConcatDataset', datasets=[coco_dataset, video_dataset]))

# released joint schedule: 70k iterations, lr x0.1 at 37.5k
max_iters = 70000
param_scheduler = dict(end=max_iters, milestones=[37500])
train_cfg = dict(max_iters=max_iters, val_interval=max_iters + 1)
