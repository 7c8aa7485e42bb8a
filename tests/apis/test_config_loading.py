"""Config files and ``--cfg-options``: errors name the file and line, or the option."""

import pytest

from maskfreevis.apis.config_loading import ConfigFileError, read_config


def write(path, text: str) -> str:
    path.write_text(text)
    return str(path)


def test_a_syntax_error_names_the_file_and_line(tmp_path):
    config = write(tmp_path / 'broken.py', 'model = dict(\n    type="X",\nlr = 1\n')
    with pytest.raises(ConfigFileError) as error:
        read_config(config)
    message = str(error.value)
    assert message.startswith(f'syntax error in config file {config}, line ')
    assert 'a _base_ of' not in message


def test_a_syntax_error_in_a_base_names_that_file_and_the_chain(tmp_path):
    """mmengine said only File "<unknown>", line 2: which of the files?"""
    (tmp_path / 'bases').mkdir()
    bad = write(tmp_path / 'bases' / 'schedule.py', 'max_iters = 10\nlr = (\n')
    write(tmp_path / 'bases' / 'model.py', 'depth = 18\n')
    middle = write(tmp_path / 'middle.py', "_base_ = ['./bases/model.py', './bases/schedule.py']\n")
    config = write(tmp_path / 'top.py', "_base_ = './middle.py'\nseed = 0\n")
    with pytest.raises(ConfigFileError) as error:
        read_config(config)
    assert str(error.value) == (
        f'syntax error in config file {bad} (a _base_ of '
        f"{middle} <- {config}), line 2: '(' was never closed:\n    lr = ("
    )


def test_a_missing_base_names_the_config_that_lists_it(tmp_path):
    config = write(tmp_path / 'top.py', "_base_ = ['./nowhere.py']\n")
    with pytest.raises(
        FileNotFoundError, match=rf'nowhere.py does not exist; it is a _base_ of {config}'
    ):
        read_config(config)
    with pytest.raises(FileNotFoundError, match='absent.py'):
        read_config(str(tmp_path / 'absent.py'))


@pytest.mark.parametrize(
    'key, value, expected',
    [
        ('train_cfg.max_iters', 'abc', 'train_cfg.max_iters is an integer in the config'),
        ('optim.lr', '1e-4x', 'optim.lr is a number in the config'),
        ('hooks.0.enabled', 'yes', 'hooks.0.enabled is a boolean (true or false) in the config'),
    ],
)
def test_an_option_of_the_wrong_type_is_named_before_anything_runs(tmp_path, key, value, expected):
    config = write(
        tmp_path / 'c.py',
        'train_cfg = dict(max_iters=800)\noptim = dict(lr=0.01)\nhooks = [dict(enabled=True)]\n',
    )
    with pytest.raises(ConfigFileError) as error:
        read_config(config, {key: value})
    assert str(error.value).startswith(f'--cfg-options {key}={value}: {expected} ({config}: ')


def test_options_of_a_fitting_type_new_keys_and_other_changes_merge(tmp_path):
    config = write(
        tmp_path / 'c.py',
        "train_cfg = dict(max_iters=800)\noptim = dict(lr=1)\nmetric = ['bbox', 'segm']\n",
    )
    cfg = read_config(
        config,
        {
            'train_cfg.max_iters': 3,
            'optim.lr': 0.5,
            'metric': 'bbox',
            'load_from': 'x.pth',
            'train_cfg.new_key': 'text',
        },
    )
    assert cfg.train_cfg == dict(max_iters=3, new_key='text')
    assert (cfg.optim.lr, cfg.metric, cfg.load_from) == (0.5, 'bbox', 'x.pth')
