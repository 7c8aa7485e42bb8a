"""Op counts and host-sync records of the profiling helpers."""

import torch

from maskfreevis_demo.analysis.profiling import (
    HostSyncRecorder,
    aten_op_count,
    busy_neighbour,
    contention_times,
    parallel_sized_op_count,
    profiled_op_counts,
)


def test_top_level_ops_exclude_nested_ones():
    x = torch.randn(4, 5)

    def work():
        # two top-level ops; linear dispatches further aten ops inside itself
        return torch.nn.functional.linear(x, x).sum()

    top_level, by_name = profiled_op_counts(work)
    assert top_level == 2
    assert by_name['aten::sum'] == 1 and sum(by_name.values()) > top_level


def test_forward_backward_op_count_grows_with_a_python_loop():
    logits = torch.randn(3, 8)

    def one_op(x):
        return x.square().sum()

    def looped(x):
        return sum(x[i].square().sum() for i in range(3))

    assert aten_op_count(one_op, logits) < aten_op_count(looped, logits)


def test_host_sync_recorder_names_the_op_and_its_place():
    x = torch.tensor([1.0, -2.0, 3.0])
    with HostSyncRecorder(packages=('tests',)) as recorder:
        y = x * 2  # no sync
        bool((y > 0).all())  # a host read
        x[x > 0]  # boolean mask indexing: data-dependent size
        x.nonzero()
        x[torch.tensor([0, 2])]  # integer indexing: no sync
    names = [name for name, _ in recorder.records]
    assert names == ['aten::_local_scalar_dense', 'aten::index', 'aten::nonzero']
    places = recorder.by_place()
    assert sum(places.values()) == 3
    assert all(place.startswith('test_profiling.py:') for place in places)
    assert recorder.by_place(lambda place: 'here') == {'here': 3}


def test_parallel_sized_ops_are_those_above_the_grain():
    small, large = torch.ones(100), torch.ones(40000)

    def work():
        small.exp()
        large.exp()
        large.sum()

    assert parallel_sized_op_count(work) == (3, 2)


def test_busy_neighbour_is_stopped_by_its_pid():
    with busy_neighbour() as process:
        assert process.poll() is None  # running
    assert process.returncode is not None


def test_contention_times_alternate_settings_and_restore_threads():
    previous = torch.get_num_threads()
    calls = []

    def work():
        calls.append(torch.get_num_threads())

    times = contention_times(work, thread_counts=(2, 1), rounds=2, steps=1)
    assert set(times) == {1, 2}
    assert all(set(value) == {'idle', 'busy', 'slowdown'} for value in times.values())
    assert calls == [2, 2, 1, 1, 2, 2, 1, 1]  # per round: 2 threads idle, busy; 1 thread ...
    assert torch.get_num_threads() == previous
