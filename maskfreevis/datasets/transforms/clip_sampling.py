"""Sampling a T-frame training clip from a video (or repeating a pseudo-video's single image)."""

import copy
import logging
from typing import Dict, List, Sequence, Union

import numpy as np
from mmcv.transforms.utils import cache_randomness
from mmdet.datasets.transforms import BaseFrameSample
from mmdet.registry import TRANSFORMS
from mmengine.logging import print_log


@TRANSFORMS.register_module()
class SampleClipFrames(BaseFrameSample):
    """Pick ``num_frames`` distinct frames around a reference frame (for ``UniformRefFrameSample``).

    The reference (key) frame is ``key_frame_id`` when the dataset passes one (mmdet's
    ``TrackImgSampler``), else uniform over the video. The other T-1 frames are drawn without
    replacement from ``[key + frame_range[0], key + frame_range[1]]``; near the video ends, where
    that window holds fewer than T-1 other frames, the nearest frames outside it fill up the clip.
    Only a video shorter than T repeats frames (each frame at least once, the rest drawn with
    replacement); such clips are counted in :attr:`num_short_videos` and logged (first time, then
    at every power of two). A pseudo-video (video dict with ``is_pseudo_video=True``, one image)
    becomes T copies of its image, silently, with ``frame_id`` = position 0..T-1.

    Frames come out in temporal order, then randomly permuted if ``shuffle``. The output is a
    dict of per-frame lists as ``UniformRefFrameSample`` produces (all frame keys,
    ``collect_video_keys``, ``video_length`` = T, ``ori_video_length``, ``key_frame_flags``),
    ready for ``TransformBroadcaster`` and ``PackTrackInputs``.

    Args:
        num_frames: Clip length T (the model reads T from the clips it is given).
        frame_range: Window around the key frame: ``r`` means ``[-r, r]``, or ``[lo, hi]`` with
            ``lo <= 0 <= hi``.
        shuffle: Randomly permute the sampled frames (the released recipe did).
        collect_video_keys: Video-level keys copied into every frame.
    """

    def __init__(
        self,
        num_frames: int,
        frame_range: Union[int, Sequence[int]] = 5,
        shuffle: bool = False,
        collect_video_keys: Sequence[str] = ('video_id', 'video_length'),
    ) -> None:
        if not isinstance(num_frames, int) or num_frames < 1:
            raise ValueError(f'num_frames must be a positive int, got {num_frames!r}')
        if isinstance(frame_range, int):
            if frame_range < 0:
                raise ValueError(f'frame_range must be >= 0, got {frame_range}')
            frame_range = (-frame_range, frame_range)
        frame_range = tuple(frame_range)
        if len(frame_range) != 2 or not frame_range[0] <= 0 <= frame_range[1]:
            raise ValueError(
                f'frame_range must be an int >= 0 or [lo, hi] with lo <= 0 <= hi, got {frame_range}'
            )
        super().__init__(collect_video_keys=list(collect_video_keys))
        self.num_frames = num_frames
        self.frame_range = frame_range
        self.shuffle = shuffle
        self.num_short_videos = 0

    @cache_randomness
    def _random_key_frame(self, video_length: int) -> int:
        """Uniform key frame index in ``[0, video_length)``."""
        return int(np.random.randint(video_length))

    @cache_randomness
    def _sample_indices(self, video_length: int, key_frame_id: int) -> List[int]:
        """T frame indices in temporal order, the key frame included (see class docstring)."""
        num_others = self.num_frames - 1
        if video_length < self.num_frames:
            repeats = np.random.randint(video_length, size=self.num_frames - video_length)
            return sorted(list(range(video_length)) + repeats.tolist())
        others = np.delete(np.arange(video_length), key_frame_id)
        offsets = others - key_frame_id
        in_window = others[(offsets >= self.frame_range[0]) & (offsets <= self.frame_range[1])]
        if len(in_window) >= num_others:
            chosen = np.random.choice(in_window, size=num_others, replace=False)
        else:
            # Stable sort keeps the earlier frame first on distance ties.
            chosen = others[np.argsort(np.abs(offsets), kind='stable')[:num_others]]
        return sorted([key_frame_id] + chosen.tolist())

    @cache_randomness
    def _random_order(self, num_frames: int) -> np.ndarray:
        """A random permutation of clip positions."""
        return np.random.permutation(num_frames)

    def _note_short_video(self, video_infos: dict, video_length: int) -> None:
        self.num_short_videos += 1
        count = self.num_short_videos
        if count & (count - 1) == 0:
            print_log(
                f'SampleClipFrames: video {video_infos.get("video_id")} has {video_length} '
                f'frames < num_frames={self.num_frames}; frames are repeated '
                f'({count} such clip(s) so far in this worker)',
                logger='current',
                level=logging.WARNING,
            )

    def transform(self, video_infos: dict) -> Dict[str, List]:
        """Sample a clip from one video dict of the dataset.

        Args:
            video_infos: ``{'video_id', 'video_length', 'images': [frame dicts], ...}`` and
                optionally ``key_frame_id`` / ``is_pseudo_video``.

        Returns:
            Dict of per-frame lists of length T plus ``key_frame_flags``.
        """
        frames = video_infos['images']
        video_length = len(frames)
        if video_length == 0:
            raise ValueError(f'video {video_infos.get("video_id")} has no frames')
        if video_infos.get('is_pseudo_video', False):
            indices, key_position = [0] * self.num_frames, 0
        else:
            key_frame_id = video_infos.get('key_frame_id')
            if key_frame_id is None:
                key_frame_id = self._random_key_frame(video_length)
            elif not 0 <= key_frame_id < video_length:
                raise ValueError(
                    f'key_frame_id {key_frame_id} is outside video '
                    f'{video_infos.get("video_id")} of {video_length} frames'
                )
            if video_length < self.num_frames:
                self._note_short_video(video_infos, video_length)
            indices = self._sample_indices(video_length, key_frame_id)
            key_position = indices.index(key_frame_id)
        key_frame_flags = [False] * self.num_frames
        key_frame_flags[key_position] = True
        if self.shuffle:
            order = self._random_order(self.num_frames)
            indices = [indices[i] for i in order]
            key_frame_flags = [key_frame_flags[i] for i in order]

        clip_video = dict(video_infos)
        # Copies, because a repeated frame must not share one dict between clip positions.
        clip_video['images'] = [copy.copy(frames[i]) for i in indices]
        if video_infos.get('is_pseudo_video', False):
            for position, frame in enumerate(clip_video['images']):
                frame['frame_id'] = position
        results = self.prepare_data(clip_video, list(range(self.num_frames)))
        results['key_frame_flags'] = key_frame_flags
        return results

    def __repr__(self) -> str:
        return (
            f'{type(self).__name__}(num_frames={self.num_frames}, '
            f'frame_range={list(self.frame_range)}, shuffle={self.shuffle}, '
            f'collect_video_keys={self.collect_video_keys})'
        )
