"""Training curves of a run from mmengine's ``vis_data/scalars.json``."""

import json
import os.path as osp
from typing import List, Optional

import numpy as np

__all__ = ['read_scalars', 'plot_training_curves']


def read_scalars(log_dir: str) -> List[dict]:
    """Rows of ``<log_dir>/vis_data/scalars.json`` (one json object per logged step); ``[]`` if
    the run logged none."""
    path = osp.join(log_dir, 'vis_data', 'scalars.json')
    if not osp.isfile(path):
        return []
    with open(path) as handle:
        return [json.loads(line) for line in handle if line.strip()]


def plot_training_curves(rows: List[dict], path: str, title: str) -> Optional[str]:
    """Loss terms (last decoder layer) and learning rate against iteration, as a PNG.

    Args:
        rows: as :func:`read_scalars` returns them; rows with ``loss`` and ``iter`` are plotted.
        path: where to write the PNG.
        title: drawn above the loss plot.

    Returns:
        ``path``, or None when no row has a training loss (nothing is written).
    """
    import matplotlib

    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    train_rows = [r for r in rows if 'loss' in r and 'iter' in r]
    if not train_rows:
        return None
    # 'loss*' keys are the total and the last decoder layer's terms (earlier layers log as
    # 'd0.loss_*'); terms that stay zero (e.g. the mask losses of a box-only run) have no place
    # on a log axis
    keys = sorted({k for r in train_rows for k in r if k.startswith('loss') and r[k] > 0})
    iters = [r['iter'] for r in train_rows]
    fig, (ax_loss, ax_lr) = plt.subplots(
        2, 1, figsize=(7, 6), sharex=True, gridspec_kw=dict(height_ratios=[3, 1])
    )
    for key in keys:
        values = [r.get(key, np.nan) for r in train_rows]
        ax_loss.plot(iters, values, label=key, linewidth=2 if key == 'loss' else 1)
    ax_loss.set_yscale('log')
    ax_loss.set_ylabel('loss (all layers for "loss", last layer otherwise)')
    ax_loss.legend(fontsize=8)
    ax_loss.set_title(title, fontsize=9)
    ax_loss.grid(alpha=0.3)
    ax_lr.plot(iters, [r.get('lr', np.nan) for r in train_rows], color='k')
    ax_lr.set_ylabel('lr')
    ax_lr.set_xlabel('iteration')
    ax_lr.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
