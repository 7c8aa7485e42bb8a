"""``maskfreevis.apis.video_demo``: output checks, atomic outputs, and the window ``auto`` picks."""

import json
import os
import os.path as osp
import signal
import subprocess
import sys

import numpy as np
import pytest
from mmengine.config import Config

from maskfreevis.apis.video_demo import (
    AUTO_WINDOW,
    BYTES_PER_FRAME_PIXEL,
    BYTES_PER_INPUT_PIXEL,
    WHOLE_VIDEO_MAX_FRAMES,
    _interrupts_held_back,
    auto_window,
    available_memory,
    check_outputs,
    choose_window,
    frame_memory_cost,
    model_input_size,
    run_video_demo,
)
from tests.apis.test_inference import tiny_vis_config

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
R50_CONFIG = osp.join(REPO_ROOT, 'configs/maskfreevis/maskfreevis_r50_8xb2-6k_youtubevis2019.py')
DEMO_CONFIG = osp.join(REPO_ROOT, 'configs/maskfreevis/maskfreevis_r18_1xb4-800iter_synthetic.py')
MiB = 2**20


def test_choose_window_without_memory_figures_keeps_its_rule():
    assert choose_window(WHOLE_VIDEO_MAX_FRAMES, 'auto') is None
    assert choose_window(WHOLE_VIDEO_MAX_FRAMES + 1, 'auto') == AUTO_WINDOW
    assert choose_window(None, 'auto') == AUTO_WINDOW  # a video file whose length is unknown
    assert choose_window(500, 0) is None and choose_window(500, None) is None
    assert choose_window(500, 12) == 12


def test_auto_window_is_what_half_the_free_memory_holds():
    # 1 GiB free, 100 MiB per frame: 5 frames fit
    assert auto_window(3, 100 * MiB, 1024 * MiB) == (None, 5)
    assert auto_window(40, 100 * MiB, 1024 * MiB) == (5, 5)
    assert auto_window(None, 100 * MiB, 1024 * MiB) == (5, 5)
    # plenty of memory: the usual rule
    assert auto_window(40, 1 * MiB, 64 * 1024 * MiB) == (None, 32768)
    assert auto_window(400, 1 * MiB, 64 * 1024 * MiB) == (AUTO_WINDOW, 32768)
    with pytest.raises(MemoryError, match=r'not even 2 frames fit .*--window 2'):
        auto_window(40, 600 * MiB, 1024 * MiB)
    assert choose_window(40, 'auto', 100 * MiB, 1024 * MiB) == 5


def test_model_input_size_follows_the_test_pipeline():
    r50 = Config.fromfile(R50_CONFIG)  # Resize (1333, 360) keep_ratio, padding to 32
    assert model_input_size(r50, (2160, 3840)) == (384, 640)
    assert model_input_size(r50, (360, 640)) == (384, 640)
    assert model_input_size(r50, (1080, 1080)) == (384, 384)
    demo = Config.fromfile(DEMO_CONFIG)  # Resize (96, 64) keep_ratio: 96 x 54, padded to 32
    assert model_input_size(demo, (1080, 1920)) == (64, 96)


def test_frame_cost_is_the_frame_part_plus_the_model_input_part():
    r50, demo = Config.fromfile(R50_CONFIG), Config.fromfile(DEMO_CONFIG)
    cost_360p, cost_4k = frame_memory_cost(r50, (360, 640)), frame_memory_cost(r50, (2160, 3840))
    # the model's input is the same 640 x 384: the difference is the original-size part
    assert cost_4k - cost_360p == pytest.approx(
        BYTES_PER_FRAME_PIXEL * (2160 * 3840 - 360 * 640), 1
    )
    assert cost_360p == pytest.approx(
        BYTES_PER_FRAME_PIXEL * 360 * 640 + BYTES_PER_INPUT_PIXEL * 384 * 640, abs=1
    )
    # the demo model sees 96 x 64: far less per frame than ResNet-50 at 640 x 384
    assert frame_memory_cost(demo, (360, 640)) < cost_360p / 10


def test_available_memory_heeds_an_address_space_limit():
    free, where = available_memory('cpu')
    assert free > 0 and 'GiB' in where
    script = (
        'import resource\n'
        'from maskfreevis.apis.video_demo import available_memory, _process_vm_size\n'
        'limit = _process_vm_size() + 300 * 2**20\n'
        'resource.setrlimit(resource.RLIMIT_AS, (limit, resource.RLIM_INFINITY))\n'
        'free, where = available_memory("cpu")\n'
        'print(free // 2**20, where)\n'
    )
    result = subprocess.run(
        [sys.executable, '-c', script], capture_output=True, text=True, cwd=REPO_ROOT, check=True
    )
    mib, where = result.stdout.split(maxsplit=1)
    assert 200 < int(mib) <= 300 and 'address-space limit (ulimit -v)' in where


@pytest.fixture()
def inputs(tmp_path):
    video = tmp_path / 'in.mp4'
    video.write_bytes(b'stands for the input video')
    config = tmp_path / 'model.py'
    config.write_text('model = dict()')
    checkpoint = tmp_path / 'model.pth'
    checkpoint.write_bytes(b'weights')
    return str(video), str(config), str(checkpoint)


def test_an_output_that_is_an_input_is_refused_however_it_is_spelt(inputs, tmp_path, monkeypatch):
    video, config, checkpoint = inputs
    os.symlink(video, tmp_path / 'link.mp4')
    os.link(video, tmp_path / 'hard.mp4')
    monkeypatch.chdir(tmp_path / '..')
    relative = osp.join(osp.basename(tmp_path), '.', 'in.mp4')
    for out in (video, str(tmp_path / 'link.mp4'), str(tmp_path / 'hard.mp4'), relative):
        with pytest.raises(ValueError, match=r'is the input video .*would destroy the input'):
            check_outputs(video, config, checkpoint, out)
    # reading through the link, writing the real file
    with pytest.raises(ValueError, match='is the input video'):
        check_outputs(str(tmp_path / 'link.mp4'), config, checkpoint, video)
    with pytest.raises(ValueError, match=r"--out-json '.*model.py' is the config"):
        check_outputs(
            video,
            config,
            checkpoint,
            str(tmp_path / 'o.mp4'),
            config,
            names={'out_json': '--out-json'},
        )
    renamed = str(tmp_path / 'model.mp4')
    os.link(checkpoint, renamed)
    with pytest.raises(ValueError, match=r'is the checkpoint'):
        check_outputs(video, config, checkpoint, renamed)
    frames = [str(tmp_path / 'in.mp4')]
    with pytest.raises(ValueError, match=r'is input frame 0'):
        check_outputs(frames, config, checkpoint, video)


def test_the_two_outputs_must_differ_and_suit_their_contents(inputs, tmp_path):
    video, config, checkpoint = inputs
    out = str(tmp_path / 'x.mp4')
    names = dict(out_video='--out', out_json='--out-json')
    with pytest.raises(ValueError, match=r'--out-json and --out are the same file'):
        check_outputs(
            video, config, checkpoint, out, str(tmp_path / 'sub' / '..' / 'x.mp4'), names=names
        )
    with pytest.raises(ValueError, match=r"--out-json '.*y.mp4' has a video / image extension"):
        check_outputs(video, config, checkpoint, out, str(tmp_path / 'y.mp4'), names=names)
    (tmp_path / 'results').mkdir()
    with pytest.raises(IsADirectoryError, match=r'--out-json .* is a folder'):
        check_outputs(video, config, checkpoint, out, str(tmp_path / 'results'), names=names)
    with pytest.raises(ValueError, match=r"--out '.*result' has no extension"):
        check_outputs(video, config, checkpoint, str(tmp_path / 'result'), names=names)
    with pytest.raises(ValueError, match=r'--fps must be a positive number .* got 0'):
        check_outputs(video, config, checkpoint, out, fps=0, names=dict(names, fps='--fps'))
    (tmp_path / 'a_file').write_text('x')
    with pytest.raises(
        NotADirectoryError, match=r"--out .*: cannot create its folder, '.*a_file' is a file"
    ):
        check_outputs(video, config, checkpoint, str(tmp_path / 'a_file' / 'x.mp4'), names=names)
    check_outputs(video, config, checkpoint, out, str(tmp_path / 'new' / 'x.json'))  # fine
    assert not osp.exists(tmp_path / 'new')  # checking creates nothing


def test_an_output_folder_that_cannot_be_written_is_refused(inputs, tmp_path):
    video, config, checkpoint = inputs
    if os.geteuid() != 0:
        locked = tmp_path / 'locked'
        locked.mkdir()
        locked.chmod(0o500)
        folder = str(locked)
    else:  # root writes anywhere permissions allow; a read-only file system still refuses
        folder = '/sys'
        if os.access(folder, os.W_OK) and osp.ismount(folder) is False:
            pytest.skip('no unwritable folder to try as root')
    with pytest.raises(PermissionError, match=r"cannot write into '.*'"):
        check_outputs(video, config, checkpoint, osp.join(folder, 'x.mp4'))


@pytest.fixture()
def ctrl_c_raises():
    """Python's own SIGINT handler, whatever this process started with (a background job starts
    with SIGINT ignored)."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)


def test_interrupts_are_held_back_until_the_block_ends(ctrl_c_raises):
    steps = []
    with pytest.raises(KeyboardInterrupt):
        with _interrupts_held_back():
            os.kill(os.getpid(), signal.SIGINT)
            steps.append('first rename')
            steps.append('second rename')
    assert steps == ['first rename', 'second rename']
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_an_ignored_interrupt_stays_ignored():
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        with _interrupts_held_back():
            os.kill(os.getpid(), signal.SIGINT)
        assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
    finally:
        signal.signal(signal.SIGINT, previous)


def test_a_failure_midway_keeps_both_earlier_outputs_and_leaves_no_partial_file(tmp_path):
    """The sixth frame is broken: the run fails after writing five frames into its partial files;
    the earlier video and json stay as they were, and the folder holds nothing else."""
    frames = [np.full((40, 56, 3), 10 * k, np.uint8) for k in range(8)]
    out, out_json = str(tmp_path / 'out.mp4'), str(tmp_path / 'out.json')
    run_video_demo(
        frames, tiny_vis_config(), None, out, out_json, window=4, overlap=1, progress=False
    )
    earlier = open(out, 'rb').read(), open(out_json, 'rb').read()
    assert json.loads(earlier[1])['frames_decoded'] == 8
    broken = frames[:5] + [np.zeros((40, 56, 3), np.float32)] + frames[6:]
    with pytest.raises(ValueError, match=r'frame 5 of the frame list is float32'):
        run_video_demo(
            broken, tiny_vis_config(), None, out, out_json, window=4, overlap=1, progress=False
        )
    assert (open(out, 'rb').read(), open(out_json, 'rb').read()) == earlier
    assert sorted(os.listdir(tmp_path)) == ['out.json', 'out.mp4']


def test_results_json_records_what_was_decoded(tmp_path):
    frames = [np.full((40, 56, 3), 10 * k, np.uint8) for k in range(3)]
    out_json = str(tmp_path / 'out.json')
    summary = run_video_demo(
        frames, tiny_vis_config(), None, str(tmp_path / 'out.mp4'), out_json, progress=False, fps=4
    )
    with open(out_json) as handle:
        results = json.load(handle)
    assert results['fps'] == 4 and results['window'] is None and results['overlap'] is None
    assert (results['frames_decoded'], results['frames_listed'], results['warnings']) == (3, 3, [])
    assert summary['warnings'] == [] and summary['window_reason'].startswith('auto: ~')


def test_an_interrupt_while_the_outputs_are_put_in_place_leaves_both_new(
    tmp_path, monkeypatch, ctrl_c_raises
):
    """Ctrl-C arriving between the two renames takes effect after the second: the video and
    the json are both the new ones, and the interrupt says so."""
    from maskfreevis.visualization.video_file import VideoFileWriter

    commit = VideoFileWriter.commit

    def commit_then_ctrl_c(self):
        os.kill(os.getpid(), signal.SIGINT)  # held back until both are in place
        commit(self)

    monkeypatch.setattr(VideoFileWriter, 'commit', commit_then_ctrl_c)
    frames = [np.full((40, 56, 3), 10 * k, np.uint8) for k in range(3)]
    out, out_json = str(tmp_path / 'out.mp4'), str(tmp_path / 'out.json')
    with pytest.raises(KeyboardInterrupt) as interrupt:
        run_video_demo(frames, tiny_vis_config(), None, out, out_json, progress=False)
    assert interrupt.value.outputs_complete
    with open(out_json) as handle:
        assert json.load(handle)['frames_decoded'] == 3
    assert sorted(os.listdir(tmp_path)) == ['out.json', 'out.mp4']
