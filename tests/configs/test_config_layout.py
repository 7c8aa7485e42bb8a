"""How configs/ is built: leaves one step from their bases, bases of one kind each.

Leaves (configs/maskfreevis/*.py) put a recipe on a dataset (or change one sibling leaf) in a few
statements; recipes hold no data, dataset bases hold data only, schedules and the runtime their
own keys; no config edits a list by position or copies a class table held by the package.
"""

import ast
import glob
import os.path as osp
import shutil
from typing import List

import pytest
from mmengine.config import Config

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIGS = osp.join(REPO_ROOT, 'configs')
BASES = osp.join(CONFIGS, '_base_')
LEAVES = sorted(glob.glob(osp.join(CONFIGS, 'maskfreevis', '*.py')))
ALL_FILES = sorted(glob.glob(osp.join(CONFIGS, '**', '*.py'), recursive=True))

DATA_KEYS = {
    'train_dataloader',
    'val_dataloader',
    'test_dataloader',
    'val_evaluator',
    'test_evaluator',
}
SCHEDULE_KEYS = {'optim_wrapper', 'param_scheduler', 'train_cfg', 'val_cfg', 'test_cfg'}
RUNTIME_KEYS = {
    'default_scope',
    'default_hooks',
    'custom_hooks',
    'custom_imports',
    'env_cfg',
    'visualizer',
    'vis_backends',
    'log_processor',
    'log_level',
    'load_from',
    'resume',
    'randomness',
}
# statements of a leaf besides `_base_`: e.g. OVIS classes + Swin-L batch + test loaders
MAX_LEAF_STATEMENTS = 3


def rel(path: str) -> str:
    return osp.relpath(path, CONFIGS)


def parsed(path: str) -> ast.Module:
    with open(path, encoding='utf-8') as f:
        return ast.parse(f.read(), filename=path)


def base_paths(path: str) -> List[str]:
    """The files named by a config's `_base_` (resolved relative to it)."""
    for node in parsed(path).body:
        if isinstance(node, ast.Assign) and node.targets[0].id == '_base_':
            value = ast.literal_eval(node.value)
            names = [value] if isinstance(value, str) else value
            return [
                name if '::' in name else osp.normpath(osp.join(osp.dirname(path), name))
                for name in names
            ]
    return []


def own_keys(path: str) -> set:
    """Top-level names a config file assigns itself (not those of its bases)."""
    keys = set()
    for node in parsed(path).body:
        if isinstance(node, ast.Assign):
            for target in node.targets:
                keys |= {t.id for t in ast.walk(target) if isinstance(t, ast.Name)}
    return keys - {'_base_'}


def config_id(path: str) -> str:
    return rel(path)[:-3]


@pytest.mark.parametrize('path', LEAVES, ids=config_id)
def test_leaf_is_one_step_from_its_bases(path):
    bases = base_paths(path)
    assert bases, 'a leaf inherits'
    for base in bases:
        assert osp.isfile(base), base
        where = osp.dirname(base)
        # a recipe on a dataset (or the demo's model, data, schedule, runtime), or a sibling leaf
        assert where == osp.dirname(path) or where.startswith(BASES), base
    statements = [
        node
        for node in parsed(path).body
        if not (isinstance(node, ast.Assign) and node.targets[0].id == '_base_')
    ]
    assert len(statements) <= MAX_LEAF_STATEMENTS, [ast.unparse(s) for s in statements]


@pytest.mark.parametrize('path', ALL_FILES, ids=config_id)
def test_no_list_position_in_configs(path):
    """Pipelines and dataset lists are named, never edited or read by position."""
    for node in ast.walk(parsed(path)):
        if isinstance(node, ast.Subscript):
            index = node.slice
            positional = isinstance(index, ast.Slice) or (
                isinstance(index, ast.Constant) and isinstance(index.value, int)
            )
            assert not positional, f'{rel(path)}:{node.lineno}: {ast.unparse(node)}'


def class_table_lines(tree: ast.AST) -> List[int]:
    """Lines of tuples, lists, dicts and dict(...) calls holding 12 or more strings side by side.

    A table is many strings side by side (a list of names, a name -> name dict); a pipeline holds
    many strings too, but each inside its own dict(type=...).
    """
    lines = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.Tuple, ast.List)):
            entries = node.elts
        elif isinstance(node, ast.Dict):
            entries = [k for k in node.keys if k is not None] + node.values
        elif isinstance(node, ast.Call):
            entries = [keyword.value for keyword in node.keywords]
        else:
            continue
        strings = [v for v in entries if isinstance(v, ast.Constant) and isinstance(v.value, str)]
        if len(strings) >= 12:
            lines.append(node.lineno)
    return lines


def test_class_table_check_sees_tables_and_not_pipelines():
    names = ', '.join(repr(f'class{i}') for i in range(12))
    mapping = (
        ', '.join(f'c{i}={i!r}' for i in range(6))
        + ', '
        + ', '.join(f"d{i}='n{i}'" for i in range(12))
    )
    assert class_table_lines(ast.parse(f'classes = ({names})')) == [1]
    assert class_table_lines(ast.parse(f'table = dict({mapping})')) == [1]
    steps = ', '.join(f"dict(type='Step{i}', color_type='color')" for i in range(12))
    assert class_table_lines(ast.parse(f'pipeline = [{steps}]')) == []


@pytest.mark.parametrize('path', ALL_FILES, ids=config_id)
def test_no_class_tables_in_configs(path):
    """Class lists and COCO -> video tables live in maskfreevis.datasets.categories."""
    assert 'metainfo' not in own_keys(path)
    assert class_table_lines(parsed(path)) == [], f'{rel(path)}: a class table?'


def base_files(kind: str) -> List[str]:
    return sorted(glob.glob(osp.join(BASES, kind, '*.py')))


@pytest.mark.parametrize('path', base_files('datasets'), ids=config_id)
def test_dataset_bases_hold_data_only(path):
    keys = set(Config.fromfile(path).keys())
    assert not keys & (SCHEDULE_KEYS | RUNTIME_KEYS | {'model'}), keys


@pytest.mark.parametrize('path', base_files('models'), ids=config_id)
def test_model_bases_hold_the_model_only(path):
    keys = set(Config.fromfile(path).keys())
    assert not keys & (DATA_KEYS | SCHEDULE_KEYS | RUNTIME_KEYS), keys


@pytest.mark.parametrize('path', base_files('schedules'), ids=config_id)
def test_schedule_bases_hold_the_schedule_only(path):
    keys = set(Config.fromfile(path).keys())
    assert SCHEDULE_KEYS <= keys
    assert not keys & (DATA_KEYS | RUNTIME_KEYS | {'model'}), keys


def test_runtime_base_is_mmdets_with_the_plugin():
    path = osp.join(BASES, 'default_runtime.py')
    assert base_paths(path) == ['mmdet::_base_/default_runtime.py']
    cfg = Config.fromfile(path)
    assert not set(cfg.keys()) & (DATA_KEYS | SCHEDULE_KEYS | {'model'})
    assert cfg.custom_imports == dict(imports=['maskfreevis'], allow_failed_imports=False)
    assert cfg.default_scope == 'mmdet'


@pytest.mark.parametrize('path', base_files('recipes'), ids=config_id)
def test_recipes_hold_everything_but_the_data(path):
    keys = set(Config.fromfile(path).keys())
    assert {'model'} | SCHEDULE_KEYS | {'default_hooks', 'custom_imports'} <= keys
    assert not keys & DATA_KEYS, keys


def test_every_base_is_used():
    used = {base for path in ALL_FILES for base in base_paths(path)}
    unused = [rel(path) for path in ALL_FILES if path.startswith(BASES) and path not in used]
    assert not unused


def readme_example() -> dict:
    """The files of the README's "A new dataset in a few lines": {path: text}."""
    with open(osp.join(CONFIGS, 'maskfreevis', 'README.md'), encoding='utf-8') as f:
        readme = f.read()
    section = readme[readme.index('**A new dataset in a few lines.**') :]
    block = section[section.index('```python\n') + len('```python\n') : section.index('```\n')]
    files = {}
    for chunk in block.strip().split('\n\n'):
        header, text = chunk.split('\n', 1)
        files[header.lstrip('# ')] = text + '\n'
    return files


def test_new_dataset_in_a_few_lines(tmp_path):
    """The example of configs/maskfreevis/README.md ("A new dataset in a few lines")."""
    files = readme_example()
    assert sorted(files) == [
        'configs/_base_/datasets/my_vis_box.py',
        'configs/maskfreevis/maskfreevis_r50_8xb2-6k_myvis.py',
    ]
    shutil.copytree(CONFIGS, str(tmp_path / 'configs'))
    for name, text in files.items():
        with open(str(tmp_path / name), 'w') as f:
            f.write(text)
    path = str(tmp_path / 'configs' / 'maskfreevis' / 'maskfreevis_r50_8xb2-6k_myvis.py')
    cfg = Config.fromfile(path)
    reference = Config.fromfile(
        osp.join(CONFIGS, 'maskfreevis', 'maskfreevis_r50_8xb2-6k_youtubevis2019.py')
    )
    for loader, ann_file in (
        ('train_dataloader', 'annotations/train.json'),
        ('val_dataloader', 'annotations/valid.json'),
        ('test_dataloader', 'annotations/valid.json'),
    ):
        assert cfg[loader].dataset.data_root == 'data/my_vis/'
        assert cfg[loader].dataset.ann_file == ann_file
        assert cfg[loader].dataset.pipeline == reference[loader].dataset.pipeline
    assert cfg.test_evaluator.outfile_prefix == './my_vis_results'
    assert cfg.model.track_head.num_classes == 12
    cfg.model.track_head.num_classes = 40
    assert cfg.model == reference.model and cfg.optim_wrapper == reference.optim_wrapper


@pytest.mark.parametrize('path', LEAVES, ids=config_id)
def test_checkpoints_are_saved_before_the_end(path):
    """An interrupted run must have a checkpoint to resume from, not only one at the end."""
    cfg = Config.fromfile(path)
    assert cfg.default_hooks.checkpoint.interval < cfg.train_cfg.max_iters
