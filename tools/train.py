"""Train a model from a config: ``python tools/train.py CONFIG [--work-dir DIR] [--resume [CKPT]] ...``.

Works for single-process CPU/GPU training and, with ``--launcher pytorch`` (``tools/dist_train.sh``,
torchrun) or ``--launcher slurm``, for distributed data-parallel training with mmengine.
"""
import argparse
import os
import os.path as osp

from mmengine.config import Config, DictAction
from mmengine.registry import RUNNERS
from mmengine.runner import Runner

# Registers the plugin's classes, the checkpoint-trust hook and the compat fixes even for configs
# that do not list it in `custom_imports`.
import maskfreevis  # noqa: F401
from maskfreevis.utils import setup_cpu_distributed


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Train a MaskFreeVIS (or any mmdet) model')
    parser.add_argument('config', help='train config file path')
    parser.add_argument('--work-dir', help='the dir to save logs and checkpoints')
    parser.add_argument('--amp', action='store_true', help='enable automatic mixed precision')
    parser.add_argument(
        '--resume', nargs='?', type=str, const='auto',
        help='resume from CKPT; without a value, resume from the latest checkpoint in the work_dir')
    parser.add_argument(
        '--cfg-options', nargs='+', action=DictAction,
        help='override settings of the config, key=value pairs (e.g. train_cfg.max_iters=10)')
    parser.add_argument(
        '--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'], default='none',
        help='job launcher')
    # torchrun sets LOCAL_RANK; the deprecated torch.distributed.launch (used by `mim train --gpus`)
    # passes --local_rank or --local-rank.
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args()
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    return args


def build_config(args: argparse.Namespace) -> Config:
    """Load the config and apply the command-line overrides."""
    cfg = Config.fromfile(args.config)
    cfg.launcher = args.launcher
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir', None) is None:
        cfg.work_dir = osp.join('./work_dirs', osp.splitext(osp.basename(args.config))[0])
    if args.amp:
        optim_wrapper = cfg.optim_wrapper.get('type', 'OptimWrapper')
        if optim_wrapper != 'AmpOptimWrapper':
            cfg.optim_wrapper.type = 'AmpOptimWrapper'
            cfg.optim_wrapper.setdefault('loss_scale', 'dynamic')
    if args.resume == 'auto':
        cfg.resume = True
        cfg.load_from = None
    elif args.resume is not None:
        cfg.resume = True
        cfg.load_from = args.resume
    ensure_checkpoint_trust_hook(cfg)
    return cfg


def ensure_checkpoint_trust_hook(cfg: Config) -> None:
    """Add ``CheckpointTrustHook`` when the config lacks it, so ``--resume`` works under torch>=2.6."""
    custom_hooks = list(cfg.get('custom_hooks', None) or [])
    if not any(hook.get('type') == 'CheckpointTrustHook' for hook in custom_hooks):
        custom_hooks.append(dict(type='CheckpointTrustHook'))
    cfg.custom_hooks = custom_hooks


def main() -> None:
    args = parse_args()
    cfg = build_config(args)
    setup_cpu_distributed(cfg)
    if 'runner_type' in cfg:
        runner = RUNNERS.build(cfg)
    else:
        runner = Runner.from_cfg(cfg)
    runner.train()


if __name__ == '__main__':
    main()
