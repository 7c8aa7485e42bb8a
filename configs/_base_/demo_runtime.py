# Runtime of the CPU demo configs: ./default_runtime.py with a log line every 10 iterations and a
# checkpoint every 100 (so an interrupted run resumes with `--resume`; only the newest is kept).
_base_ = './default_runtime.py'

default_hooks = dict(
    logger=dict(interval=10),
    checkpoint=dict(interval=100, max_keep_ckpts=1),
)
log_processor = dict(window_size=10)
randomness = dict(seed=0)
