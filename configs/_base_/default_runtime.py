# Runtime of every config: mmdet's default runtime (default_scope 'mmdet', hooks, environment)
# with the plugin imported, iteration-based checkpoints and logs, the video visualiser and the
# release's seed. `build_runner` (tools/train.py, tools/test.py) adds CheckpointTrustHook.
_base_ = 'mmdet::_base_/default_runtime.py'

custom_imports = dict(imports=['maskfreevis'], allow_failed_imports=False)
randomness = dict(seed=29118357)

default_hooks = dict(
    checkpoint=dict(by_epoch=False, save_last=True, interval=2000),
    visualization=dict(type='TrackVisualizationHook', draw=False),
)
vis_backends = [dict(type='LocalVisBackend')]
visualizer = dict(type='TrackLocalVisualizer', vis_backends=vis_backends, name='visualizer')
log_processor = dict(by_epoch=False)
