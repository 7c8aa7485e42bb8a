"""The YouTube-VIS / OVIS reproduction configs train what the release trained; the demo and
own-data configs keep the package's choices.

The release's deliberate choices (reference doc sections 1.1-1.4, 2.1, 2.3, 3): the Lab colours
of its channel-reversed, truncated frames, bilinearly resized box masks, box-mask dice matching on
20000 random points, zero padding in both colour terms.
"""

import glob
import os.path as osp

import pytest
from mmengine.config import Config

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIG_DIR = osp.join(REPO_ROOT, 'configs', 'maskfreevis')
BENCHMARKS = ('_youtubevis2019.py', '_youtubevis2021.py', '_ovis.py')
MASKFREE = sorted(glob.glob(osp.join(CONFIG_DIR, 'maskfreevis*.py')))
REPRODUCTIONS = [p for p in MASKFREE if p.endswith(BENCHMARKS)]
OWN_CHOICES = [p for p in MASKFREE if not p.endswith(BENCHMARKS)]


def choices(path):
    """``(colour_space, box_mask, num_points, pairwise padding, TK padding)`` a config sets
    (None: the package default)."""
    model = Config.fromfile(path).model
    criterion = model.track_head.criterion
    (dice,) = [c for c in criterion.assigner.match_costs if c.type == 'BoxMaskDiceCost']
    return (
        model.data_preprocessor.get('colour_space'),
        criterion.get('box_mask'),
        dice.get('num_points'),
        criterion.loss_pair.get('padding_mode'),
        criterion.loss_tk.get('padding_mode'),
    )


def config_id(path):
    return osp.basename(path)[:-3]


def test_both_kinds_are_present():
    assert len(REPRODUCTIONS) >= 27 and OWN_CHOICES
    assert all(p.endswith(('_synthetic.py', '_realimagery.py')) for p in OWN_CHOICES)


@pytest.mark.parametrize('path', REPRODUCTIONS, ids=config_id)
def test_reproduction_configs_use_the_release_choices(path):
    assert choices(path) == ('release', 'bilinear', 20000, 'zeros', 'zeros')


@pytest.mark.parametrize('path', OWN_CHOICES, ids=config_id)
def test_demo_configs_keep_the_package_choices(path):
    assert choices(path) == (None, None, None, None, None)
