"""Build a VIS model from a config (+ checkpoint) and run it on one whole video.

The video is one sample: all its frames go through the config's test pipeline together and through
one forward pass (the offline Mask2Former-VIS inference), so instance ids are consistent over the
video. Long videos that do not fit in memory: :func:`maskfreevis.apis.inference_video` runs
windows of frames and streams per-frame results. Frames are read by
:class:`~maskfreevis.apis.VideoSource` (frame files decoded by OpenCV, their EXIF orientation
applied; arrays must be uint8) and enter the pipeline as arrays, so every kind of input is decoded
and checked one way. Running out of memory raises :class:`InferenceMemoryError`, which says how
many frames of what size were in the pass and how to run fewer.
"""

import copy
import os
import re
import warnings
from typing import List, Optional, Tuple, Union

import torch
import torch.nn as nn
from mmcv.transforms import Compose
from mmdet.registry import MODELS
from mmengine.config import Config, ConfigDict
from mmengine.dataset import pseudo_collate
from mmengine.registry import init_default_scope
from mmengine.structures import InstanceData

from ..utils.checkpoint_match import (
    ClassMismatchWarning,
    checkpoint_classes,
    describe_class_difference,
    load_model_checkpoint,
)
from .video_source import (
    IMAGE_EXTENSIONS,
    VIDEO_EXTENSIONS,
    VideoInput,
    VideoSource,
    list_video_frames,
    read_video_file,
)

__all__ = [
    'init_vis_model',
    'inference_vis',
    'check_device',
    'model_device',
    'model_input_size',
    'is_allocation_failure',
    'InferenceMemoryError',
    'list_video_frames',
    'read_video_file',
    'IMAGE_EXTENSIONS',
    'VIDEO_EXTENSIONS',
]

# Test-pipeline steps that need annotations; inference has none.
_ANNOTATION_TRANSFORMS = {'LoadTrackAnnotations', 'LoadAnnotations', 'ClipBoxesToImage'}
_FILE_LOADERS = {'LoadImageFromFile', 'mmdet.LoadImageFromFile'}
# How torch's CPU allocator, CUDA and C++ report an allocation that failed.
_ALLOCATION_FAILURE = re.compile(
    r"can't allocate memory|out of memory|DefaultCPUAllocator|Cannot allocate memory|bad_alloc",
    re.IGNORECASE,
)


class InferenceMemoryError(MemoryError):
    """A forward pass ran out of memory; the message names the frames it held and the way out.

    Attributes:
        frames: frames in the pass that failed.
        frame_size: their (H, W).
        device: the device it ran on.
    """

    def __init__(self, message: str, frames: int, frame_size, device: str) -> None:
        super().__init__(message)
        self.frames = frames
        self.frame_size = tuple(frame_size)
        self.device = device


def is_allocation_failure(error: BaseException) -> bool:
    """Whether ``error`` is a failed memory allocation (numpy, torch CPU or CUDA)."""
    if isinstance(error, MemoryError):
        return True
    cuda_oom = getattr(torch, 'OutOfMemoryError', None) or getattr(
        torch.cuda, 'OutOfMemoryError', ()
    )
    if cuda_oom and isinstance(error, cuda_oom):
        return True
    return isinstance(error, RuntimeError) and bool(_ALLOCATION_FAILURE.search(str(error)))


def _available_devices() -> List[str]:
    devices = ['cpu']
    if torch.cuda.is_available():
        devices += [f'cuda:{index}' for index in range(torch.cuda.device_count())]
    return devices


def check_device(device: Union[str, torch.device], what: str = 'device') -> str:
    """Refuse a device that torch does not know or that this machine lacks, before any work.

    Args:
        device: e.g. ``'cpu'``, ``'cuda'``, ``'cuda:1'``.
        what: how the error names the setting (a command line passes ``'--device'``).

    Returns:
        ``device`` as a string.

    Raises:
        ValueError: naming the value, the devices available here and the fix.
    """
    text = str(device)
    available = ', '.join(_available_devices())
    try:
        parsed = torch.device(text)
    except (RuntimeError, TypeError) as error:
        guess = " (did you mean 'cuda'?)" if text.lower().startswith('gpu') else ''
        raise ValueError(
            f"{what} {text!r} is not a device torch knows{guess}; give 'cpu', 'cuda' or "
            f"'cuda:N' (available here: {available})"
        ) from error
    if parsed.type == 'cpu':
        return text
    if parsed.type != 'cuda':
        raise ValueError(
            f"{what} {text!r}: inference runs on 'cpu' or 'cuda' devices (available here: "
            f'{available})'
        )
    if not torch.cuda.is_available():
        if torch.version.cuda is None:
            reason = f'this torch ({torch.__version__}) is a CPU-only build'
            fix = (
                f'use {what} cpu, or install a CUDA build of torch '
                '(https://pytorch.org/get-started/locally/)'
            )
        else:
            hidden = os.environ.get('CUDA_VISIBLE_DEVICES')
            reason = f'torch {torch.__version__} (CUDA {torch.version.cuda}) sees no GPU' + (
                f' (CUDA_VISIBLE_DEVICES={hidden!r})' if hidden is not None else ''
            )
            fix = f'check the driver with nvidia-smi, or use {what} cpu'
        raise ValueError(
            f'{what} {text!r} is not available: {reason}; {fix} (available here: {available})'
        )
    if parsed.index is not None and parsed.index >= torch.cuda.device_count():
        raise ValueError(
            f'{what} {text!r} is not available: this machine has {torch.cuda.device_count()} '
            f'CUDA device(s) (available here: {available})'
        )
    return text


def init_vis_model(
    config: Union[str, bytes, os.PathLike, Config],
    checkpoint: Union[str, bytes, os.PathLike, None] = None,
    device: str = 'cpu',
    cfg_options: Optional[dict] = None,
) -> nn.Module:
    """Build the ``model`` of a config in eval mode, optionally loading a checkpoint.

    Pretrained-weight initialisation (``init_cfg``) is skipped: weights come from ``checkpoint`` or
    stay random. ``checkpoint`` is loaded as the tools load it: with torch's ``weights_only``
    loader (the package's checkpoints need nothing more; a file that does is refused unless the
    config lists it in ``trusted_checkpoints``), and refused when its weights do not fit the model
    (unless the config sets ``allow_partial_checkpoint=True``); both options can be given in
    ``cfg_options``.

    Args:
        config: config file path (``str``, ``bytes`` or ``os.PathLike``) or a loaded
            :class:`Config`.
        checkpoint: path or URL of the weights; None keeps the random initialisation.
        device: torch device string, e.g. ``'cpu'`` or ``'cuda:0'``; one that torch does not
            know or this machine lacks is refused before the model is built
            (:func:`check_device`).
        cfg_options: overrides merged into the config (``--cfg-options`` style dotted keys).

    Returns:
        The model, with ``model.cfg`` (the config) and ``model.dataset_meta`` (``classes``, from
        the checkpoint's meta when present, else from the config's test dataset ``metainfo``,
        else None; labels beyond the names, which a model of larger ``num_classes`` can predict,
        named ``'class K'``).

    Warns:
        ClassMismatchWarning: the checkpoint records other classes (names or order) than the
            config's test dataset ``metainfo`` declares. The model's labels mean the classes it
            was trained on, so ``dataset_meta`` holds the checkpoint's; the warning names both
            lists. Also when the names are fewer than the classes the model predicts.
    """
    check_device(device)
    if isinstance(config, (str, bytes, os.PathLike)):
        config = Config.fromfile(os.fsdecode(config))
    elif not isinstance(config, Config):
        raise TypeError(f'config must be a file path or a Config, got {type(config).__name__}')
    config = copy.deepcopy(config)
    if cfg_options:
        config.merge_from_dict(cfg_options)
    init_default_scope(config.get('default_scope', 'mmdet'))
    model = MODELS.build(config.model)
    test_dataset = config.get('test_dataloader', {}).get('dataset', {})
    dataset_meta = test_dataset.get('metainfo', None)
    if checkpoint is not None:
        checkpoint = os.fsdecode(checkpoint)
        loaded = load_model_checkpoint(model, checkpoint, config, map_location='cpu')
        if checkpoint_classes(loaded) is not None:
            _warn_if_config_classes_differ(dataset_meta, checkpoint_classes(loaded), checkpoint)
            dataset_meta = loaded['meta']['dataset_meta']
    model.cfg = config
    model.dataset_meta = _name_every_label(dataset_meta, model)
    return model.to(device).eval()


def _predicted_classes(model: nn.Module) -> Optional[int]:
    """The number of classes the model's heads predict (the largest ``num_classes``), if any."""
    counts = [
        module.num_classes
        for module in model.modules()
        if isinstance(getattr(module, 'num_classes', None), int)
    ]
    return max(counts) if counts else None


def _name_every_label(dataset_meta, model: nn.Module) -> Optional[dict]:
    """``dataset_meta`` whose ``classes`` name every label the model can predict.

    A model trained with more classes than its dataset named (``num_classes`` 6 on a json of 4)
    can still predict the unnamed ones; drawing or listing them would index past the names. They
    are named ``'class K'``, with a warning.
    """
    if dataset_meta is None:
        return None
    dataset_meta = dict(dataset_meta)
    classes = dataset_meta.get('classes')
    num_classes = _predicted_classes(model)
    if classes is None or isinstance(classes, str) or num_classes is None:
        return dataset_meta
    if len(classes) < num_classes:
        extra = tuple(f'class {label}' for label in range(len(classes), num_classes))
        warnings.warn(
            f'the model predicts {num_classes} classes, but its class names list only '
            f'{len(classes)} ({list(classes)}); labels {len(classes)} to {num_classes - 1} are '
            f'named {list(extra)}',
            ClassMismatchWarning,
            stacklevel=3,
        )
        dataset_meta['classes'] = tuple(classes) + extra
    return dataset_meta


def _warn_if_config_classes_differ(
    config_meta: Optional[dict], classes: Tuple[str, ...], checkpoint: str
) -> None:
    """Warn when the config's test ``metainfo`` names other classes than the checkpoint."""
    declared = (config_meta or {}).get('classes')
    if declared is None or isinstance(declared, str) or tuple(declared) == classes:
        return
    declared = tuple(str(name) for name in declared)
    difference = describe_class_difference(
        classes, declared, 'the checkpoint', "the config's test metainfo"
    )
    warnings.warn(
        f"checkpoint {checkpoint} was trained on other classes than the config's "
        f'test_dataloader.dataset.metainfo declares ({difference}); its labels mean the '
        f"checkpoint's classes, so model.dataset_meta names those: {list(classes)} (the "
        f'config declares {list(declared)}). Pair the checkpoint with the config it was trained '
        'with to silence this.',
        ClassMismatchWarning,
        stacklevel=3,
    )


def _strip_annotation_steps(transforms: List[dict], from_arrays: bool) -> List[dict]:
    """The test pipeline without annotation steps, loading from arrays when asked."""
    kept = []
    for transform in transforms:
        transform = copy.deepcopy(dict(transform))
        kind = transform.get('type')
        if kind in _ANNOTATION_TRANSFORMS or kind in {f'mmdet.{k}' for k in _ANNOTATION_TRANSFORMS}:
            continue
        if kind in _FILE_LOADERS and from_arrays:
            transform = dict(type='mmdet.LoadImageFromNDArray')
        if 'transforms' in transform:
            transform['transforms'] = _strip_annotation_steps(transform['transforms'], from_arrays)
        kept.append(transform)
    return kept


def build_inference_pipeline(cfg: Config, from_arrays: bool) -> Compose:
    """The config's test pipeline (``test_dataloader.dataset.pipeline``) ready for raw frames."""
    try:
        pipeline = cfg.test_dataloader.dataset.pipeline
    except AttributeError as error:
        raise KeyError(
            'the config has no test_dataloader.dataset.pipeline to preprocess frames with'
        ) from error
    if isinstance(pipeline, ConfigDict):
        pipeline = [pipeline]
    return Compose(_strip_annotation_steps(list(pipeline), from_arrays))


def _find_resize(transforms) -> Optional[dict]:
    for transform in transforms or []:
        kind = str(transform.get('type', ''))
        if kind.split('.')[-1] == 'Resize':
            return transform
        found = _find_resize(transform.get('transforms'))
        if found is not None:
            return found
    return None


def model_input_size(cfg: Config, frame_size: Tuple[int, int], pad: bool = True) -> Tuple[int, int]:
    """(h, w) the model sees for a frame of ``frame_size`` (H, W): the test pipeline's
    ``Resize`` (``scale``, ``keep_ratio``; as mmcv rounds), then (with ``pad``) padding to the
    data preprocessor's ``pad_size_divisor``."""
    height, width = frame_size
    pipeline = cfg.get('test_dataloader', {}).get('dataset', {}).get('pipeline', [])
    resize = _find_resize(pipeline)
    if resize is not None and resize.get('scale') is not None:
        scale = resize['scale']
        scale = (scale, scale) if isinstance(scale, (int, float)) else tuple(scale)
        if resize.get('keep_ratio', False):
            factor = min(max(scale) / max(height, width), min(scale) / min(height, width))
            height, width = int(height * factor + 0.5), int(width * factor + 0.5)
        else:
            width, height = int(scale[0]), int(scale[1])
    if not pad:
        return height, width
    divisor = int(cfg.get('model', {}).get('data_preprocessor', {}).get('pad_size_divisor', 1))
    divisor = max(divisor, 1)
    return -(-height // divisor) * divisor, -(-width // divisor) * divisor


def model_device(model: nn.Module) -> str:
    """The device of the model's first parameter (``'cpu'`` for a model without any)."""
    parameter = next(iter(model.parameters()), None)
    return 'cpu' if parameter is None else str(parameter.device)


def _check_model_input(cfg: Config, frame_size: Tuple[int, int]) -> None:
    """Refuse frames whose shape the test pipeline's resize would squeeze to nothing."""
    in_height, in_width = model_input_size(cfg, frame_size, pad=False)
    if min(in_height, in_width) < 1:
        height, width = frame_size
        raise ValueError(
            f'frames of {width}x{height} (w x h) are too elongated for this model: its test '
            f'pipeline resizes them to {in_width}x{in_height}; pad them towards the shape it '
            'was trained on, e.g. cv2.copyMakeBorder(frame, 0, pad, 0, 0, cv2.BORDER_CONSTANT)'
        )


def _sizes(frames) -> str:
    height, width = frames[0].shape[:2]
    return f'{len(frames)} frame(s) of {width}x{height}'


def inference_vis(model: nn.Module, video: VideoInput) -> List[InstanceData]:
    """Segment and track the instances of one whole video.

    Args:
        model: a model from :func:`init_vis_model` (or any VIS model with ``model.cfg``).
        video: anything :class:`~maskfreevis.apis.VideoSource` reads: a directory of frames, a
            video file (decoded with OpenCV), a list of frame paths, or a list of (H, W, 3)
            uint8 **BGR** arrays (OpenCV order, as ``mmcv.imread`` returns), all of one size.

    Returns:
        One ``InstanceData`` per frame with ``masks`` (N, H, W) bool at the frame's original size,
        ``scores`` (N,), ``labels`` (N,), ``instances_id`` (N,) (the same id is the same object in
        every frame) and ``bboxes`` (N, 4) xyxy.

    Raises:
        InferenceMemoryError: the pass ran out of memory (the message says how to run fewer
            frames at a time).
    """
    frames = list(video if isinstance(video, VideoSource) else VideoSource(video))
    _check_model_input(model.cfg, frames[0].shape[:2])
    init_default_scope(model.cfg.get('default_scope', 'mmdet'))
    pipeline = build_inference_pipeline(model.cfg, from_arrays=True)
    num_frames = len(frames)
    sample = dict(
        img=frames,
        frame_id=list(range(num_frames)),
        img_id=list(range(num_frames)),
        video_id=[0] * num_frames,
        video_length=[num_frames] * num_frames,
        ori_video_length=[num_frames] * num_frames,
    )
    device = model_device(model)
    try:
        data = pseudo_collate([pipeline(sample)])
        with torch.no_grad():
            results = model.test_step(data)
    except Exception as error:  # noqa: BLE001  re-raised saying which pass ran out of memory
        if not is_allocation_failure(error):
            raise
        raise InferenceMemoryError(
            f'out of memory segmenting {_sizes(frames)} in one pass on {device}: run fewer '
            'frames at a time, e.g. inference_video(model, video, window=16) (demo/video_demo.py: '
            f'--window 16, or --window auto to size it from the free memory). ({error})',
            frames=num_frames,
            frame_size=frames[0].shape[:2],
            device=device,
        ) from error
    return [frame.pred_track_instances for frame in results[0].video_data_samples]
