"""``read_checkpoint``: weights-only unless trusted, refusals and unreadable files named, nothing
registered process-wide."""

import http.server
import io
import os
import os.path as osp
import pickle
import threading
import time
import urllib.error

import numpy as np
import pytest
import torch
from mmengine.logging import HistoryBuffer

from maskfreevis.utils import (
    TRUST_ENV_VAR,
    UntrustedCheckpointError,
    checkpoint_loading,
    is_trusted_checkpoint,
    read_checkpoint,
    trust_checkpoints,
)
from maskfreevis.utils.checkpoint_loading import (
    CheckpointDownloadError,
    CheckpointReadError,
    download_failure_reason,
)


@pytest.fixture
def no_env_trust(monkeypatch):
    monkeypatch.delenv(TRUST_ENV_VAR, raising=False)


@pytest.fixture
def crafted(write_crafted_checkpoint):
    """``crafted(directory) -> (path, marker)``."""

    def write(directory) -> tuple:
        path = str(directory / 'crafted.pth')
        return path, write_crafted_checkpoint(path)

    return write


def test_crafted_pickle_outside_work_dir_is_refused(tmp_path, no_env_trust, crafted):
    path, marker = crafted(tmp_path)
    with pytest.raises(UntrustedCheckpointError) as error:
        read_checkpoint(path, map_location='cpu')
    assert path in str(error.value)
    assert TRUST_ENV_VAR in str(error.value) and 'trusted_checkpoints' in str(error.value)
    # torch's long message is cut to the line that says what was rejected.
    assert 'unsupported GLOBAL os.makedirs whose module os is blocked' in str(error.value)
    assert 'In PyTorch 2.6' not in str(error.value)
    assert not osp.exists(marker), 'the payload must not have run'


def test_crafted_pickle_refused_even_when_another_dir_is_trusted(tmp_path, no_env_trust, crafted):
    (tmp_path / 'downloads').mkdir()
    (tmp_path / 'work_dir').mkdir()
    path, marker = crafted(tmp_path / 'downloads')
    # A sibling whose name extends the trusted dir's name must not count as inside it.
    with trust_checkpoints([str(tmp_path / 'work_dir'), str(tmp_path / 'download')]):
        with pytest.raises(UntrustedCheckpointError):
            read_checkpoint(path, map_location='cpu')
    assert not osp.exists(marker)


def test_env_var_opts_in(tmp_path, monkeypatch, crafted):
    path, marker = crafted(tmp_path)
    monkeypatch.setenv(TRUST_ENV_VAR, '1')
    checkpoint = read_checkpoint(path, map_location='cpu')
    assert torch.equal(checkpoint['state_dict']['w'], torch.ones(2))
    assert osp.isdir(marker), 'a trusted full unpickle really ran the pickle'


def test_trusted_directory_is_only_trusted_inside_the_context(tmp_path, no_env_trust, crafted):
    path, _ = crafted(tmp_path)
    with trust_checkpoints([str(tmp_path)]):
        assert is_trusted_checkpoint(path)
        assert 'payload' in read_checkpoint(path, map_location='cpu')
    assert not is_trusted_checkpoint(path)


def test_weights_only_checkpoints_need_no_trust(tmp_path, no_env_trust):
    path = str(tmp_path / 'weights.pth')
    # numpy values in `meta` are on the allow-list of harmless globals.
    torch.save(
        {
            'state_dict': {'w': torch.arange(3.0)},
            'meta': {'iter': 4, 'seed': np.int64(7), 'scores': np.arange(2.0)},
        },
        path,
    )
    checkpoint = read_checkpoint(path, map_location='cpu')
    assert torch.equal(checkpoint['state_dict']['w'], torch.arange(3.0))
    assert checkpoint['meta']['seed'] == 7 and checkpoint['meta']['scores'].tolist() == [0.0, 1.0]


def test_refusal_names_the_rejected_global(tmp_path, no_env_trust):
    # mmengine's HistoryBuffer pickles numpy scalars through `getattr`, which is never allowed.
    path = str(tmp_path / 'runner_state.pth')
    history = HistoryBuffer()
    history.update(1.5)
    torch.save({'message_hub': history}, path)
    with pytest.raises(UntrustedCheckpointError, match='Unsupported global'):
        read_checkpoint(path, map_location='cpu')


def test_missing_file_names_the_file(tmp_path):
    missing = str(tmp_path / 'nope.pth')
    with pytest.raises(FileNotFoundError, match='nope.pth'):
        read_checkpoint(missing, map_location='cpu')


def test_numpy_values_of_other_tools_load_without_changing_torchs_list(tmp_path):
    """numpy arrays / scalars (e.g. in another tool's ``meta``) are allowed only while reading,
    and a caller's own allowed globals stay allowed."""
    from collections import Counter

    path = str(tmp_path / 'state.pth')
    torch.save(
        {
            'milestones': Counter({640: 1}),
            'eta': np.float64(1.5),
            'history': np.arange(3, dtype=np.int64),
            'mask': np.zeros(2, dtype=bool),
        },
        path,
    )
    before = torch.serialization.get_safe_globals()
    torch.serialization.add_safe_globals([np.dtype])  # the caller's own choice
    try:
        loaded = read_checkpoint(path)
        assert set(torch.serialization.get_safe_globals()) == {*before, np.dtype}
    finally:
        torch.serialization.clear_safe_globals()
        torch.serialization.add_safe_globals(before)
    assert loaded['milestones'] == Counter({640: 1}) and loaded['eta'] == 1.5
    assert loaded['history'].dtype == np.int64 and loaded['mask'].dtype == bool
    with pytest.raises(Exception, match='Unsupported global'):
        torch.load(path, weights_only=True)  # outside read_checkpoint: torch's own list


def test_other_schemes_go_to_mmengine():
    weights = read_checkpoint('imagenet-bundled://mobilenet_v2')
    assert 'conv1.conv.weight' in weights


def test_no_global_that_reaches_arbitrary_attributes_is_allowed():
    import builtins

    from maskfreevis.utils import checkpoint_safe_globals

    allowed = checkpoint_safe_globals()
    assert builtins.getattr not in allowed and builtins.eval not in allowed
    assert all(
        getattr(item, '__module__', '').split('.')[0] in ('numpy', 'collections')
        for item in allowed
    )


@pytest.mark.parametrize(
    'content, expected',
    [
        (b'', 'an empty file'),
        (b'PK\x03\x04 cut short', 'not a readable torch checkpoint'),
    ],
)
def test_unreadable_checkpoint_names_the_file(tmp_path, content, expected):
    from maskfreevis.utils import CheckpointReadError

    path = str(tmp_path / 'broken.pth')
    with open(path, 'wb') as handle:
        handle.write(content)
    with pytest.raises(CheckpointReadError, match=expected) as error:
        read_checkpoint(path, map_location='cpu')
    assert path in str(error.value)


def test_truncated_real_checkpoint_names_the_file(tmp_path):
    from maskfreevis.utils import CheckpointReadError

    path = str(tmp_path / 'iter_4.pth')
    torch.save({'state_dict': {'w': torch.ones(1000)}}, path)
    with open(path, 'rb') as handle:
        data = handle.read()
    with open(path, 'wb') as handle:
        handle.write(data[: len(data) // 2])
    with pytest.raises(CheckpointReadError, match='cut short') as error:
        read_checkpoint(path, map_location='cpu')
    assert path in str(error.value)


@pytest.mark.parametrize('content', [b'{"not": "a checkpoint"}', b'\x80\x02garbage'])
def test_non_checkpoint_is_refused_without_running_anything(tmp_path, no_env_trust, content):
    path = str(tmp_path / 'config.pth')
    with open(path, 'wb') as handle:
        handle.write(content)
    with pytest.raises(
        UntrustedCheckpointError, match='Unsupported operand.*not a torch checkpoint'
    ):
        read_checkpoint(path, map_location='cpu')


def test_trusted_but_unreadable_file_names_the_file(tmp_path, monkeypatch):
    from maskfreevis.utils import CheckpointReadError

    monkeypatch.setenv(TRUST_ENV_VAR, '1')
    path = str(tmp_path / 'config.pth')
    with open(path, 'w') as handle:
        handle.write('{"not": "a checkpoint"}')
    with pytest.raises(CheckpointReadError) as error:
        read_checkpoint(path, map_location='cpu')
    assert path in str(error.value)


def test_directory_instead_of_a_file_is_named(tmp_path):
    with pytest.raises(FileNotFoundError, match='is a directory, not a checkpoint file'):
        read_checkpoint(str(tmp_path), map_location='cpu')


# Downloads --------------------------------------------------------------------------------------


class CheckpointServer(http.server.BaseHTTPRequestHandler):
    """``/good.pth``: a checkpoint; ``/short.pth``: says 1000 bytes more than it sends;
    ``/slow.pth``: answers nothing; ``/page.pth``: a web page; other paths: 404."""

    payload = b''

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        if self.path == '/slow.pth':
            time.sleep(3)
            return
        if self.path == '/page.pth':
            page = b'<html><body>Sign in</body></html>'
            self.send_response(200)
            self.send_header('Content-Type', 'text/html; charset=utf-8')
            self.send_header('Content-Length', str(len(page)))
            self.end_headers()
            self.wfile.write(page)
            return
        if self.path not in ('/good.pth', '/short.pth'):
            self.send_error(404, 'Not Found')
            return
        self.send_response(200)
        extra = 1000 if self.path == '/short.pth' else 0
        self.send_header('Content-Length', str(len(self.payload) + extra))
        self.end_headers()
        self.wfile.write(self.payload)

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def server(tmp_path, monkeypatch):
    """A local HTTP server of :class:`CheckpointServer`; its ``http://127.0.0.1:PORT``. The
    download cache is a fresh TORCH_HOME."""
    buffer = io.BytesIO()
    torch.save({'state_dict': {'w': torch.arange(3.0)}}, buffer)
    CheckpointServer.payload = buffer.getvalue()
    monkeypatch.setenv('TORCH_HOME', str(tmp_path / 'torch_home'))
    httpd = http.server.ThreadingHTTPServer(('127.0.0.1', 0), CheckpointServer)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f'http://127.0.0.1:{httpd.server_address[1]}'
    httpd.shutdown()
    httpd.server_close()


def cached_files(tmp_path) -> list:
    folder = tmp_path / 'torch_home' / 'hub' / 'checkpoints'
    return sorted(os.listdir(folder)) if folder.exists() else []


def test_a_url_is_downloaded_once_into_the_cache(server, tmp_path):
    loaded = read_checkpoint(f'{server}/good.pth')
    assert torch.equal(loaded['state_dict']['w'], torch.arange(3.0))
    assert cached_files(tmp_path) == ['good.pth']
    assert torch.equal(read_checkpoint(f'{server}/good.pth')['state_dict']['w'], torch.arange(3.0))


def test_http_404_names_the_url_the_status_and_the_fix(server, tmp_path):
    url = f'{server}/missing.pth'
    with pytest.raises(CheckpointDownloadError) as error:
        read_checkpoint(url)
    message = str(error.value)
    assert message.startswith(f'Cannot download checkpoint {url}: the server answered HTTP 404')
    assert '(no file at this address)' in message
    assert f"wget -O missing.pth '{url}'" in message and 'pass the local path' in message
    assert cached_files(tmp_path) == []


def test_a_refused_connection_is_named(tmp_path, monkeypatch):
    monkeypatch.setenv('TORCH_HOME', str(tmp_path / 'torch_home'))
    with pytest.raises(CheckpointDownloadError, match='the connection was refused'):
        read_checkpoint('http://127.0.0.1:9/x.pth')


def test_a_host_that_does_not_resolve_is_named(tmp_path, monkeypatch):
    monkeypatch.setenv('TORCH_HOME', str(tmp_path / 'torch_home'))
    with pytest.raises(CheckpointDownloadError, match='the host name does not resolve'):
        read_checkpoint('http://no-such-host.invalid/x.pth')


def test_a_transfer_cut_short_leaves_nothing_in_the_cache(server, tmp_path):
    with pytest.raises(CheckpointDownloadError, match='cut short'):
        read_checkpoint(f'{server}/short.pth')
    assert cached_files(tmp_path) == []


def test_a_silent_server_times_out(server, tmp_path, monkeypatch):
    monkeypatch.setattr(checkpoint_loading, 'DOWNLOAD_TIMEOUT_S', 0.5)
    with pytest.raises(CheckpointDownloadError, match='did not answer for 0 s'):
        read_checkpoint(f'{server}/slow.pth')
    assert cached_files(tmp_path) == []


def test_a_web_page_instead_of_a_checkpoint_is_named(server, tmp_path):
    with pytest.raises(CheckpointDownloadError, match='the server sent a web page'):
        read_checkpoint(f'{server}/page.pth')
    assert cached_files(tmp_path) == []


def test_a_url_naming_no_file_is_refused(tmp_path, monkeypatch):
    monkeypatch.setenv('TORCH_HOME', str(tmp_path / 'torch_home'))
    with pytest.raises(CheckpointDownloadError, match='the URL names no file'):
        read_checkpoint('http://127.0.0.1:9/')


def test_a_corrupt_cached_download_names_the_cache_file(server, tmp_path):
    folder = tmp_path / 'torch_home' / 'hub' / 'checkpoints'
    folder.mkdir(parents=True)
    (folder / 'good.pth').write_bytes(b'not a checkpoint')
    with pytest.raises(Exception, match=f'downloaded to {folder / "good.pth"}; delete that file'):
        read_checkpoint(f'{server}/good.pth')


def test_download_failure_reasons():
    assert 'HTTP 403 Forbidden (access denied)' in download_failure_reason(
        urllib.error.HTTPError('u', 403, 'Forbidden', {}, None)
    )
    assert 'did not answer' in download_failure_reason(urllib.error.URLError(TimeoutError()))


# Files that are not checkpoints to trust -------------------------------------------------------


def test_the_last_checkpoint_pointer_names_the_checkpoint(tmp_path, no_env_trust):
    """It was refused as an untrusted pickle, with advice to trust it."""
    checkpoint = tmp_path / 'iter_2.pth'
    torch.save({'state_dict': {}}, checkpoint)
    pointer = tmp_path / 'last_checkpoint'
    pointer.write_text(str(checkpoint))
    with pytest.raises(CheckpointReadError) as error:
        read_checkpoint(str(pointer))
    assert str(error.value) == (
        f"Cannot load checkpoint '{pointer}': it is a text file naming the checkpoint "
        f"'{checkpoint}' (mmengine's last_checkpoint pointer); pass that file instead."
    )


def test_a_detectron2_pkl_says_to_convert_it(tmp_path, no_env_trust):
    path = tmp_path / 'model_final_3c8ec9.pkl'
    with open(path, 'wb') as handle:
        pickle.dump({'model': {'sem_seg_head.w': np.zeros(2)}, '__author__': 'x'}, handle)
    with pytest.raises(CheckpointReadError) as error:
        read_checkpoint(str(path))
    message = str(error.value)
    assert 'a .pkl file is a detectron2 checkpoint' in message
    assert f'detectron2_to_maskfreevis.py CONFIG {path} OUT.pth' in message
    assert 'trusted_checkpoints' not in message
