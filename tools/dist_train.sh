#!/usr/bin/env bash
# Distributed (DDP) training with torchrun: tools/dist_train.sh CONFIG NUM_PROCS [train.py args...]
# Multi-node: set NNODES, NODE_RANK, MASTER_ADDR (and PORT) on every node.
set -euo pipefail
CONFIG=${1:-}
NUM_PROCS=${2:-}
NNODES=${NNODES:-1}
NODE_RANK=${NODE_RANK:-0}
PORT=${PORT:-29500}
MASTER_ADDR=${MASTER_ADDR:-"127.0.0.1"}
TOOLS_DIR=$(cd "$(dirname "$0")" && pwd)
if ! [[ "$NUM_PROCS" =~ ^[1-9][0-9]*$ ]]; then
    echo "$(basename "$0"): error: NUM_PROCS must be a positive number of processes, got '$NUM_PROCS' (usage: tools/dist_train.sh CONFIG NUM_PROCS [train.py args...])" >&2
    exit 2
fi

python -m torch.distributed.run \
    --nnodes="$NNODES" \
    --node_rank="$NODE_RANK" \
    --master_addr="$MASTER_ADDR" \
    --nproc_per_node="$NUM_PROCS" \
    --master_port="$PORT" \
    "$TOOLS_DIR/train.py" \
    "$CONFIG" \
    --launcher pytorch "${@:3}"
