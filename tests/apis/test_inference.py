"""``init_vis_model`` / ``inference_vis`` on a tiny Mask2Former-VIS from an in-memory config."""

import os
import os.path as osp
import re

import cv2
import numpy as np
import pytest
import torch
import torch.nn as nn
from mmengine.config import Config
from PIL import Image

from maskfreevis.apis import inference_vis, init_vis_model, list_video_frames
from maskfreevis.utils.checkpoint_match import ClassMismatchWarning
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
        dict(state_dict=model.state_dict(), meta=dict(dataset_meta=dict(classes=['x', 'y', 'z']))),
        path,
    )
    torch.manual_seed(1)  # a different random init, replaced by the checkpoint
    # the config declares ('a', 'b', 'c'); the labels mean the checkpoint's classes
    with pytest.warns(ClassMismatchWarning) as record:
        loaded = init_vis_model(tiny_vis_config(), checkpoint=path)
    assert loaded.dataset_meta == dict(classes=['x', 'y', 'z'])
    (message,) = [str(w.message) for w in record if w.category is ClassMismatchWarning]
    assert f'checkpoint {path} was trained on other classes' in message
    assert (
        "only in the checkpoint: 'x', 'y', 'z'; only in the config's test metainfo: 'a', 'b', 'c'"
    ) in message
    assert (
        "model.dataset_meta names those: ['x', 'y', 'z'] (the config declares ['a', 'b', 'c'])"
    ) in message
    expected = inference_vis(model, video_dir)
    for a, b in zip(expected, inference_vis(loaded, video_dir)):
        assert torch.equal(a.masks, b.masks) and torch.allclose(a.scores, b.scores)


def test_class_names_of_the_checkpoint_or_else_of_the_config(model, tmp_path, recwarn):
    same, bare = str(tmp_path / 'same.pth'), str(tmp_path / 'bare.pth')
    torch.save(
        dict(state_dict=model.state_dict(), meta=dict(dataset_meta=dict(classes=('a', 'b', 'c')))),
        same,
    )
    torch.save(model.state_dict(), bare)
    assert init_vis_model(tiny_vis_config(), same).dataset_meta == dict(classes=('a', 'b', 'c'))
    assert init_vis_model(tiny_vis_config(), bare).dataset_meta == dict(classes=('a', 'b', 'c'))
    assert not [w for w in recwarn if issubclass(w.category, ClassMismatchWarning)]
    reordered = str(tmp_path / 'reordered.pth')
    torch.save(
        dict(state_dict=model.state_dict(), meta=dict(dataset_meta=dict(classes=('b', 'a', 'c')))),
        reordered,
    )
    with pytest.warns(ClassMismatchWarning, match="label 0 is 'b' in the checkpoint"):
        loaded = init_vis_model(tiny_vis_config(), reordered)
    assert loaded.dataset_meta == dict(classes=('b', 'a', 'c'))


def test_labels_beyond_the_class_names_get_names(model, tmp_path):
    # a model of 3 classes trained on a json naming 2 can still predict label 2
    path = str(tmp_path / 'two_names.pth')
    torch.save(
        dict(state_dict=model.state_dict(), meta=dict(dataset_meta=dict(classes=('a', 'b')))),
        path,
    )
    config = tiny_vis_config()
    config.test_dataloader.dataset.metainfo.classes = ('a', 'b')
    with pytest.warns(ClassMismatchWarning, match=r'the model predicts 3 classes, but its class'):
        loaded = init_vis_model(config, path)
    assert loaded.dataset_meta == dict(classes=('a', 'b', 'class 2'))


def test_bad_inputs_are_clear_errors(model, video_dir):
    with pytest.raises(ValueError, match='the video has no frames'):
        inference_vis(model, [])
    with pytest.raises(FileNotFoundError, match='missing.jpg'):
        inference_vis(model, [osp.join(video_dir, 'missing.jpg')])
    with pytest.raises(ValueError, match=r'frame 1 of the frame list must be an \(H, W, 3\)'):
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
    with pytest.raises(ValueError, match=r'frame 0 of the frame list is 56x40 \(w x h\), frame 1'):
        inference_vis(model, arrays)
    small = str(tmp_path / 'small.jpg')
    cv2.imwrite(small, arrays[1])
    with pytest.raises(ValueError, match=r'frame 2 \(.*small.jpg\) is 30x20'):
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


def test_bytes_and_pathlike_paths_are_accepted(model, video_dir, tmp_path):
    import pathlib

    path = str(tmp_path / 'weights.pth')
    torch.save(dict(state_dict=model.state_dict()), path)
    config_file = str(tmp_path / 'tiny.py')
    tiny_vis_config().dump(config_file)
    loaded = init_vis_model(os.fsencode(config_file), checkpoint=os.fsencode(path))
    expected = inference_vis(model, video_dir)
    frames = list_video_frames(video_dir)
    for video in (
        os.fsencode(video_dir),
        pathlib.Path(video_dir),
        [os.fsencode(f) for f in frames],
    ):
        for a, b in zip(expected, inference_vis(loaded, video)):
            assert torch.equal(a.masks, b.masks)


@pytest.mark.parametrize(
    'device, message',
    [
        ('gpu', r"device 'gpu' is not a device torch knows \(did you mean 'cuda'\?\).*cpu"),
        ('cuda:99', r"device 'cuda:99' is not available"),
        ('mps', r"device 'mps': inference runs on 'cpu' or 'cuda'"),
    ],
)
def test_unknown_or_absent_device_is_refused_before_the_model_is_built(device, message):
    with pytest.raises(ValueError, match=message):
        init_vis_model(
            Config(dict(model=dict(type='NotBuiltBecauseTheDeviceIsChecked'))), device=device
        )


@pytest.mark.skipif(torch.cuda.is_available(), reason='a CPU-only torch says so')
def test_cuda_on_a_cpu_only_torch_names_the_build_and_the_fix():
    with pytest.raises(ValueError) as error:
        init_vis_model(tiny_vis_config(), device='cuda')
    text = str(error.value)
    assert "device 'cuda' is not available" in text and 'CPU-only build' in text
    assert 'available here: cpu' in text and 'pytorch.org' in text


@pytest.mark.parametrize(
    'frame, dtype, fix',
    [
        (np.full((HEIGHT, WIDTH, 3), 0.5, np.float32), 'float32', r'\(frame \* 255\)\.round\(\)'),
        (np.full((HEIGHT, WIDTH, 3), 128.0), 'float64', r'frame\.round\(\)\.clip\(0, 255\)'),
        (np.full((HEIGHT, WIDTH, 3), 40000, np.uint16), 'uint16', r'\(frame // 257\)'),
        (np.ones((HEIGHT, WIDTH, 3), bool), 'bool', r'frame\.astype\(np\.uint8\) \* 255'),
        (np.full((HEIGHT, WIDTH, 3), 7, np.int64), 'int64', r'frame\.astype\(np\.uint8\)'),
    ],
)
def test_non_uint8_frames_are_refused_with_the_conversion(model, frame, dtype, fix):
    frames = [np.zeros((HEIGHT, WIDTH, 3), np.uint8), frame]
    with pytest.raises(
        ValueError, match=f'frame 1 of the frame list is {dtype} \\(values '
    ) as error:
        inference_vis(model, frames)
    assert re.search(fix, str(error.value)), str(error.value)
    assert 'not cast' in str(error.value)


def test_nan_frames_and_other_shapes_are_refused_with_the_fix(model):
    nan = np.full((HEIGHT, WIDTH, 3), np.nan, np.float32)
    with pytest.raises(ValueError, match=r'float32 \(values nan to nan\).*np\.nan_to_num'):
        inference_vis(model, [nan])
    with pytest.raises(ValueError, match=r'COLOR_GRAY2BGR'):
        inference_vis(model, [np.zeros((HEIGHT, WIDTH), np.uint8)])
    with pytest.raises(ValueError, match=r'COLOR_BGRA2BGR'):
        inference_vis(model, [np.zeros((HEIGHT, WIDTH, 4), np.uint8)])
    with pytest.raises(ValueError, match=r'for a single frame pass \[frame\]'):
        inference_vis(model, np.zeros((HEIGHT, WIDTH, 3), np.uint8))
    with pytest.raises(TypeError, match='video must be a video file, .* got int'):
        inference_vis(model, 42)


@pytest.mark.parametrize('shape', [(4000, 16, 3), (4, 3000, 3)])
def test_frames_too_elongated_for_the_model_input_are_named(model, shape):
    """The test pipeline's resize (keep ratio, 96 x 64) would make one side 0 pixels (OpenCV's
    assertion `inv_scale_x > 0` before)."""
    height, width = shape[:2]
    with pytest.raises(
        ValueError, match=f'frames of {width}x{height} .* too elongated.*copyMakeBorder'
    ):
        inference_vis(model, [np.zeros(shape, np.uint8)] * 2)


def exif_rotated_jpeg(path: str, pixels: np.ndarray, orientation: int) -> None:
    """Write ``pixels`` (BGR) as a JPEG whose EXIF orientation tag says how to turn it."""
    image = Image.fromarray(np.ascontiguousarray(pixels[..., ::-1]))
    exif = image.getexif()
    exif[0x0112] = orientation
    image.save(path, exif=exif.tobytes(), quality=95)


def test_exif_orientation_is_applied_alike_on_every_path(model, tmp_path):
    """A JPEG tagged 'turn 90° clockwise' is segmented as a viewer shows it: the masks have the
    turned size whether the frames come as a folder, as paths or through inference_video."""
    from maskfreevis.apis import inference_video

    rng = np.random.default_rng(1)
    folder = tmp_path / 'portrait'
    folder.mkdir()
    raw = [rng.integers(0, 255, (HEIGHT, WIDTH, 3), dtype=np.uint8) for _ in range(2)]
    for index, pixels in enumerate(raw):
        exif_rotated_jpeg(str(folder / f'{index}.jpg'), pixels, orientation=6)
    as_shown = cv2.imread(str(folder / '0.jpg'))
    assert as_shown.shape == (WIDTH, HEIGHT, 3)  # OpenCV turns it: 40x56 stored, 56 rows shown
    from_folder = inference_vis(model, str(folder))
    from_paths = inference_vis(model, list_video_frames(str(folder)))
    turned = [cv2.imread(p) for p in list_video_frames(str(folder))]
    from_arrays = inference_vis(model, turned)
    streamed = list(inference_video(model, str(folder), score_thr=0.0))
    for a, b, c in zip(from_folder, from_paths, from_arrays):
        assert a.masks.shape[1:] == (WIDTH, HEIGHT)
        assert torch.equal(a.masks, b.masks) and torch.equal(a.masks, c.masks)
    assert streamed[0].masks.shape[1:] == (WIDTH, HEIGHT) and streamed[0].image.shape[:2] == (
        WIDTH,
        HEIGHT,
    )


def test_mixed_exif_orientations_are_explained(model, tmp_path):
    rng = np.random.default_rng(2)
    folder = tmp_path / 'mixed'
    folder.mkdir()
    exif_rotated_jpeg(str(folder / '0.jpg'), rng.integers(0, 255, (HEIGHT, WIDTH, 3), np.uint8), 1)
    exif_rotated_jpeg(str(folder / '1.jpg'), rng.integers(0, 255, (HEIGHT, WIDTH, 3), np.uint8), 6)
    with pytest.raises(ValueError) as error:
        inference_vis(model, str(folder))
    text = str(error.value)
    assert 'frame 1 (' in text and '1.jpg) is 40x56' in text
    assert 'carries EXIF orientation 6 (turned 90° clockwise)' in text and 'auto-orient' in text


class _AllocationFailingModel(nn.Module):
    """Stands for a model whose forward pass needs more memory than there is."""

    def __init__(self, cfg: Config, error: BaseException) -> None:
        super().__init__()
        self.cfg = cfg
        self.error = error

    def test_step(self, data):
        raise self.error


@pytest.mark.parametrize(
    'error',
    [
        RuntimeError(
            '[enforce fail at alloc_cpu.cpp:117] data. DefaultCPUAllocator: not enough memory: '
            'you tried to allocate 35389440000 bytes. Error code 12 (Cannot allocate memory)'
        ),
        MemoryError('Unable to allocate 33.0 GiB for an array'),
    ],
)
def test_out_of_memory_names_the_pass_and_the_window_to_use(error):
    from maskfreevis.apis.inference import InferenceMemoryError

    failing = _AllocationFailingModel(tiny_vis_config(), error)
    frames = [np.zeros((HEIGHT, WIDTH, 3), np.uint8)] * 5
    with pytest.raises(InferenceMemoryError) as raised:
        inference_vis(failing, frames)
    text = str(raised.value)
    assert 'out of memory segmenting 5 frame(s) of 56x40 in one pass on cpu' in text
    assert 'window=16' in text and '--window' in text and str(error) in text
    assert raised.value.__cause__ is error


def test_other_errors_of_the_model_pass_through_unchanged():
    failing = _AllocationFailingModel(tiny_vis_config(), RuntimeError('shape mismatch'))
    with pytest.raises(RuntimeError, match='^shape mismatch$'):
        inference_vis(failing, [np.zeros((HEIGHT, WIDTH, 3), np.uint8)])
