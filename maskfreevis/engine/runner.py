"""The package's Runner (named by the configs' ``runner_type``) and :func:`build_runner`.

What runs is what the config declares: the hooks in ``default_hooks`` / ``custom_hooks``, the
training loop in ``train_cfg``, the Runner in ``runner_type``. :func:`build_runner` only prepares
the launcher (distributed start-up on machines without CUDA) and builds the config's Runner the
way mmdet's ``tools/train.py`` does; ``Runner.from_cfg`` on the same config gets the same hooks
and writes the same checkpoints, and loses only :class:`CheckpointPolicyRunner`'s loading
messages, ``trusted_checkpoints`` and the ``--resume`` fallbacks.
"""

import copy
import http.client
import re
import urllib.error
from collections import OrderedDict
from typing import Callable, List, Tuple, Union

from mmdet.registry import RUNNERS
from mmengine.config import Config
from mmengine.model import is_model_wrapper
from mmengine.runner import Runner, load_state_dict

from maskfreevis.utils import setup_cpu_distributed
from maskfreevis.utils.checkpoint_files import resolve_auto_resume
from maskfreevis.utils.checkpoint_loading import (
    pretrained_download_error,
    read_checkpoint,
    trusted_locations_of,
)

from .work_dir_guard import check_work_dir_is_folder, dump_would_replace_config

__all__ = ['CheckpointPolicyRunner', 'build_runner']


@RUNNERS.register_module()
class CheckpointPolicyRunner(Runner):
    """mmengine's ``Runner`` whose checkpoint loading follows the package's policy.

    * ``load_from``, ``--resume`` and testing read the checkpoint with
      :func:`maskfreevis.utils.checkpoint_loading.read_checkpoint`: weights-only for local files
      and URLs alike (mmengine 0.10.7 unpickles downloads in full), a refusal naming the file
      (:class:`~maskfreevis.utils.UntrustedCheckpointError`), and a full unpickle only for the
      files the config lists in ``trusted_checkpoints``. Then, as mmengine does, the
      ``after_load_checkpoint`` hooks see the checkpoint and its weights go into the model.
    * ``resume = True`` without ``load_from`` continues from the work_dir's ``last_checkpoint``,
      or from its newest ``iter_N.pth`` when that file is stale or empty, and says so; with no
      checkpoint there the log says that training starts from iteration 1
      (:func:`maskfreevis.utils.checkpoint_files.resolve_auto_resume`; mmengine logs "resumed
      from None").
    * a ``work_dir`` that is an existing file or empty is refused before mmengine writes there;
    * the resolved config is written into the work_dir as mmengine does, except over the config
      file itself (``--work-dir`` its own folder, or a run's dumped config tested again), which
      mmengine replaced with the flattened copy; the run's resolved config is also in
      ``TIMESTAMP/vis_data/config.py``.
    * pretrained weights (``init_cfg``) that cannot be downloaded are named with the config key,
      the reason and the way out
      (:func:`~maskfreevis.utils.checkpoint_loading.pretrained_download_error`), instead of
      urllib's error, which names no URL when no server answered.

    Built by ``RUNNERS.build(cfg)`` (mmdet's and this package's ``tools/train.py``,
    ``tools/test.py``) when the config says ``runner_type = 'CheckpointPolicyRunner'``.
    """

    @classmethod
    def from_cfg(cls, cfg: Config) -> 'CheckpointPolicyRunner':
        """The Runner of ``cfg`` (left unchanged), after the work_dir and resume checks."""
        cfg = copy.deepcopy(cfg)
        check_work_dir_is_folder(cfg.work_dir)
        resolve_auto_resume(cfg)
        return super().from_cfg(cfg)

    def dump_config(self) -> None:
        """mmengine's dump of the resolved config into the work_dir, unless that is the config
        file the run was read from (see the class doc)."""
        if dump_would_replace_config(self.cfg.filename, self.work_dir):
            self.logger.info(
                f'Not writing the resolved config over {self.cfg.filename}, the config this run '
                "was read from (it is in the work_dir); it is in this run's "
                f'{self.timestamp}/vis_data/config.py.'
            )
            return
        super().dump_config()

    def train(self):
        """mmengine's ``Runner.train``; a failed download of ``init_cfg`` weights is named."""
        try:
            return super().train()
        except (urllib.error.URLError, http.client.HTTPException) as error:
            # only mmengine's PretrainedInit downloads through urllib here: load_from and
            # --resume go through read_checkpoint, which names its URL itself
            raise pretrained_download_error(self.cfg.model, error) from error

    def load_checkpoint(
        self,
        filename: str,
        map_location: Union[str, Callable] = 'cpu',
        strict: bool = False,
        revise_keys: List[Tuple[str, str]] = [(r'^module.', '')],  # noqa: B006 (mmengine's)
    ) -> dict:
        """Load ``filename`` into the model (see the class doc); arguments as mmengine's.

        Returns:
            The checkpoint (``meta``, ``state_dict``, ``message_hub``, ...), as ``resume`` needs.
        """
        checkpoint = read_checkpoint(filename, map_location, trusted_locations_of(self.cfg))
        self.call_hook('after_load_checkpoint', checkpoint=checkpoint)
        model = self.model.module if is_model_wrapper(self.model) else self.model
        state_dict = checkpoint.get('state_dict', checkpoint)
        metadata = getattr(state_dict, '_metadata', OrderedDict())
        for pattern, replacement in revise_keys:
            state_dict = OrderedDict(
                (re.sub(pattern, replacement, key), value) for key, value in state_dict.items()
            )
        state_dict._metadata = metadata  # what torch's load_state_dict reads per module
        load_state_dict(model, state_dict, strict, self.logger)
        # The flag mmengine's own load_checkpoint sets: load_or_resume then loads nothing more.
        self._has_loaded = True
        self.logger.info(f'Load checkpoint from {filename}')
        return checkpoint


def build_runner(cfg: Config) -> Runner:
    """The Runner of a full config (``cfg.launcher`` as the tool's ``--launcher``).

    Sets up distributed data parallel when asked, also on machines without CUDA
    (:func:`maskfreevis.utils.setup_cpu_distributed`, which also sets
    ``cfg.model_wrapper_cfg.device_ids = None`` there), then builds the config's
    ``runner_type`` (``RUNNERS.build``) or mmengine's :class:`Runner`, as mmdet's
    ``tools/train.py`` does. Nothing else is added: the config is what runs.
    """
    setup_cpu_distributed(cfg)
    return RUNNERS.build(cfg) if 'runner_type' in cfg else Runner.from_cfg(cfg)
