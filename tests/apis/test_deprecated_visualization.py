"""The drawing functions moved to maskfreevis.visualization; the old names still work and warn."""

import importlib
import sys

import pytest

import maskfreevis.apis
import maskfreevis.visualization


@pytest.mark.parametrize(
    'name', ['colour_for_id', 'draw_instances', 'draw_video', 'write_gif', 'make_contact_sheet']
)
def test_old_names_warn_and_are_the_new_functions(name):
    with pytest.warns(DeprecationWarning, match=f'maskfreevis.visualization.{name}'):
        old = getattr(maskfreevis.apis, name)
    assert old is getattr(maskfreevis.visualization, name)


def test_old_module_path_warns_and_re_exports():
    sys.modules.pop('maskfreevis.apis.visualization', None)
    with pytest.warns(DeprecationWarning, match='maskfreevis.apis.visualization is deprecated'):
        module = importlib.import_module('maskfreevis.apis.visualization')
    assert module.draw_video is maskfreevis.visualization.draw_video


def test_unknown_names_still_raise():
    with pytest.raises(AttributeError, match='no_such_function'):
        maskfreevis.apis.no_such_function
