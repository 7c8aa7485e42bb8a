# (c) MaskFreeVIS jointly trained with COCO pseudo-videos (R50), YouTube-VIS 2019 (released: 46.6
# AP): video clips carry boxes only (projection + pairwise + TK losses on a 3-frame all-pairs
# tube); COCO images become 3-frame pseudo-videos that keep their COCO masks (point-sampled BCE +
# Dice); no video mask anywhere. Each batch of 2 clips per GPU holds one clip of each source (the
# release mixed 4:3 COCO:video, one source per GPU batch, told apart by counting images).
_base_ = [
    './maskfreevis-cocomask_r50_8xb2-6k_youtubevis2019.py',
    '../_base_/datasets/coco_pseudo_video.py',
]

num_frames = 3
# YouTube-VIS 2019 category-id order; the COCO labels are mapped onto these classes
video_classes = (
    'person', 'giant_panda', 'lizard', 'parrot', 'skateboard', 'sedan', 'ape', 'dog', 'snake',
    'monkey', 'hand', 'rabbit', 'duck', 'cat', 'cow', 'fish', 'train', 'horse', 'turtle', 'bear',
    'motorbike', 'giraffe', 'leopard', 'fox', 'deer', 'owl', 'surfboard', 'airplane', 'truck',
    'zebra', 'tiger', 'elephant', 'snowboard', 'boat', 'shark', 'mouse', 'frog', 'eagle',
    'earless_seal', 'tennis_racket')
# the release's COCO_TO_YTVIS_2019 table, by class name
coco_to_video_classes = {
    'person': 'person', 'bicycle': 'motorbike', 'car': 'sedan', 'motorcycle': 'motorbike',
    'airplane': 'airplane', 'train': 'train', 'truck': 'truck', 'boat': 'boat', 'cat': 'cat',
    'dog': 'dog', 'horse': 'horse', 'cow': 'cow', 'elephant': 'elephant', 'bear': 'bear',
    'zebra': 'zebra', 'giraffe': 'giraffe', 'skis': 'snowboard', 'snowboard': 'snowboard',
    'skateboard': 'skateboard', 'surfboard': 'surfboard', 'tennis racket': 'tennis_racket'}

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
