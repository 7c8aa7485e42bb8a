"""``init_vis_model`` / ``inference_vis`` on a tiny Mask2Former-VIS from an in-memory config."""

import os.path as osp

import cv2
import numpy as np
import pytest
import torch
from mmengine.config import Config

from maskfreevis.apis import inference_vis, init_vis_model, list_video_frames
from tests.model_converters.small_targets import small_video_model_cfg

HEIGHT, WIDTH = 40, 56


def tiny_vis_config() -> Config:
    """Stock ``Mask2FormerVideo`` (the converter tests' small model: ResNet-18, 64 channels) with 3
    classes; the inference API only needs a ``model`` and a test pipeline."""
    test_pipeline = [
        dict(
            type='TransformBroadcaster',
            transforms=[
                dict(type='LoadImageFromFile'),
                dict(type='Resize', scale=(96, 64), keep_ratio=True),
                dict(type='LoadTrackAnnotations', with_mask=True),
            ],
        ),
        dict(type='PackTrackInputs'),
    ]
    return Config(
        dict(
            default_scope='mmdet',
            model=small_video_model_cfg(num_classes=3).to_dict(),
            test_dataloader=dict(
                dataset=dict(pipeline=test_pipeline, metainfo=dict(classes=('a', 'b', 'c')))
            ),
        )
    )


@pytest.fixture(scope='module')
def video_dir(tmp_path_factory) -> str:
    root = tmp_path_factory.mktemp('video')
    rng = np.random.default_rng(0)
    for index in range(3):
        frame = rng.integers(0, 255, (HEIGHT, WIDTH, 3), dtype=np.uint8)
        cv2.imwrite(str(root / f'{index:05d}.jpg'), frame)
    (root / 'notes.txt').write_text('not a frame')
    return str(root)


@pytest.fixture(scope='module')
def model():
    torch.manual_seed(0)
    return init_vis_model(tiny_vis_config())


def test_list_video_frames_sorted_images_only(video_dir, tmp_path):
    frames = list_video_frames(video_dir)
    assert [osp.basename(f) for f in frames] == ['00000.jpg', '00001.jpg', '00002.jpg']
    with pytest.raises(FileNotFoundError, match='no frames'):
        list_video_frames(str(tmp_path))
    with pytest.raises(FileNotFoundError, match='does not exist'):
        list_video_frames(str(tmp_path / 'missing'))


def test_model_is_in_eval_mode_with_meta(model):
    assert not model.training
    assert model.dataset_meta == dict(classes=('a', 'b', 'c'))


def test_whole_video_predictions_at_original_size(model, video_dir):
    results = inference_vis(model, video_dir)
    assert len(results) == 3
    for pred in results:
        assert pred.masks.shape == (10, HEIGHT, WIDTH) and pred.masks.dtype == torch.bool
        assert pred.scores.shape == pred.labels.shape == pred.instances_id.shape == (10,)
        assert pred.bboxes.shape == (10, 4)
    # one forward over the whole video: the same instances (ids, scores) in every frame
    assert torch.equal(results[0].instances_id, results[2].instances_id)
    assert torch.equal(results[0].scores, results[2].scores)


def test_paths_directory_and_bgr_arrays_agree(model, video_dir):
    paths = list_video_frames(video_dir)
    from_dir = inference_vis(model, video_dir)
    from_paths = inference_vis(model, paths)
    from_arrays = inference_vis(model, [cv2.imread(p) for p in paths])
    for a, b, c in zip(from_dir, from_paths, from_arrays):
        assert torch.equal(a.masks, b.masks) and torch.equal(a.masks, c.masks)
        assert torch.allclose(a.scores, c.scores)


def test_checkpoint_round_trip(model, video_dir, tmp_path):
    path = str(tmp_path / 'weights.pth')
    torch.save(
        dict(state_dict=model.state_dict(), meta=dict(dataset_meta=dict(classes=['x']))), path
    )
    torch.manual_seed(1)  # a different random init, replaced by the checkpoint
    loaded = init_vis_model(tiny_vis_config(), checkpoint=path)
    assert loaded.dataset_meta == dict(classes=['x'])
    expected = inference_vis(model, video_dir)
    for a, b in zip(expected, inference_vis(loaded, video_dir)):
        assert torch.equal(a.masks, b.masks) and torch.allclose(a.scores, b.scores)


def test_bad_inputs_are_clear_errors(model, video_dir):
    with pytest.raises(ValueError, match='without frames'):
        inference_vis(model, [])
    with pytest.raises(FileNotFoundError, match='missing.jpg'):
        inference_vis(model, [osp.join(video_dir, 'missing.jpg')])
    with pytest.raises(ValueError, match=r'frame 1 must be an \(H, W, 3\) array'):
        inference_vis(model, [np.zeros((4, 4, 3), np.uint8), np.zeros((4, 4), np.uint8)])
    with pytest.raises(TypeError, match='config must be'):
        init_vis_model(42)


def test_video_file_is_decoded(model, video_dir, tmp_path):
    path = str(tmp_path / 'clip.avi')
    writer = cv2.VideoWriter(path, cv2.VideoWriter_fourcc(*'MJPG'), 5, (WIDTH, HEIGHT))
    for frame_path in list_video_frames(video_dir):
        writer.write(cv2.imread(frame_path))
    writer.release()
    results = inference_vis(model, path)
    assert len(results) == 3 and results[0].masks.shape == (10, HEIGHT, WIDTH)


def test_unreadable_video_file_and_image_file_are_named(model, video_dir, tmp_path):
    broken = tmp_path / 'broken.mp4'
    broken.write_bytes(b'not a video')
    with pytest.raises(ValueError, match=f"cannot read any frame from video file '{broken}'"):
        inference_vis(model, str(broken))
    frame = list_video_frames(video_dir)[0]
    with pytest.raises(ValueError, match='is a file, not a directory of frames'):
        inference_vis(model, frame)


def test_frames_of_different_sizes_are_named(model, video_dir, tmp_path):
    arrays = [np.zeros((HEIGHT, WIDTH, 3), np.uint8), np.zeros((20, 30, 3), np.uint8)]
    with pytest.raises(ValueError, match=r'frame 0 is 56x40 \(w x h\), frame 1 is 30x20'):
        inference_vis(model, arrays)
    small = str(tmp_path / 'small.jpg')
    cv2.imwrite(small, arrays[1])
    with pytest.raises(ValueError, match='the frames differ in size .*small.jpg: 30x20'):
        inference_vis(model, list_video_frames(video_dir)[:2] + [small])


def test_empty_or_corrupt_frame_file_is_named(model, video_dir, tmp_path):
    empty = str(tmp_path / 'empty.jpg')
    open(empty, 'w').close()
    with pytest.raises(ValueError, match=f'{empty} is empty'):
        inference_vis(model, list_video_frames(video_dir)[:1] + [empty])


def test_checkpoint_of_another_model_is_refused_with_a_hint_that_works_here(model, tmp_path):
    from maskfreevis.utils.checkpoint_match import CheckpointMismatchError

    path = str(tmp_path / 'five_classes.pth')
    state = {key: value.clone() for key, value in model.state_dict().items()}
    state['track_head.cls_embed.weight'] = torch.zeros(6, 64)
    state['track_head.cls_embed.bias'] = torch.zeros(6)
    torch.save(dict(state_dict=state), path)
    with pytest.raises(
        CheckpointMismatchError,
        match=r'cls_embed.weight: checkpoint \(6, 64\), '
        r'model \(4, 64\)',
    ) as error:
        init_vis_model(tiny_vis_config(), checkpoint=path)
    hint = 'cfg_options=dict(allow_partial_checkpoint=True)'
    assert hint in str(error.value)
    loaded = init_vis_model(
        tiny_vis_config(), checkpoint=path, cfg_options=dict(allow_partial_checkpoint=True)
    )
    assert torch.equal(loaded.backbone.conv1.weight, model.backbone.conv1.weight)


def test_crafted_checkpoint_is_refused_unless_listed(
    model, tmp_path, monkeypatch, write_crafted_checkpoint
):
    from maskfreevis.utils import TRUST_ENV_VAR, UntrustedCheckpointError

    monkeypatch.delenv(TRUST_ENV_VAR, raising=False)
    path = str(tmp_path / 'crafted.pth')
    marker = write_crafted_checkpoint(path, state_dict=model.state_dict())
    with pytest.raises(UntrustedCheckpointError, match='trusted_checkpoints'):
        init_vis_model(tiny_vis_config(), checkpoint=path)
    assert not osp.exists(marker)
    # The opt-in the message names works on this path too.
    init_vis_model(tiny_vis_config(), checkpoint=path, cfg_options=dict(trusted_checkpoints=[path]))
    assert osp.isdir(marker)
