"""The model-zoo metadata: `configs/maskfreevis/metafile.yml` lists every leaf config (and nothing
else), in the OpenMMLab schema that `mim search` reads, with the source and init of every result."""

import glob
import json
import os.path as osp

import mmengine
import pytest

from tests.tools.conftest import PYTHON, run_tool
from tests.tools.test_mim import install_copy

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
METAFILE = osp.join(REPO_ROOT, 'configs', 'maskfreevis', 'metafile.yml')
LEAVES = sorted(glob.glob(osp.join(REPO_ROOT, 'configs', 'maskfreevis', '*.py')))
RESULT_SOURCES = ('reported by the paper', 'reproduced here')


@pytest.fixture(scope='module')
def metafile() -> dict:
    return mmengine.load(METAFILE)


def test_model_index_imports_the_metafile():
    index = mmengine.load(osp.join(REPO_ROOT, 'model-index.yml'))
    assert 'configs/maskfreevis/metafile.yml' in index['Import']
    for path in index['Import']:
        assert osp.isfile(osp.join(REPO_ROOT, path)), path


def test_every_listed_config_exists(metafile):
    for model in metafile['Models']:
        path = osp.join(REPO_ROOT, model['Config'])
        assert osp.isfile(path), f'{model["Name"]}: {model["Config"]} does not exist'
        assert model['Name'] == osp.splitext(osp.basename(path))[0], model['Name']


def test_every_leaf_config_is_listed_once(metafile):
    listed = [model['Config'] for model in metafile['Models']]
    assert len(listed) == len(set(listed)), 'a config is listed twice'
    leaves = {osp.relpath(path, REPO_ROOT) for path in LEAVES}
    assert leaves - set(listed) == set(), 'leaf configs missing from metafile.yml'


def test_schema_and_labelled_results(metafile):
    collections = {collection['Name'] for collection in metafile['Collections']}
    for collection in metafile['Collections']:
        assert {'Metadata', 'Paper', 'README'} <= set(collection), collection['Name']
        assert osp.isfile(osp.join(REPO_ROOT, collection['README']))
    for model in metafile['Models']:
        name = model['Name']
        assert model['In Collection'] in collections, name
        metadata = model['Metadata']
        assert {'Training Data', 'Supervision', 'Init', 'Iterations', 'Batch Size'} <= set(
            metadata
        ), name
        # a box-supervised init and a mask-trained one give numbers that must not be compared
        assert any(word in metadata['Init'] for word in ('box', 'mask', 'scratch')), name
        for result in model.get('Results', []):
            assert metadata['Results Source'].startswith(RESULT_SOURCES), name
            assert {'Task', 'Dataset', 'Metrics'} <= set(result), name
            assert all(isinstance(value, float) for value in result['Metrics'].values()), name


@pytest.mark.slow
def test_mim_search_finds_every_config_after_pip_install(metafile, tmp_path):
    mim = osp.join(osp.dirname(PYTHON), 'mim')
    if not osp.exists(mim):
        pytest.fail('openmim is not installed in the test environment (see Makefile)')
    target = str(tmp_path / 'site')
    install_copy(target, str(tmp_path))
    dump = str(tmp_path / 'search.json')
    run_tool(
        [mim, 'search', 'maskfreevis', '--json', dump],
        cwd=str(tmp_path),
        env_overrides={'PYTHONPATH': target},
    )
    with open(dump, encoding='utf-8') as f:
        found = json.load(f)
    # mim answers one column per field, each keyed by config id
    expected = {model['Name']: model['Config'] for model in metafile['Models']}
    assert found['config'] == expected
    assert found['synthetic demo videos/ap']['maskfreevis_r18_1xb4-800iter_synthetic'] == 6.0
    assert found['youtube-vis 2019/ap']['maskfreevis_r50_8xb2-6k_youtubevis2019'] == 42.5
