"""``inference_video``: windows, association across windows, per-frame results and their RLE."""

import numpy as np
import pycocotools.mask as mask_util
import pytest
import torch
import torch.nn as nn
from mmengine.config import Config
from mmengine.structures import InstanceData

from maskfreevis.apis import VideoSource, inference_video
from maskfreevis.apis.video_inference import associate_instances, select_instances

HEIGHT, WIDTH = 64, 96
RED, GREEN, BLUE = (0, 0, 255), (0, 255, 0), (255, 0, 0)  # BGR


class ColourOracleVIS(nn.Module):
    """A VIS model that segments pure-colour objects exactly, for testing what surrounds a model.

    Each call returns the objects' candidates in a fresh random order (so a window's own instance
    numbering says nothing about the previous window's), plus a lower-scoring duplicate of the
    first object under another class and a low-scoring candidate covering a random blob.
    """

    def __init__(self, colours, seed: int = 0) -> None:
        super().__init__()
        self.colours = colours
        self.rng = np.random.default_rng(seed)
        self.calls = []
        self.cfg = Config(
            dict(
                default_scope='mmdet',
                test_dataloader=dict(
                    dataset=dict(
                        pipeline=[
                            dict(
                                type='TransformBroadcaster',
                                transforms=[dict(type='LoadImageFromFile')],
                            ),
                            dict(type='PackTrackInputs'),
                        ]
                    )
                ),
            )
        )

    def test_step(self, data: dict) -> list:
        frames = data['inputs'][0].permute(0, 2, 3, 1)  # (T, H, W, 3) BGR
        self.calls.append(len(frames))
        colour_masks = [
            (frames == torch.tensor(c, dtype=frames.dtype)).all(-1) for c in self.colours
        ]
        masks = torch.stack(
            colour_masks + [colour_masks[0], torch.rand(frames.shape[:3]) > 0.7]
        )  # (K, T, H, W)
        scores = torch.tensor([0.9 - 0.1 * k for k in range(len(self.colours))] + [0.85, 0.1])
        labels = torch.tensor(list(range(len(self.colours))) + [2, 1])
        order = torch.from_numpy(self.rng.permutation(len(masks)))
        sample = data['data_samples'][0]
        for t, frame_sample in enumerate(sample.video_data_samples):
            frame_sample.pred_track_instances = InstanceData(
                masks=masks[order, t],
                scores=scores[order],
                labels=labels[order],
                instances_id=torch.arange(len(masks)),
            )
        return [sample]


def crossing_video(num_frames: int = 36) -> list:
    """Red moves right, green moves left (they cross mid-video), blue appears at frame 15."""
    frames = []
    for t in range(num_frames):
        frame = np.full((HEIGHT, WIDTH, 3), 128, np.uint8)
        frame[10:22, 2 * t : 2 * t + 12] = RED
        frame[14:26, 82 - 2 * t : 94 - 2 * t] = GREEN  # drawn later: in front where they cross
        if t >= 15:
            frame[40:52, 40 + t // 3 : 52 + t // 3] = BLUE
        frames.append(frame)
    return frames


def ids_by_colour(results, frames) -> dict:
    """{colour: set of ids given to the pixels of that colour}."""
    found = {}
    for result, frame in zip(results, frames):
        for colour in (RED, GREEN, BLUE):
            pixels = (frame == colour).all(-1)
            if not pixels.any():
                continue
            owners = [
                int(i) for i, m in zip(result.instance_ids, result.masks) if (m & pixels).any()
            ]
            assert len(owners) == 1, f'frame {result.frame_index}: {owners} cover {colour}'
            found.setdefault(colour, set()).add(owners[0])
    return found


@pytest.mark.parametrize('window, overlap', [(8, 2), (5, 1), (12, 4)])
def test_objects_crossing_window_boundaries_keep_their_ids(window, overlap):
    frames = crossing_video()
    model = ColourOracleVIS([RED, GREEN, BLUE])
    results = list(inference_video(model, frames, window=window, overlap=overlap))
    assert [r.frame_index for r in results] == list(range(len(frames)))
    assert max(model.calls) == window and len(model.calls) > 3
    found = ids_by_colour(results, frames)
    assert all(len(ids) == 1 for ids in found.values()), found
    assert len(set.union(*found.values())) == 3
    # the duplicate and the low-scoring blob are dropped: one instance per visible object
    for result, frame in zip(results, frames):
        visible = sum((frame == c).all(-1).any() for c in (RED, GREEN, BLUE))
        assert len(result.instance_ids) == visible


def test_windows_agree_with_the_whole_video():
    frames = crossing_video(20)
    whole = list(inference_video(ColourOracleVIS([RED, GREEN]), frames))
    windowed = list(inference_video(ColourOracleVIS([RED, GREEN], seed=3), frames, window=6))
    assert len(whole) == len(windowed) == 20
    for a, b in zip(whole, windowed):
        order_a, order_b = np.argsort(a.labels), np.argsort(b.labels)
        assert np.array_equal(a.masks[order_a], b.masks[order_b])
        assert np.allclose(a.bboxes[order_a], b.bboxes[order_b])


def test_frame_result_boxes_and_rle():
    frames = crossing_video(3)
    result = next(inference_video(ColourOracleVIS([RED]), frames))
    assert result.masks.shape == (1, HEIGHT, WIDTH) and result.masks.dtype == bool
    np.testing.assert_array_equal(result.bboxes, [[0, 10, 12, 22]])  # xyxy, exclusive right
    as_dict = result.to_dict(class_names=['red'])
    (entry,) = as_dict['instances']
    assert as_dict['frame_index'] == 0 and entry['class'] == 'red' and entry['label'] == 0
    rle = dict(size=entry['segmentation']['size'], counts=entry['segmentation']['counts'].encode())
    np.testing.assert_array_equal(mask_util.decode(rle).astype(bool), result.masks[0])


def test_select_instances_drops_low_empty_and_duplicate_candidates():
    masks = torch.zeros(5, 2, 8, 8, dtype=torch.bool)
    masks[0, :, :4, :4] = True
    masks[1, :, :4, :4] = True  # duplicate of 0, lower score
    masks[1, :, 4, :4] = True
    masks[2, :, 4:, 4:] = True  # low score
    masks[4, :, 4:, :4] = True
    scores = torch.tensor([0.8, 0.7, 0.2, 0.9, 0.6])  # 3 is empty
    assert select_instances(masks, scores, 0.3, 10).tolist() == [0, 4]
    assert select_instances(masks, scores, 0.3, 1).tolist() == [0]


def test_association_is_the_best_overall_assignment():
    # greedy on the best pair (0 with 0, IoU 0.6) would leave 1 without a match
    previous = torch.zeros(2, 1, 1, 10, dtype=torch.bool)
    current = torch.zeros(2, 1, 1, 10, dtype=torch.bool)
    previous[0, ..., 0:5] = True
    previous[1, ..., 3:6] = True
    current[0, ..., 2:5] = True  # IoU 0.6 with previous 0, 2/4 with previous 1
    current[1, ..., 0:2] = True  # IoU 0.4 with previous 0, 0 with previous 1
    old, new = associate_instances(previous, current, match_iou=0.3)
    assert sorted(zip(old.tolist(), new.tolist())) == [(0, 1), (1, 0)]
    old, new = associate_instances(previous, current, match_iou=0.45)
    assert list(zip(old.tolist(), new.tolist())) == [(1, 0)]


def test_bad_window_arguments():
    frames = crossing_video(3)
    with pytest.raises(ValueError, match='window must be at least 2'):
        next(inference_video(ColourOracleVIS([RED]), frames, window=1))
    with pytest.raises(ValueError, match=r'overlap must be at least 1 and less than the window'):
        next(inference_video(ColourOracleVIS([RED]), frames, window=4, overlap=4))


class CountingSource(VideoSource):
    """A frame list that counts how many frames were read."""

    def __init__(self, frames) -> None:
        super().__init__(frames)
        self.read = 0

    def _raw_frames(self):
        for frame in super()._raw_frames():
            self.read += 1
            yield frame


def test_frames_are_read_as_needed_and_results_streamed():
    source = CountingSource(crossing_video(60))
    results = inference_video(ColourOracleVIS([RED, GREEN]), source, window=8, overlap=2)
    first = next(results)
    assert first.frame_index == 0 and source.read <= 8 + 6  # one window and the next stride
    for result in results:
        assert source.read <= result.frame_index + 8 + 6
    assert source.read == 60


@pytest.mark.parametrize(
    'arguments, message',
    [
        (
            dict(window=8, overlap=-2),
            r'overlap must be at least 1 and less than the window \(8\), got -2',
        ),
        (
            dict(window=3, overlap=5),
            r'overlap must be at least 1 and less than the window \(3\), got 5',
        ),
        (dict(window=0), r'window must be at least 2 frames, got 0 \(the whole video at once'),
        (dict(window=4.5), r'window must be a whole number, got 4.5'),
        (dict(overlap=-1), r'overlap must be at least 0, got -1'),
        (dict(score_thr=1.5), r'score_thr must lie in \[0, 1\] \(a score\), got 1.5'),
        (dict(score_thr=float('nan')), r'score_thr must lie in \[0, 1\] \(a score\), got nan'),
        (dict(score_thr='0.3'), r"score_thr must be a number in \[0, 1\], got '0.3'"),
        (dict(max_instances=0), r'max_instances must be at least 1, got 0'),
        (dict(max_instances=-1), r'max_instances must be at least 1, got -1'),
        (dict(match_iou=0), r'match_iou must lie in \(0, 1\]'),
    ],
)
def test_bad_arguments_are_refused_when_called_before_any_frame_is_read(arguments, message):
    source = CountingSource(crossing_video(3))
    with pytest.raises(ValueError, match=message):
        inference_video(ColourOracleVIS([RED]), source, **arguments)
    assert source.read == 0


class RunsOutOfMemoryAbove(ColourOracleVIS):
    """The oracle, with an allocator that fails on passes of more than ``limit`` frames."""

    def __init__(self, limit: int) -> None:
        super().__init__([RED])
        self.limit = limit

    def test_step(self, data: dict) -> list:
        frames = len(data['inputs'][0])
        if frames > self.limit:
            raise RuntimeError(
                '[enforce fail at alloc_cpu.cpp:117] data. DefaultCPUAllocator: not enough '
                f'memory: you tried to allocate {frames * 10**9} bytes.'
            )
        return super().test_step(data)


def test_a_window_that_does_not_fit_names_itself_and_a_smaller_one():
    from maskfreevis.apis.inference import InferenceMemoryError

    frames = crossing_video(30)
    with pytest.raises(InferenceMemoryError) as error:
        list(inference_video(RunsOutOfMemoryAbove(limit=10), frames, window=16, overlap=2))
    text = str(error.value)
    assert 'a window of 16 frames of 96x64 (window=16) on cpu' in text
    assert 'window=8 (demo/video_demo.py: --window 8)' in text and '--window auto' in text
    assert 'DefaultCPUAllocator' in text and error.value.frames == 16
    with pytest.raises(InferenceMemoryError, match=r'the whole video \(30 frames of 96x64\)'):
        list(inference_video(RunsOutOfMemoryAbove(limit=10), frames))
    # the window it suggests runs
    assert len(list(inference_video(RunsOutOfMemoryAbove(limit=10), frames, window=8))) == 30
