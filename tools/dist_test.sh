#!/usr/bin/env bash
# Distributed testing with torchrun: tools/dist_test.sh CONFIG CHECKPOINT NUM_PROCS [test.py args...]
set -euo pipefail
CONFIG=${1:-}
CHECKPOINT=${2:-}
NUM_PROCS=${3:-}
NNODES=${NNODES:-1}
NODE_RANK=${NODE_RANK:-0}
PORT=${PORT:-29500}
MASTER_ADDR=${MASTER_ADDR:-"127.0.0.1"}
TOOLS_DIR=$(cd "$(dirname "$0")" && pwd)
if ! [[ "$NUM_PROCS" =~ ^[1-9][0-9]*$ ]]; then
    echo "$(basename "$0"): error: NUM_PROCS must be a positive number of processes, got '$NUM_PROCS' (usage: tools/dist_test.sh CONFIG CHECKPOINT NUM_PROCS [test.py args...])" >&2
    exit 2
fi

python -m torch.distributed.run \
    --nnodes="$NNODES" \
    --node_rank="$NODE_RANK" \
    --master_addr="$MASTER_ADDR" \
    --nproc_per_node="$NUM_PROCS" \
    --master_port="$PORT" \
    "$TOOLS_DIR/test.py" \
    "$CONFIG" \
    "$CHECKPOINT" \
    --launcher pytorch "${@:4}"
