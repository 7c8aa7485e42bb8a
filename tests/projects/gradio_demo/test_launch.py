"""The Gradio web demo: its pieces on a tiny model, and the page end to end in headless Chromium."""

import importlib.util
import os.path as osp
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from types import ModuleType

import numpy as np
import pytest
import torch

pytest.importorskip('gradio', reason='the web demo needs gradio (requirements/optional.txt)')
pytest.importorskip('imageio_ffmpeg', reason='the web demo writes MP4 with imageio-ffmpeg')

from maskfreevis.apis import FrameResult, VideoSource, init_vis_model  # noqa: E402
from maskfreevis.visualization.video_file import VideoFileWriter  # noqa: E402
from maskfreevis_demo.datasets.real_imagery import CATEGORIES as REAL_IMAGERY_CATEGORIES  # noqa: E402
from maskfreevis_demo.datasets.synthetic import SyntheticVISSettings, render_video  # noqa: E402

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))
LAUNCH = osp.join(REPO_ROOT, 'projects', 'gradio_demo', 'launch.py')
CHROMIUM = shutil.which('chromium')
CHROMEDRIVER = shutil.which('chromedriver')


@pytest.fixture(scope='module')
def launch() -> ModuleType:
    spec = importlib.util.spec_from_file_location('gradio_demo_launch', LAUNCH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope='module')
def tiny_checkpoint(launch, tmp_path_factory) -> str:
    """The demo config's model, randomly initialised, saved as the package's checkpoints are
    (with the class names of the demo's real-imagery dataset)."""
    torch.manual_seed(0)
    model = init_vis_model(launch.DEFAULT_CONFIG)
    path = str(tmp_path_factory.mktemp('web_demo') / 'tiny.pth')
    classes = [category['name'] for category in REAL_IMAGERY_CATEGORIES]
    torch.save(
        dict(state_dict=model.state_dict(), meta=dict(dataset_meta=dict(classes=classes))), path
    )
    return path


@pytest.fixture(scope='module')
def tiny_model(launch, tiny_checkpoint) -> torch.nn.Module:
    return init_vis_model(launch.DEFAULT_CONFIG, tiny_checkpoint)


@pytest.fixture(scope='module')
def short_clip(launch, tmp_path_factory) -> str:
    """8 generated frames of 64 x 96 as an H.264 MP4 at 4 fps."""
    frames, _, _ = render_video(np.random.default_rng(1), SyntheticVISSettings(num_frames=8))
    path = str(tmp_path_factory.mktemp('web_demo_clip') / 'shapes.mp4')
    with VideoFileWriter(path, fps=4.0, codec='avc1') as writer:  # 2 s: playback seen mid-way
        for frame in frames:
            writer.write(frame)
    return path


def _frame_result(frame_index: int, masks: np.ndarray, **columns) -> FrameResult:
    return FrameResult(
        frame_index=frame_index,
        instance_ids=np.array(columns['ids']),
        labels=np.array(columns['labels']),
        scores=np.array(columns['scores'], np.float32),
        bboxes=np.zeros((len(masks), 4), np.float32),
        masks=masks,
    )


def test_instance_table_counts_the_frames_each_instance_is_in(launch):
    table = launch.InstanceTable(['a', 'b', 'c', 'd'])
    mask = np.zeros((8, 8), bool)
    mask[1:3, 1:3] = True
    empty = np.zeros((8, 8), bool)
    table.add(_frame_result(0, np.stack([mask]), ids=[4], labels=[1], scores=[0.5]))
    # id 6 is listed with an empty mask in frame 1: not present there
    table.add(
        _frame_result(1, np.stack([mask, empty]), ids=[4, 6], labels=[1, 3], scores=[0.5, 0.7])
    )
    # a later window scores id 4 higher with another class: the best frame's class is kept
    table.add(
        _frame_result(2, np.stack([mask, mask]), ids=[4, 6], labels=[2, 3], scores=[0.9, 0.6])
    )
    table.add(_frame_result(3, np.zeros((0, 8, 8), bool), ids=[], labels=[], scores=[]))
    assert table.rows() == [[4, 'c', 0.9, 3, 0, 2], [6, 'd', 0.6, 1, 2, 2]]
    assert launch.InstanceTable(['a']).rows() == []


def test_segment_video_writes_the_drawn_mp4_and_lists_what_is_drawn(
    launch, tiny_model, short_clip, tmp_path
):
    out_path, rows, summary = launch.segment_video(
        tiny_model, short_clip, str(tmp_path), score_thr=0.0
    )
    decoded = list(VideoSource(out_path))
    assert len(decoded) == 8 and decoded[0].shape[0] >= launch.MIN_DRAWN_HEIGHT  # magnified
    assert rows, 'score_thr=0 keeps every non-empty instance'
    ids = [row[0] for row in rows]
    assert len(set(ids)) == len(ids)
    assert all(row[1] in tiny_model.dataset_meta['classes'] and 1 <= row[3] <= 8 for row in rows)
    assert [row[2] for row in rows] == sorted((row[2] for row in rows), reverse=True)
    assert f'{len(rows)} instance(s)' in summary and '8 frames of 96x64' in summary
    assert '(one pass)' in summary  # 'auto': a short video is one forward pass

    # windows of 6 frames sharing 4, and only the first 6 frames
    out_path, rows, summary = launch.segment_video(
        tiny_model, short_clip, str(tmp_path), score_thr=0.0, window=6, max_frames=6
    )
    assert len(list(VideoSource(out_path))) == 6 and 'only the first 6 frames' in summary
    assert '(windows of 6 sharing 4)' in summary
    assert rows and all(row[4] <= row[5] <= 5 for row in rows)


def test_auto_window_is_sized_from_the_free_memory_of_the_models_device(
    launch, tiny_model, short_clip, tmp_path, monkeypatch
):
    from maskfreevis.apis.video_demo import MEMORY_SHARE

    cost = launch.frame_memory_cost(tiny_model.cfg, VideoSource(short_clip).frame_size)
    asked = []

    def memory_for(frames: int):
        def available(device):
            asked.append(device)
            return int(frames * cost / MEMORY_SHARE) + 1, 'test'

        return available

    monkeypatch.setattr(launch, 'available_memory', memory_for(5))
    out_path, rows, summary = launch.segment_video(
        tiny_model, short_clip, str(tmp_path), score_thr=0.0
    )
    assert asked == ['cpu']
    assert '(windows of 5 sharing 2)' in summary  # the 8 frames do not fit at once
    assert len(list(VideoSource(out_path))) == 8
    monkeypatch.setattr(launch, 'available_memory', memory_for(1))
    with pytest.raises(MemoryError, match='not even 2 frames fit in the free memory'):
        launch.segment_video(tiny_model, short_clip, str(tmp_path))


def test_bad_inputs_are_named(launch, tmp_path, tiny_checkpoint, tiny_model):
    not_a_video = tmp_path / 'notes.mp4'
    not_a_video.write_text('not a video')
    with pytest.raises(ValueError, match='notes.mp4'):
        launch.segment_video(tiny_model, str(not_a_video), str(tmp_path))
    missing = str(tmp_path / 'missing.pth')
    with pytest.raises(SystemExit):
        launch.parse_args([launch.DEFAULT_CONFIG, missing])
    for option, value in (('--max-frames', '0'), ('--window', '4'), ('--window', 'all')):
        with pytest.raises(SystemExit):
            launch.parse_args([launch.DEFAULT_CONFIG, tiny_checkpoint, option, value])


def test_the_page_turns_bad_uploads_into_messages(
    launch, tiny_model, tiny_checkpoint, short_clip, tmp_path
):
    import gradio as gr

    args = launch.parse_args([launch.DEFAULT_CONFIG, tiny_checkpoint])
    with gr.Blocks():
        tab = launch.VideoSegmentationTab(tiny_model, [short_clip], args)
    with pytest.raises(gr.Error, match='Upload a video'):
        tab.inference(None)
    not_a_video = tmp_path / 'holiday.mp4'
    not_a_video.write_bytes(b'\x00' * 100)
    with pytest.raises(gr.Error, match='holiday.mp4'):
        tab.inference(str(not_a_video))


def test_a_checkpoint_of_another_model_is_refused_naming_it(launch, tmp_path, capsys):
    path = tmp_path / 'other.pth'
    torch.save(dict(state_dict={'backbone.conv1.weight': torch.zeros(3, 3)}), path)
    with pytest.raises(SystemExit):
        launch.main([launch.DEFAULT_CONFIG, str(path)])
    assert 'other.pth' in capsys.readouterr().err


def test_missing_default_checkpoint_says_how_to_make_it(launch, capsys, monkeypatch, tmp_path):
    monkeypatch.setattr(launch, 'DEFAULT_CHECKPOINT', str(tmp_path / 'iter_800.pth'))
    with pytest.raises(SystemExit):
        launch.parse_args([launch.DEFAULT_CONFIG, launch.DEFAULT_CHECKPOINT])
    assert 'make demo' in capsys.readouterr().err


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def _wait_for_page(url: str, server: subprocess.Popen, log: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            with open(log) as handle:
                raise AssertionError(f'the app exited with {server.returncode}:\n{handle.read()}')
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise AssertionError(f'the app did not answer on {url} within {timeout:.0f} s')


@pytest.mark.slow
@pytest.mark.skipif(
    CHROMIUM is None or CHROMEDRIVER is None,
    reason="needs Debian's chromium and chromium-driver (apt-get install chromium chromium-driver)",
)
def test_upload_in_a_real_browser_gives_a_playing_result_video(
    launch, tiny_checkpoint, short_clip, tmp_path
):
    webdriver = pytest.importorskip('selenium.webdriver', reason='needs selenium')
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    port = _free_port()
    url = f'http://127.0.0.1:{port}/'
    log = str(tmp_path / 'app.log')
    log_file = open(log, 'w')
    server = subprocess.Popen(
        [
            sys.executable,
            LAUNCH,
            launch.DEFAULT_CONFIG,
            tiny_checkpoint,
            '--device',
            'cpu',
            '--score-thr',
            '0',
            '--port',
            str(port),
            '--examples-dir',
            str(tmp_path / 'examples'),
        ],
        stdout=log_file,  # a file, not a pipe: a full pipe would block the app
        stderr=subprocess.STDOUT,
    )
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in (
        '--headless=new',
        '--no-sandbox',
        '--disable-dev-shm-usage',
        '--disable-gpu',
        '--autoplay-policy=no-user-gesture-required',
        '--window-size=1280,1600',
    ):
        options.add_argument(argument)
    driver = None
    try:
        _wait_for_page(url, server, log, timeout=60)  # imports take ~8 s on a busy machine
        # the Debian driver by path: selenium must not go looking for (or download) another
        driver = webdriver.Chrome(
            options=options, service=webdriver.ChromeService(executable_path=CHROMEDRIVER)
        )
        # gradio re-renders a component when its value changes: an element found in one poll
        # can be gone before its attribute is read, so such a poll must simply be retried
        wait = WebDriverWait(driver, 60, ignored_exceptions=(StaleElementReferenceException,))
        driver.get(url)
        upload = wait.until(
            lambda d: d.find_element(By.CSS_SELECTOR, '#input_video input[type=file]')
        )
        upload.send_keys(short_clip)
        wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, '#input_video video'))
        driver.find_element(By.ID, 'run_button').click()
        video = wait.until(
            lambda d: next(
                (
                    v
                    for v in d.find_elements(By.CSS_SELECTOR, '#result_video video')
                    if v.get_attribute('src')
                ),
                None,
            )
        )
        wait.until(lambda d: d.execute_script('return arguments[0].readyState', video) >= 2)
        duration = driver.execute_script('return arguments[0].duration', video)
        played = driver.execute_async_script(
            """
            const [video, done] = arguments;
            video.muted = true;
            const start = video.currentTime;
            video.play().then(
                () => setTimeout(() => done({start, now: video.currentTime, error: null}), 1000),
                (error) => done({start, now: video.currentTime, error: String(error)}));
            """,
            video,
        )
        table = driver.find_element(By.ID, 'instance_table').text
        # a bundled example replaces the input video
        driver.find_element(By.CSS_SELECTOR, '#examples button').click()
        example_src = wait.until(
            lambda d: next(
                (
                    v.get_attribute('src')
                    for v in d.find_elements(By.CSS_SELECTOR, '#input_video video')
                    if 'generated_real_imagery' in (v.get_attribute('src') or '')
                ),
                None,
            )
        )
    finally:
        if driver is not None:
            driver.quit()
        server.terminate()
        server.wait(timeout=10)
        log_file.close()
    assert duration > 0
    assert played['error'] is None and played['now'] > played['start'], played
    assert any(category['name'] in table for category in REAL_IMAGERY_CATEGORIES), table
    assert example_src.endswith('.mp4')
