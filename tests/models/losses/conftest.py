"""Shared settings for the loss tests."""

import pytest
import torch


@pytest.fixture(autouse=True)
def single_torch_thread():
    """Run each loss test single-threaded (restored afterwards).

    The inputs are tiny, so threads only add overhead; on a loaded machine
    OpenMP oversubscription made this directory ~6x slower (56 s vs 9 s).
    """
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)
