# Runtime of every config: mmdet's default runtime (default_scope 'mmdet', hooks, environment)
# with the plugin imported, iteration-based checkpoints and logs, the video visualiser and the
# release's seed. Everything that runs is declared here (Runner.from_cfg gets the same):
# - runner_type: CheckpointPolicyRunner reads checkpoints weights-only, naming a refused file, and
#   honours `trusted_checkpoints`; `--resume` falls back to the newest iter_N.pth;
# - SafeCheckpointHook: atomic checkpoints that load weights-only, old ones removed last, one
#   saved when SIGINT / SIGTERM stops training (the schedules' InterruptibleIterBasedTrainLoop);
# - WorkDirGuardHook: no fresh run over an earlier run's checkpoints (`overwrite_work_dir = True`
#   allows it), one training run per work_dir (training.lock);
# - CheckpointMatchHook: a checkpoint that does not fit the model is refused
#   (`allow_partial_checkpoint = True` loads what fits), and so is testing it on a dataset of other
#   classes, or validating on other classes than training (`allow_class_mismatch = True` scores);
# - DivergenceHook: a diverging run stops, naming the iteration, before its weights are saved.
_base_ = 'mmdet::_base_/default_runtime.py'

custom_imports = dict(imports=['maskfreevis'], allow_failed_imports=False)
randomness = dict(seed=29118357)
runner_type = 'CheckpointPolicyRunner'

default_hooks = dict(
    checkpoint=dict(type='SafeCheckpointHook', by_epoch=False, save_last=True, interval=2000),
    visualization=dict(type='TrackVisualizationHook', draw=False),
)
custom_hooks = [
    dict(type='WorkDirGuardHook'),
    dict(type='CheckpointMatchHook'),
    dict(type='DivergenceHook'),
]
vis_backends = [dict(type='LocalVisBackend')]
visualizer = dict(type='TrackLocalVisualizer', vis_backends=vis_backends, name='visualizer')
log_processor = dict(by_epoch=False)
