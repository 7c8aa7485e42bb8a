"""``any_process``: one decision for all processes of a distributed run (two gloo processes)."""

import socket

import pytest
import torch.multiprocessing as mp

from maskfreevis.engine.process_agreement import any_process


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def vote(rank: int, port: int, results) -> None:
    import torch.distributed as torch_dist

    torch_dist.init_process_group(
        'gloo', init_method=f'tcp://127.0.0.1:{port}', rank=rank, world_size=2
    )
    try:
        results[rank] = (any_process(rank == 1), any_process(False), any_process(True))
    finally:
        torch_dist.destroy_process_group()


def test_outside_a_distributed_run_it_is_the_flag_itself():
    assert any_process(True) is True and any_process(False) is False


@pytest.mark.slow
def test_two_processes_agree():
    with mp.Manager() as manager:
        results = manager.dict()
        mp.spawn(vote, args=(free_port(), results), nprocs=2, join=True)
        assert dict(results) == {0: (True, False, True), 1: (True, False, True)}
