"""Build a VIS model from a config (+ checkpoint) and run it on one whole video.

The video is one sample: all its frames go through the config's test pipeline together and through
one forward pass (the offline Mask2Former-VIS inference), so instance ids are consistent over the
video. Long videos that do not fit in memory: :func:`maskfreevis.apis.inference_video` runs
windows of frames and streams per-frame results.
"""

import copy
import os
import os.path as osp
from typing import List, Optional, Sequence, Union

import numpy as np
import torch
import torch.nn as nn
from mmcv.transforms import Compose
from mmdet.registry import MODELS
from mmengine.config import Config, ConfigDict
from mmengine.dataset import pseudo_collate
from mmengine.registry import init_default_scope
from mmengine.structures import InstanceData

from ..datasets.annotation_checks import diagnose_frames
from ..utils.checkpoint_match import load_model_checkpoint
from .video_source import (
    IMAGE_EXTENSIONS,
    VIDEO_EXTENSIONS,
    list_video_frames,
    read_video_file,
)

__all__ = [
    'init_vis_model',
    'inference_vis',
    'list_video_frames',
    'read_video_file',
    'IMAGE_EXTENSIONS',
    'VIDEO_EXTENSIONS',
]

# Test-pipeline steps that need annotations; inference has none.
_ANNOTATION_TRANSFORMS = {'LoadTrackAnnotations', 'LoadAnnotations', 'ClipBoxesToImage'}
_FILE_LOADERS = {'LoadImageFromFile', 'mmdet.LoadImageFromFile'}

VideoInput = Union[str, Sequence[str], Sequence[np.ndarray]]


def init_vis_model(
    config: Union[str, Config],
    checkpoint: Optional[str] = None,
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
        config: config file path or a loaded :class:`Config`.
        checkpoint: path or URL of the weights; None keeps the random initialisation.
        device: torch device string, e.g. ``'cpu'`` or ``'cuda:0'``.
        cfg_options: overrides merged into the config (``--cfg-options`` style dotted keys).

    Returns:
        The model, with ``model.cfg`` (the config) and ``model.dataset_meta`` (``classes``, from
        the checkpoint's meta when present, else from the config's test dataset ``metainfo``,
        else None).
    """
    if isinstance(config, (str, os.PathLike)):
        config = Config.fromfile(str(config))
    elif not isinstance(config, Config):
        raise TypeError(f'config must be a file path or a Config, got {type(config).__name__}')
    config = copy.deepcopy(config)
    if cfg_options:
        config.merge_from_dict(cfg_options)
    init_default_scope(config.get('default_scope', 'mmdet'))
    model = MODELS.build(config.model)
    dataset_meta = None
    if checkpoint is not None:
        loaded = load_model_checkpoint(model, checkpoint, config, map_location='cpu')
        dataset_meta = (
            loaded.get('meta', {}).get('dataset_meta') if isinstance(loaded, dict) else None
        )
    if dataset_meta is None:
        test_dataset = config.get('test_dataloader', {}).get('dataset', {})
        dataset_meta = test_dataset.get('metainfo', None)
    model.cfg = config
    model.dataset_meta = dataset_meta
    return model.to(device).eval()


def _read_video_path(path: str) -> Union[List[str], List[np.ndarray]]:
    """A frame directory's sorted frame paths, or a video file's decoded frames."""
    if osp.isfile(path) and path.lower().endswith(VIDEO_EXTENSIONS):
        return read_video_file(path)
    return list_video_frames(path)


def _check_frame_arrays(frames: Sequence[np.ndarray]) -> None:
    """(H, W, 3) arrays, all of one size (they are stacked into one clip)."""
    for index, frame in enumerate(frames):
        if not (isinstance(frame, np.ndarray) and frame.ndim == 3 and frame.shape[2] == 3):
            raise ValueError(
                f'frame {index} must be an (H, W, 3) array, got '
                f'{getattr(frame, "shape", type(frame).__name__)}'
            )
    sizes = [frame.shape[:2] for frame in frames]
    if len(set(sizes)) > 1:
        other = next(index for index, size in enumerate(sizes) if size != sizes[0])
        raise ValueError(
            f'all frames of a video must have one size: frame 0 is '
            f'{sizes[0][1]}x{sizes[0][0]} (w x h), frame {other} is '
            f'{sizes[other][1]}x{sizes[other][0]}'
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


def inference_vis(model: nn.Module, video: VideoInput) -> List[InstanceData]:
    """Segment and track the instances of one whole video.

    Args:
        model: a model from :func:`init_vis_model` (or any VIS model with ``model.cfg``).
        video: a directory of frames (sorted by name), a video file (decoded with OpenCV), a
            list of frame paths, or a list of (H, W, 3) uint8 **BGR** arrays (OpenCV order, as
            ``mmcv.imread`` returns), all of one size.

    Returns:
        One ``InstanceData`` per frame with ``masks`` (N, H, W) bool at the frame's original size,
        ``scores`` (N,), ``labels`` (N,), ``instances_id`` (N,) (the same id is the same object in
        every frame) and ``bboxes`` (N, 4) xyxy.
    """
    if isinstance(video, (str, os.PathLike)):
        video = _read_video_path(str(video))
    frames = list(video)
    if not frames:
        raise ValueError('inference_vis got a video without frames')
    from_arrays = not isinstance(frames[0], (str, os.PathLike))
    if from_arrays:
        _check_frame_arrays(frames)
    else:
        missing = [str(f) for f in frames if not osp.isfile(f)]
        if missing:
            raise FileNotFoundError(
                f'{len(missing)} frame file(s) do not exist, first: {missing[0]!r}'
            )
    init_default_scope(model.cfg.get('default_scope', 'mmdet'))
    pipeline = build_inference_pipeline(model.cfg, from_arrays)
    num_frames = len(frames)
    sample = dict(
        frame_id=list(range(num_frames)),
        img_id=list(range(num_frames)),
        video_id=[0] * num_frames,
        video_length=[num_frames] * num_frames,
        ori_video_length=[num_frames] * num_frames,
    )
    if from_arrays:
        sample['img'] = [np.ascontiguousarray(f) for f in frames]
    else:
        sample['img_path'] = [str(f) for f in frames]
    try:
        packed = pipeline(sample)
    except Exception as error:  # noqa: BLE001  re-raised naming the frames at fault
        if from_arrays:
            raise
        problems = diagnose_frames(sample['img_path'])
        if not problems:
            raise
        raise ValueError(f"cannot load the video's frames: {'; '.join(problems)}") from error
    data = pseudo_collate([packed])
    with torch.no_grad():
        results = model.test_step(data)
    return [frame.pred_track_instances for frame in results[0].video_data_samples]
