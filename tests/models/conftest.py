"""Shared settings for the model tests (detectors, heads, match costs, configs)."""
import os
import sys

import pytest
import torch

# test modules import the helpers next to this file (synthetic_batch, small_models) by name
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture(autouse=True)
def single_torch_thread():
    """One torch thread per test (restored afterwards): the machine's cores are shared, and
    OpenMP oversubscription slows these CPU tests down more than a second thread helps."""
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)
