#!/usr/bin/env bash
# The GPU check in one command, build included (at most 9 minutes on one H100 / H200, 16 cores):
# installs the carried wheels, builds mmcv's CUDA ops for the card, checks the CUDA
# MultiScaleDeformableAttention against the PyTorch path, and times the losses, a training step
# (R50 YouTube-VIS, 360p, T = 3 and 5, AMP) against stock Mask2Former-VIS, and inference_video.
# Writes gpu_check.json, gpu_check.md and gpu_check_logs.tar.gz into $OUT (or the folder given
# as --out), plus the built mmcv wheel for the next session to carry. The logic is
# projects/maskfreevis_demo/maskfreevis_demo/analysis/gpu_check.py (the demo's analyses); it
# puts the working tree's maskfreevis and maskfreevis_demo on PYTHONPATH, so nothing of this
# repository is installed there. docs/en/notes/gpu_check.md explains the report.
#
# Here, once (downloads into the git-ignored gpu_wheels/, about 10 MiB):
#   make gpu-wheels
# Then, from a session that has a GPU lent, the device tool's run call:
#   command: bash tools/analysis_tools/gpu_check.sh
#   carry:   ["gpu_wheels"]
#   timeout_s: 600
# Without CUDA it runs the small mode instead (tiny sizes; the CUDA-only steps are skipped):
#   bash tools/analysis_tools/gpu_check.sh --small
# Any other option is the module's
# (`python3 projects/maskfreevis_demo/maskfreevis_demo/analysis/gpu_check.py --help`).
set -u
cd "$(dirname "$0")/../.." || exit 1
PYTHON=${PYTHON:-python3}
export GPU_CHECK_COMMAND="bash tools/analysis_tools/gpu_check.sh $*"
# -P: run the file by its path without putting its folder on sys.path; the stack it installs
# is not importable yet, so it cannot be run as `-m maskfreevis_demo...`.
exec "$PYTHON" -P projects/maskfreevis_demo/maskfreevis_demo/analysis/gpu_check.py \
    --wheels gpu_wheels --out "${OUT:-work_dirs/gpu_check}" "$@"
