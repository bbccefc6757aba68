"""DataLoader: batching, drop_last, len, samplers and worker processes, checked against torch."""

from __future__ import annotations

import os

import numpy as np
import pytest
import torch
import torch.utils.data as tud

import ember
import ember.utils.data as eud


def _datasets(n=10, feat=3):
    x = np.arange(n * feat, dtype=np.float32).reshape(n, feat)
    y = np.arange(n)
    return eud.TensorDataset(ember.tensor(x), ember.tensor(y)), tud.TensorDataset(torch.tensor(x), torch.tensor(y))


def _np_batches(loader):
    out = []
    for b in loader:
        out.append([v.numpy().copy() for v in b] if isinstance(b, (list, tuple)) else b.numpy().copy())
    return out


@pytest.mark.parametrize(
    "n,bs,drop", [(10, 3, False), (10, 3, True), (10, 5, False), (10, 1, True), (3, 8, False), (3, 8, True)]
)
def test_sequential_batches_match_torch(n, bs, drop):
    e_ds, t_ds = _datasets(n)
    e = eud.DataLoader(e_ds, batch_size=bs, drop_last=drop)
    t = tud.DataLoader(t_ds, batch_size=bs, drop_last=drop)
    assert len(e) == len(t)
    eb, tb = list(e), list(t)
    assert len(eb) == len(tb)
    for (ex, ey), (tx, ty) in zip(eb, tb):
        assert tuple(ex.shape) == tuple(tx.shape) and str(ex.dtype) == str(tx.dtype) and str(ey.dtype) == str(ty.dtype)
        np.testing.assert_array_equal(ex.numpy(), tx.numpy())
        np.testing.assert_array_equal(ey.numpy(), ty.numpy())


def test_batch_size_none_matches_torch():
    e_ds, t_ds = _datasets(4)
    e = list(eud.DataLoader(e_ds, batch_size=None))
    t = list(tud.DataLoader(t_ds, batch_size=None))
    assert len(e) == len(t) == 4
    assert tuple(e[0][0].shape) == tuple(t[0][0].shape) == (3,)


def test_numpy_dataset_is_converted():
    data = [(np.ones(2, np.float32) * i, i) for i in range(5)]
    e = list(eud.DataLoader(data, batch_size=2))
    t = list(tud.DataLoader(data, batch_size=2))
    assert [tuple(b[0].shape) for b in e] == [tuple(b[0].shape) for b in t]
    assert [str(b[1].dtype) for b in e] == [str(b[1].dtype) for b in t]


def test_shuffle_reproducible_under_manual_seed():
    e_ds, _ = _datasets(20)
    loader = eud.DataLoader(e_ds, batch_size=4, shuffle=True)
    ember.manual_seed(7)
    a = [b[1].tolist() for b in loader]
    ember.manual_seed(7)
    b = [b[1].tolist() for b in loader]
    assert a == b
    assert sorted(sum(a, [])) == list(range(20))
    assert sum(a, []) != list(range(20))
    assert [b[1].tolist() for b in loader] != a  # a new epoch, a new order


def test_shuffle_with_generator():
    e_ds, _ = _datasets(20)
    first = [
        b[1].tolist()
        for b in eud.DataLoader(e_ds, batch_size=5, shuffle=True, generator=ember.Generator().manual_seed(1))
    ]
    again = [
        b[1].tolist()
        for b in eud.DataLoader(e_ds, batch_size=5, shuffle=True, generator=ember.Generator().manual_seed(1))
    ]
    assert first == again


def test_custom_sampler_and_batch_sampler():
    e_ds, _ = _datasets(6)
    got = [b[1].tolist() for b in eud.DataLoader(e_ds, batch_size=2, sampler=[5, 4, 3, 2, 1, 0])]
    assert got == [[5, 4], [3, 2], [1, 0]]
    bs = [[0, 1, 2], [5]]
    loader = eud.DataLoader(e_ds, batch_sampler=bs)
    assert [b[1].tolist() for b in loader] == [[0, 1, 2], [5]] and len(loader) == 2
    assert loader.batch_size is None


def test_collate_fn_used():
    e_ds, _ = _datasets(4)
    out = list(eud.DataLoader(e_ds, batch_size=2, collate_fn=lambda items: len(items)))
    assert out == [2, 2]


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(num_workers=-1),
        dict(timeout=-1),
        dict(prefetch_factor=2),
        dict(persistent_workers=True),
        dict(sampler=[0, 1], shuffle=True),
        dict(batch_sampler=[[0]], batch_size=2),
        dict(batch_sampler=[[0]], drop_last=True),
        dict(batch_size=None, drop_last=True),
    ],
)
def test_bad_arguments_raise_like_torch(kwargs):
    e_ds, t_ds = _datasets(4)
    with pytest.raises(ValueError) as t_info:
        tud.DataLoader(t_ds, **kwargs)
    with pytest.raises(ValueError) as e_info:
        eud.DataLoader(e_ds, **kwargs)
    assert str(e_info.value) == str(t_info.value)


def test_attributes_locked_after_init():
    e_ds, _ = _datasets(4)
    loader = eud.DataLoader(e_ds, batch_size=2)
    with pytest.raises(ValueError, match="batch_size attribute should not be set"):
        loader.batch_size = 3
    assert loader.batch_size == 2 and loader.num_workers == 0 and loader.dataset is e_ds


def test_pin_memory_accepted_with_warning():
    e_ds, _ = _datasets(4)
    with pytest.warns(UserWarning, match="pin_memory"):
        loader = eud.DataLoader(e_ds, batch_size=2, pin_memory=True)
    assert len(list(loader)) == 2


def _stream_class(lib):
    class Stream(lib.IterableDataset):
        """0..n-1, split between workers by get_worker_info."""

        def __init__(self, n):
            self.n = n

        def __iter__(self):
            info = lib.get_worker_info()
            if info is None:
                return iter(range(self.n))
            return iter(range(info.id, self.n, info.num_workers))

        def __len__(self):
            return self.n

    return Stream


Stream = _stream_class(eud)
TStream = _stream_class(tud)


def test_iterable_dataset_single_process():
    e = [b.tolist() for b in eud.DataLoader(Stream(7), batch_size=3)]
    t = [b.tolist() for b in tud.DataLoader(TStream(7), batch_size=3)]
    assert e == t
    assert len(eud.DataLoader(Stream(7), batch_size=3)) == len(tud.DataLoader(TStream(7), batch_size=3)) == 3
    assert [b.tolist() for b in eud.DataLoader(Stream(7), batch_size=3, drop_last=True)] == [[0, 1, 2], [3, 4, 5]]
    with pytest.raises(ValueError, match="expected unspecified shuffle option"):
        eud.DataLoader(Stream(3), shuffle=True)


# ---------------------------------------------------------------- worker processes
class PidDataset(eud.Dataset):
    """Items record which process produced them and the worker's seed."""

    def __len__(self):
        return 12

    def __getitem__(self, i):
        info = eud.get_worker_info()
        return i, os.getpid(), -1 if info is None else info.id, ember.rand(1).item()


@pytest.mark.parametrize("num_workers", [1, 2])
def test_workers_same_batches_as_main_process(num_workers):
    e_ds, _ = _datasets(11)
    main = _np_batches(eud.DataLoader(e_ds, batch_size=3))
    work = _np_batches(eud.DataLoader(e_ds, batch_size=3, num_workers=num_workers))
    assert len(main) == len(work)
    for a, b in zip(main, work):
        for x, y in zip(a, b):
            np.testing.assert_array_equal(x, y)


def test_workers_are_processes_with_info_and_seeds():
    loader = eud.DataLoader(PidDataset(), batch_size=2, num_workers=2)
    batches = list(loader)
    idx = sum((b[0].tolist() for b in batches), [])
    assert idx == list(range(12))  # in sampler order
    pids = {p for b in batches for p in b[1].tolist()}
    assert os.getpid() not in pids and len(pids) == 2
    assert {w for b in batches for w in b[2].tolist()} == {0, 1}
    assert batches[0][2].tolist() == [0, 0] and batches[1][2].tolist() == [1, 1]  # round-robin
    # worker RNG streams are seeded from the loader's base seed: reproducible under manual_seed
    ember.manual_seed(3)
    r1 = [b[3].tolist() for b in eud.DataLoader(PidDataset(), batch_size=2, num_workers=2)]
    ember.manual_seed(3)
    r2 = [b[3].tolist() for b in eud.DataLoader(PidDataset(), batch_size=2, num_workers=2)]
    assert r1 == r2


def test_workers_shuffle_reproducible():
    e_ds, _ = _datasets(16)
    loader = eud.DataLoader(e_ds, batch_size=4, shuffle=True, num_workers=2, generator=ember.Generator().manual_seed(9))
    a = [b[1].tolist() for b in loader]
    loader2 = eud.DataLoader(
        e_ds, batch_size=4, shuffle=True, num_workers=0, generator=ember.Generator().manual_seed(9)
    )
    assert a == [b[1].tolist() for b in loader2]


def _init_fn(worker_id):
    import ember.utils.data as d

    assert d.get_worker_info().id == worker_id


def test_worker_init_fn_and_persistent_workers():
    loader = eud.DataLoader(
        PidDataset(), batch_size=3, num_workers=2, worker_init_fn=_init_fn, persistent_workers=True, prefetch_factor=1
    )
    e1 = list(loader)
    pids1 = {p for b in e1 for p in b[1].tolist()}
    e2 = list(loader)
    pids2 = {p for b in e2 for p in b[1].tolist()}
    assert pids1 == pids2  # the same processes serve both epochs
    assert [b[0].tolist() for b in e1] == [b[0].tolist() for b in e2]
    # abandon an epoch half-way: the next one still starts from the beginning
    it = iter(loader)
    next(it)
    assert [b[0].tolist() for b in loader][0] == [0, 1, 2]


def test_worker_iterators_without_persistence_are_independent():
    """Without persistent_workers every iter() starts a new epoch of its own; an earlier one goes on."""
    out = []
    for lib in (ember, torch):
        loader = lib.utils.data.DataLoader(list(range(6)), batch_size=2, num_workers=1)
        a = iter(loader)
        first = next(a)
        b = iter(loader)
        assert a is not b
        out.append([first.tolist()] + [x.tolist() for x in a] + [x.tolist() for x in b])
    assert out[0] == out[1] == [[0, 1], [2, 3], [4, 5], [0, 1], [2, 3], [4, 5]]


def test_worker_processes_are_daemons():
    """Workers are daemonic, as torch's are, so a program that exits mid-epoch does not wait for them."""
    for lib in (ember, torch):
        it = iter(lib.utils.data.DataLoader(list(range(4)), batch_size=2, num_workers=2))
        assert len(it._workers) == 2 and all(w.daemon for w in it._workers), lib.__name__
        assert [x.tolist() for x in it] == [[0, 1], [2, 3]]


def test_iterable_dataset_with_workers():
    out = [b.tolist() for b in eud.DataLoader(Stream(10), batch_size=2, num_workers=2)]
    t = [b.tolist() for b in tud.DataLoader(TStream(10), batch_size=2, num_workers=2)]
    assert out == t


class Failing(eud.Dataset):
    def __len__(self):
        return 4

    def __getitem__(self, i):
        if i == 2:
            raise KeyError("bad item 2")
        return i


def test_worker_exception_reraised_with_type():
    with pytest.raises(KeyError, match="in DataLoader worker process"):
        list(eud.DataLoader(Failing(), batch_size=1, num_workers=2))


class Stuck(eud.Dataset):
    """Its items do not arrive: the worker blocks on an event nobody sets (for a minute, so that a loader that
    ignored its timeout would fail the test rather than hang it)."""

    def __len__(self):
        return 2

    def __getitem__(self, i):
        import threading

        threading.Event().wait(60)
        return i


def test_timeout():
    it = iter(eud.DataLoader(Stuck(), num_workers=1, timeout=0.3))
    with pytest.raises(RuntimeError, match="DataLoader timed out after 0.3 seconds"):
        next(it)
    # the stuck worker does not outlive the error
    assert it._workers and not any(w.is_alive() for w in it._workers)


class Dies(eud.Dataset):
    def __len__(self):
        return 2

    def __getitem__(self, i):
        os._exit(1)


def test_dead_worker_reported():
    with pytest.raises(RuntimeError, match="exited unexpectedly"):
        list(eud.DataLoader(Dies(), num_workers=1))


def test_worker_info_none_in_main_and_frozen():
    assert eud.get_worker_info() is None
    info = eud.WorkerInfo(id=0, num_workers=1, seed=1, dataset=None)
    with pytest.raises(RuntimeError, match="Cannot assign attributes"):
        info.id = 3
