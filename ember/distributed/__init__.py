"""ember.distributed: torch.distributed's process groups and collectives, run over MPI (mpi4py).

Both the "gloo" and the "mpi" backend names run on MPI: the ranks are the processes an MPI launcher started
(`ember run --nproc-per-node N`, or mpiexec). Collectives work in place on the tensors' NumPy buffers."""

from __future__ import annotations

import enum
import os
import pickle
from collections.abc import Callable, Sequence
from datetime import timedelta

import numpy as np

from .._tensor import Tensor
from . import _mpi

__all__ = [
    "Backend",
    "GroupMember",
    "ProcessGroup",
    "ReduceOp",
    "Work",
    "all_gather",
    "all_gather_into_tensor",
    "all_gather_object",
    "all_reduce",
    "barrier",
    "broadcast",
    "broadcast_object_list",
    "destroy_process_group",
    "gather",
    "get_backend",
    "get_global_rank",
    "get_group_rank",
    "get_process_group_ranks",
    "get_rank",
    "get_world_size",
    "group",
    "init_process_group",
    "irecv",
    "is_available",
    "is_gloo_available",
    "is_initialized",
    "is_mpi_available",
    "is_nccl_available",
    "is_torchelastic_launched",
    "isend",
    "new_group",
    "recv",
    "reduce",
    "reduce_scatter",
    "reduce_scatter_tensor",
    "scatter",
    "send",
]


class Backend(str):
    """A backend name; "gloo" and "mpi" both run over MPI, "nccl" needs GPUs ember does not use."""

    UNDEFINED = "undefined"
    GLOO = "gloo"
    MPI = "mpi"
    NCCL = "nccl"

    def __new__(cls, name: str) -> Backend:
        if not isinstance(name, str):
            raise ValueError(f"Backend constructor parameter must be string-ish, but got: {type(name)}")
        return super().__new__(cls, name.lower())


class RedOpType(enum.IntEnum):
    """The reduction a collective applies."""

    SUM = 0
    AVG = 1
    PRODUCT = 2
    MIN = 3
    MAX = 4
    BAND = 5
    BOR = 6
    BXOR = 7

    def __repr__(self) -> str:
        return f"<RedOpType.{self.name}: {self.value}>"

    def __str__(self) -> str:
        return f"RedOpType.{self.name}"


class ReduceOp:
    """torch.distributed.ReduceOp: ReduceOp.SUM, AVG, PRODUCT, MIN, MAX, BAND, BOR, BXOR."""

    RedOpType = RedOpType
    SUM = RedOpType.SUM
    AVG = RedOpType.AVG
    PRODUCT = RedOpType.PRODUCT
    MIN = RedOpType.MIN
    MAX = RedOpType.MAX
    BAND = RedOpType.BAND
    BOR = RedOpType.BOR
    BXOR = RedOpType.BXOR


class ProcessGroup:
    """A set of ranks with a communicator of their own (what init_process_group and new_group make)."""

    def __init__(self, comm, ranks: list[int], backend: str) -> None:
        self._comm = comm
        self._ranks = ranks
        self._backend = backend

    def rank(self) -> int:
        """This process's rank within the group."""
        return self._comm.Get_rank()

    def size(self) -> int:
        """How many ranks the group has."""
        return self._comm.Get_size()

    def name(self) -> str:
        """The backend's name, as torch's process groups answer."""
        return self._backend

    def _where(self, op: str) -> str:
        return f"ProcessGroup{'Gloo' if self._backend == 'gloo' else 'MPI'}::{op}"

    def __repr__(self) -> str:
        return f"<ProcessGroup {self._backend} ranks={self._ranks}>"


class GroupMember:
    """The default group (WORLD) and the marker new_group returns on ranks outside the new group."""

    WORLD: ProcessGroup | None = None
    NON_GROUP_MEMBER = object()


group = GroupMember  # torch.distributed.group.WORLD

_STATE: dict = {"groups": []}


def is_available() -> bool:
    """Whether the distributed package can run here (mpi4py and an MPI library installed)."""
    return _mpi.available()


def is_gloo_available() -> bool:
    """Whether the "gloo" backend name can be used (it runs over MPI)."""
    return _mpi.available()


def is_mpi_available() -> bool:
    """Whether the "mpi" backend can be used."""
    return _mpi.available()


def is_nccl_available() -> bool:
    """Always False: NCCL needs CUDA GPUs and ember runs on the CPU."""
    return False


def is_torchelastic_launched() -> bool:
    """Whether this process was started by the launcher (`ember run --nproc-per-node`)."""
    return os.environ.get("TORCHELASTIC_RUN_ID") is not None


def is_initialized() -> bool:
    """Whether init_process_group has run (and destroy_process_group has not)."""
    return GroupMember.WORLD is not None


def _default_group() -> ProcessGroup:
    if GroupMember.WORLD is None:
        raise ValueError("Default process group has not been initialized, please make sure to call init_process_group.")
    return GroupMember.WORLD


def _resolve(group_: ProcessGroup | None) -> ProcessGroup | None:
    """The group a call names (None: the default); None when this rank is not a member."""
    if group_ is None or group_ is GroupMember.WORLD:
        return _default_group()
    _default_group()
    if group_ is GroupMember.NON_GROUP_MEMBER:
        return None
    if not isinstance(group_, ProcessGroup):
        raise TypeError(f"group must be a ProcessGroup, got {type(group_).__name__}")
    return group_


def _env(name: str, rendezvous: str) -> str:
    value = os.environ.get(name)
    if value is None:
        raise ValueError(
            f"Error initializing torch.distributed using {rendezvous} rendezvous: environment variable {name} expected, but not set"
        )
    return value


def _launched_by_mpi() -> bool:
    return any(k in os.environ for k in ("PMI_RANK", "PMIX_RANK", "OMPI_COMM_WORLD_RANK"))


def _check_backend(backend: str | None) -> str:
    if backend is None:
        return Backend.GLOO
    name = str(backend).lower()
    # "cpu:gloo,cuda:nccl" style: the CPU entry decides
    if ":" in name:
        parts = dict(p.split(":", 1) for p in name.split(",") if ":" in p)
        name = parts.get("cpu", name)
    if name == Backend.NCCL:
        raise RuntimeError(
            "ember.distributed has no 'nccl' backend: NCCL needs CUDA GPUs and ember runs on the CPU; "
            "use init_process_group('gloo') (or 'mpi'), which ember runs over MPI"
        )
    if name not in (Backend.GLOO, Backend.MPI):
        raise ValueError(f"Invalid backend: '{backend}'")
    return Backend(name)


def init_process_group(
    backend: str | None = None,
    init_method: str | None = None,
    timeout: timedelta | None = None,
    world_size: int = -1,
    rank: int = -1,
    store=None,
    group_name: str = "",
    pg_options=None,
    device_id=None,
) -> None:
    """Join the default process group: this process's rank among the world_size the MPI launcher started."""
    if GroupMember.WORLD is not None:
        raise ValueError("trying to initialize the default process group twice!")
    name = _check_backend(backend)
    method = init_method or ("env://" if store is None else "store")
    if method.startswith("env://"):
        # torch reads RANK, WORLD_SIZE, MASTER_ADDR and MASTER_PORT in this order; an MPI launcher
        # (mpiexec without ember's launcher) already tells the rank and size, so it needs none of them.
        if not _launched_by_mpi():
            if rank < 0:
                rank = int(_env("RANK", "env://"))
            if world_size < 0:
                world_size = int(_env("WORLD_SIZE", "env://"))
            _env("MASTER_ADDR", "env://")
            _env("MASTER_PORT", "env://")
        else:
            rank = int(os.environ.get("RANK", rank)) if rank < 0 else rank
            world_size = int(os.environ.get("WORLD_SIZE", world_size)) if world_size < 0 else world_size
    elif not method.startswith(("tcp://", "file://", "store")):
        raise ValueError(f"No rendezvous handler for {method}")
    MPI = _mpi.mpi()
    world = MPI.COMM_WORLD
    mpi_rank, mpi_size = world.Get_rank(), world.Get_size()
    rank = mpi_rank if rank < 0 else int(rank)
    world_size = mpi_size if world_size < 0 else int(world_size)
    if (rank, world_size) != (mpi_rank, mpi_size):
        raise RuntimeError(
            f"init_process_group: rank {rank} of world size {world_size} does not match this process's MPI rank "
            f"{mpi_rank} of {mpi_size}: ember's ranks are the processes an MPI launcher starts; "
            "start the program with `ember run --nproc-per-node N script.py`"
        )
    GroupMember.WORLD = ProcessGroup(world.Dup(), list(range(mpi_size)), name)
    _STATE["timeout"] = timeout


def destroy_process_group(group: ProcessGroup | None = None) -> None:
    """Leave the default group (and every group made from it), or free one group."""
    if GroupMember.WORLD is None:
        raise AssertionError("Process group cannot be None")
    if group is None or group is GroupMember.WORLD:
        for g in _STATE["groups"]:
            g._comm.Free()
        _STATE["groups"] = []
        GroupMember.WORLD._comm.Free()
        GroupMember.WORLD = None
        return
    if isinstance(group, ProcessGroup) and group in _STATE["groups"]:
        _STATE["groups"].remove(group)
        group._comm.Free()


def get_rank(group: ProcessGroup | None = None) -> int:
    """This process's rank in the group (-1 when it is not a member)."""
    g = _resolve(group)
    return -1 if g is None else g.rank()


def get_world_size(group: ProcessGroup | None = None) -> int:
    """How many ranks the group has (-1 when this process is not a member)."""
    g = _resolve(group)
    return -1 if g is None else g.size()


def get_backend(group: ProcessGroup | None = None) -> str:
    """The backend name the group was made with."""
    g = _resolve(group)
    if g is None:
        raise ValueError("Invalid process group specified")
    return g._backend


def get_process_group_ranks(group: ProcessGroup) -> list[int]:
    """The global ranks of a group's members, in group-rank order."""
    g = _resolve(group)
    return list(g._ranks) if g is not None else []


def get_global_rank(group: ProcessGroup, group_rank: int) -> int:
    """The global rank of the group's member group_rank."""
    ranks = get_process_group_ranks(group)
    if not 0 <= group_rank < len(ranks):
        raise ValueError(f"Group rank {group_rank} is not part of group {group}")
    return ranks[group_rank]


def get_group_rank(group: ProcessGroup, global_rank: int) -> int:
    """The rank within group of the process with global rank global_rank."""
    ranks = get_process_group_ranks(group)
    if global_rank not in ranks:
        raise ValueError(f"Global rank {global_rank} is not part of group {group}")
    return ranks.index(global_rank)


def new_group(
    ranks: Sequence[int] | None = None,
    timeout: timedelta | None = None,
    backend: str | None = None,
    pg_options=None,
    use_local_synchronization: bool = False,
    group_desc: str | None = None,
    device_id=None,
):
    """A group of some of the ranks (every rank must call it); non-members get GroupMember.NON_GROUP_MEMBER."""
    world = _default_group()
    size = world.size()
    members = sorted(set(range(size) if ranks is None else (int(r) for r in ranks)))
    for r in members:
        if not 0 <= r < size:
            raise ValueError(f"Rank {r} is out of range. Valid ranks are 0 to {size - 1} (world_size={size})")
    MPI = _mpi.mpi()
    me = world.rank()
    comm = world._comm.Split(0 if me in members else MPI.UNDEFINED, members.index(me) if me in members else 0)
    if me not in members:
        return GroupMember.NON_GROUP_MEMBER
    g = ProcessGroup(comm, members, _check_backend(backend) if backend is not None else world._backend)
    _STATE["groups"].append(g)
    return g


# ---- completion handles ------------------------------------------------------------------------------------


class Work:
    """The handle an async_op=True collective returns: wait() for it, or ask is_completed()."""

    def __init__(self, requests: list, finish: Callable[[], None] | None = None, result: list | None = None) -> None:
        self._requests = requests
        self._finish = finish
        self._done = False
        self._result = result or []
        self._error: BaseException | None = None

    def _complete(self) -> None:
        if not self._done:
            self._done = True
            if self._finish is not None:
                try:
                    self._finish()
                except BaseException as e:
                    self._error = e
                    raise

    def wait(self, timeout: timedelta | None = None) -> bool:
        """Block until the operation is done and its results are in the tensors."""
        if not self._done and self._requests:
            _mpi.mpi().Request.Waitall(self._requests)
        self._complete()
        return True

    def is_completed(self) -> bool:
        """Whether the operation has finished (without blocking)."""
        if self._done:
            return True
        if not self._requests or _mpi.mpi().Request.Testall(self._requests):
            self._complete()
            return True
        return False

    def is_success(self) -> bool:
        """Whether the operation finished without an error."""
        return self.is_completed() and self._error is None

    def exception(self) -> BaseException | None:
        """The error the operation ended with, if any."""
        return self._error

    def result(self) -> list:
        """The output tensors (after wait())."""
        self.wait()
        return self._result

    def synchronize(self) -> None:
        """Same as wait() on the CPU."""
        self.wait()


def _finish(work: Work, async_op: bool):
    if async_op:
        return work
    work.wait()
    return None


# ---- buffers ----------------------------------------------------------------------------------------------

_ARITH = {"SUM", "AVG", "PRODUCT", "MIN", "MAX"}


def _check_tensor(t, arg: str = "tensor") -> None:
    if not isinstance(t, Tensor):
        raise TypeError(
            f"Invalid function argument. Expected parameter `{arg}` of type torch.Tensor but got {type(t)} instead."
        )


def _contiguous(t: Tensor) -> np.ndarray:
    """t's array, or a contiguous copy of it when it is a strided view (written back by _write_back)."""
    a = t._data
    return a if a.flags.c_contiguous and a.flags.writeable else np.ascontiguousarray(a)


def _write_back(t: Tensor, buf: np.ndarray) -> None:
    if buf is not t._data:
        t._data[...] = buf.reshape(t._data.shape)
    t._version.value += 1


def _mpi_op(op, dtype: np.dtype):
    MPI = _mpi.mpi()
    op = RedOpType(op) if not isinstance(op, RedOpType) else op
    if dtype == np.bool_:
        return {
            RedOpType.SUM: MPI.LOR,
            RedOpType.MAX: MPI.LOR,
            RedOpType.BOR: MPI.LOR,
            RedOpType.MIN: MPI.LAND,
            RedOpType.PRODUCT: MPI.LAND,
            RedOpType.BAND: MPI.LAND,
            RedOpType.BXOR: MPI.LXOR,
        }[op]
    if op in (RedOpType.BAND, RedOpType.BOR, RedOpType.BXOR) and dtype.kind == "f":
        raise RuntimeError(f"Cannot use ReduceOp.{op.name} with floating point tensors")
    return {
        RedOpType.SUM: MPI.SUM,
        RedOpType.AVG: MPI.SUM,
        RedOpType.PRODUCT: MPI.PROD,
        RedOpType.MIN: MPI.MIN,
        RedOpType.MAX: MPI.MAX,
        RedOpType.BAND: MPI.BAND,
        RedOpType.BOR: MPI.BOR,
        RedOpType.BXOR: MPI.BXOR,
    }[op]


def _check_op(op, t: Tensor) -> RedOpType:
    if isinstance(op, RedOpType):
        red = op
    elif isinstance(op, int) and not isinstance(op, bool) and op in RedOpType._value2member_map_:
        red = RedOpType(op)
    else:
        raise TypeError(f"op must be a torch.distributed.ReduceOp, got {op!r}")
    if red is RedOpType.AVG and t._data.dtype.kind not in "fc":
        raise RuntimeError(f"result type Float can't be cast to the desired output type {_type_name(t)}")
    return red


def _type_name(t: Tensor) -> str:
    from .._dtype import scalar_type_name

    return scalar_type_name(t.dtype)


def _reduce_view(buf: np.ndarray) -> np.ndarray:
    """The array MPI reduces: float16 travels as float32 (MPI has no half arithmetic everywhere)."""
    return buf.astype(np.float32) if buf.dtype == np.float16 else buf


def _agree(g: ProcessGroup, what: str, meta: tuple) -> None:
    """Raise on every rank when the ranks called different collectives or passed different shapes or dtypes."""
    if g.size() == 1:
        return
    seen = g._comm.allgather((what, meta))
    if any(s != seen[0] for s in seen):
        lines = "; ".join(f"rank {i}: {w} {m}" for i, (w, m) in enumerate(seen))
        raise RuntimeError(
            f"{g._where(what)}: the ranks' calls do not match (shapes, dtypes or collectives differ): {lines}"
        )


def _meta(t: Tensor) -> tuple:
    return (str(t._data.dtype), tuple(t._data.shape))


def _root(g: ProcessGroup, rank: int, what: str, group_rank: int | None = None) -> int:
    """A global rank (or a group rank, when given) as a rank of g, checked."""
    if group_rank is not None:
        r = int(group_rank)
    elif g is GroupMember.WORLD:
        r = int(rank)
    else:
        if rank not in g._ranks:
            raise ValueError(f"Global rank {rank} is not part of group {g}")
        r = g._ranks.index(rank)
    if not 0 <= r < g.size():
        raise RuntimeError(f"{g._where(what)}: invalid root rank: {r}")
    return r


# ---- collectives ------------------------------------------------------------------------------------------


def barrier(group: ProcessGroup | None = None, async_op: bool = False, device_ids=None):
    """Wait until every rank of the group has reached this call."""
    g = _resolve(group)
    if g is None:
        return None
    return _finish(Work([g._comm.Ibarrier()]), async_op)


def broadcast(
    tensor: Tensor, src: int | None = None, group: ProcessGroup | None = None, async_op: bool = False, group_src=None
):
    """Copy src's tensor into the tensor of every rank."""
    _check_tensor(tensor)
    g = _resolve(group)
    if g is None:
        return None
    root = _root(g, 0 if src is None else src, "broadcast", group_src)
    _agree(g, "broadcast", _meta(tensor))
    buf = _contiguous(tensor)
    return _finish(Work([g._comm.Ibcast(buf, root=root)], lambda: _write_back(tensor, buf), [tensor]), async_op)


def all_reduce(tensor: Tensor, op=ReduceOp.SUM, group: ProcessGroup | None = None, async_op: bool = False):
    """Reduce the tensor over all ranks (in place) with op: SUM, AVG, PRODUCT, MIN, MAX, BAND, BOR, BXOR."""
    _check_tensor(tensor)
    g = _resolve(group)
    if g is None:
        return None
    red = _check_op(op, tensor)
    _agree(g, "allreduce", (*_meta(tensor), int(red)))
    buf = _contiguous(tensor)
    work_buf = _reduce_view(buf)
    MPI = _mpi.mpi()
    request = g._comm.Iallreduce(MPI.IN_PLACE, work_buf, op=_mpi_op(red, work_buf.dtype))
    size = g.size()

    def done() -> None:
        if red is RedOpType.AVG:
            np.divide(work_buf, size, out=work_buf)
        if work_buf is not buf:
            buf[...] = work_buf
        _write_back(tensor, buf)

    return _finish(Work([request], done, [tensor]), async_op)


def reduce(
    tensor: Tensor,
    dst: int | None = None,
    op=ReduceOp.SUM,
    group: ProcessGroup | None = None,
    async_op: bool = False,
    group_dst=None,
):
    """Reduce the tensor over all ranks into dst's tensor (the others' tensors are left as they were)."""
    _check_tensor(tensor)
    g = _resolve(group)
    if g is None:
        return None
    red = _check_op(op, tensor)
    root = _root(g, 0 if dst is None else dst, "reduce", group_dst)
    _agree(g, "reduce", (*_meta(tensor), int(red)))
    buf = _contiguous(tensor)
    work_buf = _reduce_view(buf)
    MPI = _mpi.mpi()
    mine = g.rank() == root
    if mine:
        request = g._comm.Ireduce(MPI.IN_PLACE, work_buf, op=_mpi_op(red, work_buf.dtype), root=root)
    else:
        request = g._comm.Ireduce(work_buf, None, op=_mpi_op(red, work_buf.dtype), root=root)
    size = g.size()

    def done() -> None:
        if not mine:
            return
        if red is RedOpType.AVG:
            np.divide(work_buf, size, out=work_buf)
        if work_buf is not buf:
            buf[...] = work_buf
        _write_back(tensor, buf)

    return _finish(Work([request], done, [tensor]), async_op)


def _check_list(g: ProcessGroup, what: str, tensors, like: Tensor, kind: str) -> None:
    if not isinstance(tensors, (list, tuple)):
        raise TypeError(f"Invalid function argument: {kind} should be a list of tensors")
    if len(tensors) != g.size():
        raise RuntimeError(
            f"{g._where(what)}: invalid {kind} at index 0 (expected length {g.size()}, got {len(tensors)})"
        )
    for i, t in enumerate(tensors):
        _check_tensor(t, kind)
        if t._data.shape != like._data.shape:
            raise RuntimeError(
                f"{g._where(what)}: invalid tensor size at index {i} (expected {_shape(like)}, got {_shape(t)})"
            )
        if t._data.dtype != like._data.dtype:
            raise RuntimeError(
                f"{g._where(what)}: invalid tensor type at index {i} (expected {like.dtype}, got {t.dtype})"
            )


def _shape(t: Tensor) -> str:
    return "(" + ", ".join(str(s) for s in t._data.shape) + ")"


def all_gather(tensor_list: list[Tensor], tensor: Tensor, group: ProcessGroup | None = None, async_op: bool = False):
    """Fill tensor_list[i] with rank i's tensor, on every rank."""
    _check_tensor(tensor)
    g = _resolve(group)
    if g is None:
        return None
    _check_list(g, "allgather", tensor_list, tensor, "output tensor list")
    _agree(g, "allgather", _meta(tensor))
    send = _contiguous(tensor)
    recv = np.empty((g.size(), *send.shape), dtype=send.dtype)
    request = g._comm.Iallgather(send, recv)

    def done() -> None:
        for i, t in enumerate(tensor_list):
            _write_back(t, recv[i])

    return _finish(Work([request], done, list(tensor_list)), async_op)


def all_gather_into_tensor(
    output_tensor: Tensor, input_tensor: Tensor, group: ProcessGroup | None = None, async_op: bool = False
):
    """Write every rank's input_tensor, in rank order, into output_tensor (world_size times as many elements)."""
    _check_tensor(output_tensor, "output_tensor")
    _check_tensor(input_tensor, "input_tensor")
    g = _resolve(group)
    if g is None:
        return None
    if output_tensor._data.size != input_tensor._data.size * g.size():
        raise RuntimeError(
            f"{g._where('_allgather_base')}: output tensor size must be equal to world_size times input tensor size"
        )
    if output_tensor._data.dtype != input_tensor._data.dtype:
        raise RuntimeError(f"{g._where('_allgather_base')}: output tensor must have the same type as input tensor")
    _agree(g, "allgather_into_tensor", _meta(input_tensor))
    send = _contiguous(input_tensor)
    recv = _contiguous(output_tensor)
    request = g._comm.Iallgather(send, recv)
    return _finish(Work([request], lambda: _write_back(output_tensor, recv), [output_tensor]), async_op)


def reduce_scatter(
    output: Tensor, input_list: list[Tensor], op=ReduceOp.SUM, group: ProcessGroup | None = None, async_op: bool = False
):
    """Reduce input_list element-wise over the ranks and give rank i the i-th reduced tensor in output."""
    _check_tensor(output, "output")
    g = _resolve(group)
    if g is None:
        return None
    if not isinstance(input_list, (list, tuple)) or len(input_list) != g.size():
        raise RuntimeError("invalid input tensor list size, must be world size")
    for i, t in enumerate(input_list):
        _check_tensor(t, "input_list")
        if t._data.shape != output._data.shape or t._data.dtype != output._data.dtype:
            raise RuntimeError(
                f"{g._where('reduce_scatter')}: invalid tensor at index {i} (expected {output.dtype} {_shape(output)}, "
                f"got {t.dtype} {_shape(t)})"
            )
    send = np.stack([_reduce_view(np.ascontiguousarray(t._data)) for t in input_list])
    return _reduce_scatter(g, output, send, op, "reduce_scatter", async_op)


def reduce_scatter_tensor(
    output: Tensor, input: Tensor, op=ReduceOp.SUM, group: ProcessGroup | None = None, async_op: bool = False
):
    """reduce_scatter with the inputs as one tensor of world_size times output's elements."""
    _check_tensor(output, "output")
    _check_tensor(input, "input")
    g = _resolve(group)
    if g is None:
        return None
    if input._data.size != output._data.size * g.size():
        raise RuntimeError(
            f"{g._where('_reduce_scatter_base')}: input tensor must be the same size as output size times world size"
        )
    if input._data.dtype != output._data.dtype:
        raise RuntimeError(
            f"{g._where('_reduce_scatter_base')}: input tensor must be the same type as the output tensor"
        )
    send = _reduce_view(np.ascontiguousarray(input._data))
    return _reduce_scatter(g, output, send, op, "reduce_scatter_tensor", async_op)


def _reduce_scatter(g: ProcessGroup, output: Tensor, send: np.ndarray, op, what: str, async_op: bool):
    red = _check_op(op, output)
    _agree(g, what, (*_meta(output), int(red)))
    buf = _contiguous(output)
    work_buf = np.empty(buf.shape, dtype=send.dtype)
    request = g._comm.Ireduce_scatter_block(send.reshape(-1), work_buf, op=_mpi_op(red, send.dtype))
    size = g.size()

    def done() -> None:
        if red is RedOpType.AVG:
            np.divide(work_buf, size, out=work_buf)
        buf[...] = work_buf
        _write_back(output, buf)

    return _finish(Work([request], done, [output]), async_op)


def gather(
    tensor: Tensor,
    gather_list: list[Tensor] | None = None,
    dst: int | None = None,
    group: ProcessGroup | None = None,
    async_op: bool = False,
    group_dst=None,
):
    """Collect every rank's tensor into dst's gather_list (in rank order)."""
    _check_tensor(tensor)
    g = _resolve(group)
    if g is None:
        return None
    root = _root(g, 0 if dst is None else dst, "gather", group_dst)
    mine = g.rank() == root
    if mine:
        if gather_list is None:
            raise ValueError("Argument ``gather_list`` must be specified on destination rank.")
        if len(gather_list) != g.size():
            raise RuntimeError(
                f"{g._where('gather')}: Incorrect output list size {len(gather_list)}. Output list size should be "
                f"{g.size()}, same as size of the process group."
            )
        _check_list(g, "gather", gather_list, tensor, "output tensor list")
    elif gather_list:
        raise ValueError("Argument ``gather_list`` must NOT be specified on non-destination ranks.")
    _agree(g, "gather", _meta(tensor))
    send = _contiguous(tensor)
    recv = np.empty((g.size(), *send.shape), dtype=send.dtype) if mine else None
    request = g._comm.Igather(send, recv, root=root)

    def done() -> None:
        if mine:
            for i, t in enumerate(gather_list):
                _write_back(t, recv[i])

    return _finish(Work([request], done, list(gather_list or [])), async_op)


def scatter(
    tensor: Tensor,
    scatter_list: list[Tensor] | None = None,
    src: int | None = None,
    group: ProcessGroup | None = None,
    async_op: bool = False,
    group_src=None,
):
    """Give rank i the tensor scatter_list[i] of rank src (written into its tensor)."""
    _check_tensor(tensor)
    g = _resolve(group)
    if g is None:
        return None
    root = _root(g, 0 if src is None else src, "scatter", group_src)
    mine = g.rank() == root
    if mine:
        if scatter_list is None:
            raise ValueError("Argument ``scatter_list`` must be specified on source rank.")
        if len(scatter_list) != g.size():
            raise RuntimeError(
                f"{g._where('scatter')}: Incorrect input list size {len(scatter_list)}. Input list size should be "
                f"{g.size()}, same as size of the process group."
            )
        _check_list(g, "scatter", scatter_list, tensor, "input tensor list")
    elif scatter_list:
        raise ValueError("Argument ``scatter_list`` must NOT be specified on non-source ranks.")
    _agree(g, "scatter", _meta(tensor))
    send = np.stack([np.ascontiguousarray(t._data) for t in scatter_list]) if mine else None
    buf = _contiguous(tensor)
    request = g._comm.Iscatter(send, buf, root=root)
    return _finish(Work([request], lambda: _write_back(tensor, buf), [tensor]), async_op)


# ---- point to point -----------------------------------------------------------------------------------------


def isend(tensor: Tensor, dst: int | None = None, group: ProcessGroup | None = None, tag: int = 0, group_dst=None):
    """Start sending the tensor to rank dst; returns a Work to wait on."""
    _check_tensor(tensor)
    g = _resolve(group)
    if g is None:
        return None
    peer = _root(g, dst, "send", group_dst)
    buf = np.ascontiguousarray(tensor._data)
    return Work([g._comm.Isend(buf, dest=peer, tag=tag)], result=[tensor])


def irecv(
    tensor: Tensor, src: int | None = None, group: ProcessGroup | None = None, tag: int = 0, group_src=None
) -> Work | None:
    """Start receiving into the tensor from rank src (any rank when None); returns a Work to wait on."""
    _check_tensor(tensor)
    g = _resolve(group)
    if g is None:
        return None
    MPI = _mpi.mpi()
    peer = MPI.ANY_SOURCE if src is None and group_src is None else _root(g, src, "recv", group_src)
    buf = _contiguous(tensor)
    request = g._comm.Irecv(buf, source=peer, tag=tag)
    return Work([request], lambda: _write_back(tensor, buf), [tensor])


def send(
    tensor: Tensor, dst: int | None = None, group: ProcessGroup | None = None, tag: int = 0, group_dst=None
) -> None:
    """Send the tensor to rank dst (returns once it may be reused)."""
    work = isend(tensor, dst, group, tag, group_dst)
    if work is not None:
        work.wait()


def recv(
    tensor: Tensor, src: int | None = None, group: ProcessGroup | None = None, tag: int = 0, group_src=None
) -> int:
    """Receive into the tensor from rank src (any rank when None); returns the sender's rank."""
    _check_tensor(tensor)
    g = _resolve(group)
    if g is None:
        return -1
    MPI = _mpi.mpi()
    peer = MPI.ANY_SOURCE if src is None and group_src is None else _root(g, src, "recv", group_src)
    buf = _contiguous(tensor)
    status = MPI.Status()
    g._comm.Recv(buf, source=peer, tag=tag, status=status)
    _write_back(tensor, buf)
    sender = status.Get_source()
    return g._ranks[sender]


# ---- Python objects ---------------------------------------------------------------------------------------


def broadcast_object_list(
    object_list: list, src: int | None = None, group: ProcessGroup | None = None, device=None, group_src=None
) -> None:
    """Replace object_list's items on every rank with src's (pickled)."""
    g = _resolve(group)
    if g is None:
        return
    root = _root(g, 0 if src is None else src, "broadcast", group_src)
    data = g._comm.bcast(pickle.dumps(list(object_list)) if g.rank() == root else None, root=root)
    if g.rank() != root:
        object_list[:] = pickle.loads(data)[: len(object_list)]


def all_gather_object(object_list: list, obj, group: ProcessGroup | None = None) -> None:
    """Set object_list[i] to rank i's obj (pickled), on every rank."""
    g = _resolve(group)
    if g is None:
        return
    for i, item in enumerate(g._comm.allgather(obj)):
        object_list[i] = item


def gather_object(
    obj,
    object_gather_list: list | None = None,
    dst: int | None = None,
    group: ProcessGroup | None = None,
    group_dst=None,
) -> None:
    """Collect every rank's obj into dst's object_gather_list."""
    g = _resolve(group)
    if g is None:
        return
    root = _root(g, 0 if dst is None else dst, "gather", group_dst)
    items = g._comm.gather(obj, root=root)
    if g.rank() == root:
        if object_gather_list is None:
            raise ValueError("Argument ``object_gather_list`` must be specified on destination rank.")
        for i, item in enumerate(items):
            object_gather_list[i] = item


def scatter_object_list(
    scatter_object_output_list: list,
    scatter_object_input_list: list | None = None,
    src: int | None = None,
    group: ProcessGroup | None = None,
    group_src=None,
) -> None:
    """Give rank i src's scatter_object_input_list[i], as scatter_object_output_list[0]."""
    g = _resolve(group)
    if g is None:
        return
    root = _root(g, 0 if src is None else src, "scatter", group_src)
    item = g._comm.scatter(list(scatter_object_input_list) if g.rank() == root else None, root=root)
    scatter_object_output_list[0] = item


__all__ += ["gather_object", "scatter_object_list"]
