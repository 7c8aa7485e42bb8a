"""Shared settings for the model tests (detectors, heads, match costs, configs)."""

import pytest
import torch


@pytest.fixture(autouse=True)
def single_torch_thread():
    """One torch thread per test (restored afterwards): the machine's cores are shared, and
    OpenMP oversubscription slows these CPU tests down more than a second thread helps."""
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)
