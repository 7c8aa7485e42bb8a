"""Train a model from a config: ``python tools/train.py CONFIG [--work-dir DIR] [--resume [CKPT]] ...``.

Works for single-process CPU/GPU training and, with ``--launcher pytorch`` (``tools/dist_train.sh``,
torchrun) or ``--launcher slurm``, for distributed data-parallel training with mmengine.
``tools/test.py`` shares the argument and config handling defined here.
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


def add_common_args(parser: argparse.ArgumentParser) -> None:
    """Arguments shared by ``train.py`` and ``test.py``."""
    parser.add_argument('--work-dir', help='the dir to save logs, checkpoints and results')
    parser.add_argument(
        '--cfg-options', nargs='+', action=DictAction,
        help='override settings of the config, key=value pairs (e.g. train_cfg.max_iters=10)')
    parser.add_argument(
        '--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'], default='none',
        help='job launcher')
    # torchrun sets LOCAL_RANK; the deprecated torch.distributed.launch (used by `mim train --gpus`)
    # passes --local_rank or --local-rank.
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)


def parse_launch_args(parser: argparse.ArgumentParser) -> argparse.Namespace:
    """Parse the command line; export ``LOCAL_RANK`` when a legacy launcher passed it as flag."""
    args = parser.parse_args()
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    return args


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Train a MaskFreeVIS (or any mmdet) model')
    parser.add_argument('config', help='train config file path')
    parser.add_argument('--amp', action='store_true', help='enable automatic mixed precision')
    parser.add_argument(
        '--resume', nargs='?', type=str, const='auto',
        help='resume from CKPT; without a value, resume from the latest checkpoint in the work_dir')
    add_common_args(parser)
    return parse_launch_args(parser)


def load_config(args: argparse.Namespace) -> Config:
    """Load ``args.config`` and apply ``--cfg-options``, ``--work-dir`` and ``--launcher``."""
    cfg = Config.fromfile(args.config)
    cfg.launcher = args.launcher
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir', None) is None:
        cfg.work_dir = osp.join('./work_dirs', osp.splitext(osp.basename(args.config))[0])
    ensure_checkpoint_trust_hook(cfg)
    return cfg


def build_config(args: argparse.Namespace) -> Config:
    """The training config: :func:`load_config` plus ``--amp`` and ``--resume``."""
    cfg = load_config(args)
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
    return cfg


def ensure_checkpoint_trust_hook(cfg: Config) -> None:
    """Add ``CheckpointTrustHook`` when the config lacks it, so ``--resume`` works under torch>=2.6."""
    custom_hooks = list(cfg.get('custom_hooks', None) or [])
    if not any(hook.get('type') == 'CheckpointTrustHook' for hook in custom_hooks):
        custom_hooks.append(dict(type='CheckpointTrustHook'))
    cfg.custom_hooks = custom_hooks


def build_runner(cfg: Config) -> Runner:
    """Set up distributed training if asked (also on CPU-only machines) and build the Runner."""
    setup_cpu_distributed(cfg)
    return RUNNERS.build(cfg) if 'runner_type' in cfg else Runner.from_cfg(cfg)


def main() -> None:
    build_runner(build_config(parse_args())).train()


if __name__ == '__main__':
    main()
