"""Each collective on 2 and 3 ranks against a NumPy reference, async handles, groups, objects, and the errors
of misuse (torch's messages where torch has them); checks that need no MPI run in this process."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest
import torch
import torch.distributed as tdist

import ember
import ember.distributed as dist
from ember.distributed import _mpi

# Runs on every rank; each check compares with what NumPy computes from every rank's inputs.
COLLECTIVES = """
import numpy as np
import torch
import torch.distributed as dist

dist.init_process_group("gloo")
r, n = dist.get_rank(), dist.get_world_size()
assert dist.is_initialized() and dist.get_backend() == "gloo" and dist.get_backend(dist.group.WORLD) == "gloo"
assert dist.is_available() and dist.is_gloo_available() and dist.is_mpi_available()
assert dist.is_torchelastic_launched()  # started by the launcher

def data(k, shape=(2, 3), dtype=np.float32):
    return (np.arange(np.prod(shape)).reshape(shape) * (k + 1) + k).astype(dtype)

every = [data(k) for k in range(n)]
mine = torch.from_numpy(data(r).copy())

def same(t, ref):
    assert t.dtype == torch.from_numpy(np.asarray(ref)).dtype, (t.dtype, np.asarray(ref).dtype)
    np.testing.assert_allclose(t.numpy(), ref, rtol=1e-6)

# all_reduce, each op, sync and async
for op, ref in [
    (dist.ReduceOp.SUM, np.sum(every, 0)),
    (dist.ReduceOp.AVG, np.mean(every, 0)),
    (dist.ReduceOp.MAX, np.max(every, 0)),
    (dist.ReduceOp.MIN, np.min(every, 0)),
    (dist.ReduceOp.PRODUCT, np.prod(every, 0)),
]:
    t = mine.clone()
    v = t._version.value
    assert dist.all_reduce(t, op=op) is None
    same(t, ref)
    assert t._version.value > v
    t = mine.clone()
    work = dist.all_reduce(t, op=op, async_op=True)
    assert work.wait() is True and work.is_completed()
    same(t, ref)

ints = torch.tensor([r + 1, 6, 1 << r], dtype=torch.int64)
dist.all_reduce(ints, op=dist.ReduceOp.BOR)
same(ints, np.array([np.bitwise_or.reduce(np.arange(1, n + 1)), 6, (1 << n) - 1]))
flags = torch.tensor([r == 0, True, False])
dist.all_reduce(flags)
same(flags, np.array([True, True, False]))
half = torch.tensor([0.5 * (r + 1), 1.0], dtype=torch.float16)
dist.all_reduce(half)
same(half, np.array([0.5 * n * (n + 1) / 2, n], dtype=np.float16))

# a strided view is reduced into its base
base = torch.zeros(4, 3)
base[:, 1] = float(r)
dist.all_reduce(base[:, 1])
same(base[:, 1], np.full(4, sum(range(n)), np.float32))
same(base[:, 0], np.zeros(4, np.float32))

# broadcast from each source
for src in range(n):
    t = mine.clone()
    dist.broadcast(t, src=src)
    same(t, every[src])

# reduce: dst gets the sum, the others keep theirs
t = mine.clone()
dist.reduce(t, dst=n - 1, op=dist.ReduceOp.SUM)
same(t, np.sum(every, 0) if r == n - 1 else every[r])

# all_gather, all_gather_into_tensor (flat and stacked outputs)
out = [torch.zeros(2, 3) for _ in range(n)]
dist.all_gather(out, mine)
for k in range(n):
    same(out[k], every[k])
flat = torch.zeros(2 * n, 3)
dist.all_gather_into_tensor(flat, mine)
same(flat, np.concatenate(every))
stacked = torch.zeros(n, 2, 3)
dist.all_gather_into_tensor(stacked, mine, async_op=True).wait()
same(stacked, np.stack(every))

# reduce_scatter: rank k gets the sum over ranks of their k-th input
inputs = [torch.from_numpy(data(r * 10 + k)) for k in range(n)]
out = torch.zeros(2, 3)
dist.reduce_scatter(out, inputs)
same(out, np.sum([data(q * 10 + r) for q in range(n)], 0))
out = torch.zeros(2, 3)
dist.reduce_scatter_tensor(out, torch.cat(inputs), op=dist.ReduceOp.MAX)
same(out, np.max([data(q * 10 + r) for q in range(n)], 0))

# gather and scatter
got = [torch.zeros(2, 3) for _ in range(n)] if r == 0 else None
dist.gather(mine, got, dst=0)
if r == 0:
    for k in range(n):
        same(got[k], every[k])
t = torch.zeros(2, 3)
dist.scatter(t, [torch.from_numpy(data(100 + k)) for k in range(n)] if r == n - 1 else None, src=n - 1)
same(t, data(100 + r))

# point to point: a ring
t = torch.zeros(3)
send = dist.isend(torch.full((3,), float(r)), dst=(r + 1) % n)
sender = dist.recv(t, src=(r - 1) % n)
send.wait()
assert sender == (r - 1) % n
same(t, np.full(3, (r - 1) % n, np.float32))

t = torch.zeros(3)
work = dist.irecv(t, src=(r - 1) % n)
dist.send(torch.full((3,), float(r) + 0.5), dst=(r + 1) % n)
assert isinstance(work, dist.Work) and work.wait()
same(t, np.full(3, (r - 1) % n + 0.5, np.float32))

# Python objects
gathered = [None] * n if r == 0 else None
dist.gather_object(r * r, gathered, dst=0)
assert r != 0 or gathered == [k * k for k in range(n)], gathered
got = [None]
dist.scatter_object_list(got, [3 * k for k in range(n)] if r == 0 else None, src=0)
assert got == [3 * r], got
objs = [{"rank": r}, r] if r == 1 else [None, None]
dist.broadcast_object_list(objs, src=1)
assert objs == [{"rank": 1}, 1], objs
everyone = [None] * n
dist.all_gather_object(everyone, ("hello", r))
assert everyone == [("hello", k) for k in range(n)], everyone

# a group of ranks 0 and n-1; the rank outside it gets the non-member marker
g = dist.new_group([0, n - 1])
if r in (0, n - 1):
    assert dist.get_world_size(g) == 2 and dist.get_rank(g) == (0 if r == 0 else 1)
    assert isinstance(g, dist.ProcessGroup) and dist.get_process_group_ranks(g) == [0, n - 1]
    assert dist.get_global_rank(g, 1) == n - 1 and dist.get_group_rank(g, n - 1) == 1
    t = torch.tensor([float(r)])
    dist.all_reduce(t, group=g)
    same(t, np.array([n - 1], np.float32))
    t = torch.tensor([float(r)])
    dist.broadcast(t, src=n - 1, group=g)
    same(t, np.array([n - 1], np.float32))
else:
    assert g is dist.GroupMember.NON_GROUP_MEMBER and dist.get_rank(g) == -1

# misuse: list lengths, sizes, root ranks, mismatched shapes between ranks
def raises(kind, text, fn):
    try:
        fn()
    except kind as e:
        assert text in str(e), str(e)
    else:
        raise AssertionError(f"no {kind.__name__}: {text}")

raises(RuntimeError, "invalid output tensor list at index 0 (expected length", lambda: dist.all_gather([mine], mine))
raises(RuntimeError, "invalid tensor size at index 1 (expected (2, 3), got (3))",
       lambda: dist.all_gather([mine] + [torch.zeros(3)] * (n - 1), mine))
raises(RuntimeError, "output tensor size must be equal to world_size times input tensor size",
       lambda: dist.all_gather_into_tensor(torch.zeros(3), mine))
raises(RuntimeError, "invalid input tensor list size, must be world size", lambda: dist.reduce_scatter(mine, [mine]))
raises(RuntimeError, f"invalid root rank: {n}", lambda: dist.broadcast(mine, src=n))
raises(RuntimeError, "result type Float can't be cast to the desired output type Long",
       lambda: dist.all_reduce(torch.ones(2, dtype=torch.int64), op=dist.ReduceOp.AVG))
if r == 0:  # refused before anything is sent; then the call the others are in
    raises(ValueError, "Argument ``gather_list`` must be specified on destination rank.", lambda: dist.gather(mine, None, dst=0))
    dist.gather(mine, [torch.zeros(2, 3) for _ in range(n)], dst=0)
else:
    dist.gather(mine, None, dst=0)
raises(RuntimeError, "the ranks' calls do not match", lambda: dist.all_reduce(torch.zeros(2 + (r == 1))))
raises(RuntimeError, "rank 1: allreduce ('float32', (3,), 0)", lambda: dist.all_reduce(torch.zeros(2 + (r == 1))))

dist.barrier()
dist.destroy_process_group()
assert not dist.is_initialized()
print(f"rank {r} of {n}: ok")
"""


@pytest.mark.parametrize("n", [2, 3])
def test_every_collective_against_numpy(ranks, n):
    done = ranks(COLLECTIVES, n)
    assert done.returncode == 0, done.stdout + done.stderr
    assert sorted(re.findall(rf"rank (\d) of {n}: ok", done.stdout)) == [str(r) for r in range(n)]


def test_env_rendezvous_and_errors(ranks):
    source = """
    import os
    import torch.distributed as dist
    assert not dist.is_initialized()
    expect = {k: os.environ[k] for k in ("RANK", "WORLD_SIZE", "LOCAL_RANK", "LOCAL_WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT")}
    dist.init_process_group(backend="mpi", init_method="env://")
    try:
        dist.init_process_group("gloo")
    except ValueError as e:
        assert str(e) == "trying to initialize the default process group twice!"
    print(f"{dist.get_rank()} {dist.get_world_size()} {dist.get_backend()} {sorted(expect.items())}")  # one write
    """
    done = ranks(source, 2)
    assert done.returncode == 0, done.stderr
    lines = sorted(re.findall(r"\d 2 mpi \[.*?\)\]", done.stdout))  # non-greedy: lines may interleave
    assert len(lines) == 2, (done.stdout, done.stderr)
    for r, line in enumerate(lines):
        assert line.startswith(f"{r} 2 mpi ")
        assert f"('LOCAL_RANK', '{r}')" in line and f"('RANK', '{r}')" in line and "('WORLD_SIZE', '2')" in line
        assert "('MASTER_ADDR', '127.0.0.1')" in line and "('MASTER_PORT', '29500')" in line


def _outcome(fn):
    try:
        fn()
    except Exception as e:  # noqa: BLE001 - the type and message are compared
        return type(e), str(e)
    return None


@pytest.mark.parametrize(
    "call",
    [
        lambda d, t: d.get_rank(),
        lambda d, t: d.get_world_size(),
        lambda d, t: d.all_reduce(t.ones(2)),
        lambda d, t: d.broadcast(t.ones(2), src=0),
        lambda d, t: d.barrier(),
        lambda d, t: d.destroy_process_group(),
        lambda d, t: d.new_group([0]),
    ],
)
def test_calls_before_init_fail_as_torchs(call):
    assert not dist.is_initialized()
    assert _outcome(lambda: call(dist, ember)) == _outcome(lambda: call(tdist, torch))


def test_env_variables_are_required_in_torchs_order(monkeypatch):
    for name in ("RANK", "WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT", "PMI_RANK", "PMIX_RANK", "OMPI_COMM_WORLD_RANK"):
        monkeypatch.delenv(name, raising=False)
    for name, value in [("RANK", "0"), ("WORLD_SIZE", "1"), ("MASTER_ADDR", "127.0.0.1"), ("MASTER_PORT", None)]:
        want = _outcome(lambda: tdist.init_process_group("gloo"))
        assert want is not None and name in want[1]
        assert _outcome(lambda: dist.init_process_group("gloo")) == want
        if value is not None:
            monkeypatch.setenv(name, value)


def test_backends():
    with pytest.raises(RuntimeError, match="no 'nccl' backend: NCCL needs CUDA GPUs"):
        dist.init_process_group("nccl")
    with pytest.raises(ValueError, match="Invalid backend: 'foo'"):
        dist.init_process_group("foo")
    assert not dist.is_nccl_available()
    assert dist.Backend("GLOO") == dist.Backend.GLOO == "gloo"
    assert str(dist.ReduceOp.SUM) == str(tdist.ReduceOp.SUM) == "RedOpType.SUM"
    assert [m for m in dist.ReduceOp.RedOpType.__members__] == [
        m for m in tdist.ReduceOp.RedOpType.__members__ if m != "PREMUL_SUM"
    ]


def test_missing_extra_names_it(monkeypatch):
    monkeypatch.setitem(__import__("sys").modules, "mpi4py", None)
    with pytest.raises(RuntimeError, match=r"pip install 'ember\[distributed\]'"):
        _mpi.mpi()


def test_served_as_torch_distributed():
    # in a fresh interpreter: installing the finder here would unload the real torch this process uses
    code = """
import ember, ember.compat
ember.compat.install()
import torch, torch.distributed, torch.nn.parallel, torch.utils.data.distributed
assert torch.distributed.init_process_group is ember.distributed.init_process_group
assert torch.distributed.all_reduce is ember.distributed.all_reduce
assert torch.nn.parallel.DistributedDataParallel is ember.nn.parallel.DistributedDataParallel
assert torch.utils.data.distributed.DistributedSampler is ember.utils.data.DistributedSampler
print("served")
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and done.stdout.strip() == "served", done.stderr
