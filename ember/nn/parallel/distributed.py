"""DistributedDataParallel: one model replica per rank, gradients averaged over the ranks during backward.

At construction the parameters and buffers are broadcast from rank 0. Gradients are copied into buckets
(parameters in reverse registration order, the order backward usually produces them, about bucket_cap_mb
each, the first bucket 1 MiB); when every gradient of a bucket has arrived, a non-blocking MPI allreduce of
the bucket starts, in bucket order on every rank, while the rest of backward runs. A callback queued on
the autograd engine waits for them all before backward returns and writes the averages into `.grad`."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import numpy as np

from ...autograd import engine
from ..modules.module import Module

_MIB = 1024 * 1024
FIRST_BUCKET_BYTES = 1 * _MIB
DEFAULT_BUCKET_CAP_MB = 25


class _Bucket:
    """Parameters whose gradients travel in one allreduce, and the flat buffer they travel in."""

    def __init__(self, params: list, dtype: np.dtype) -> None:
        self.params = params
        self.sizes = [p._data.size for p in params]
        self.offsets = np.concatenate([[0], np.cumsum(self.sizes)]).tolist()
        self.buffer = np.empty(self.offsets[-1], dtype=dtype)
        self.pending = len(params)
        self.request = None

    def fill(self) -> None:
        for p, lo, hi in zip(self.params, self.offsets, self.offsets[1:]):
            g = p._grad
            if g is None:
                self.buffer[lo:hi] = 0
            else:
                self.buffer[lo:hi] = g._data.reshape(-1)


def _make_buckets(params: list, cap_bytes: int) -> list[_Bucket]:
    """Parameters in reverse order cut into buckets of about cap_bytes (the first FIRST_BUCKET_BYTES), one dtype each."""
    buckets: list[_Bucket] = []
    current: dict = {}
    limit = min(FIRST_BUCKET_BYTES, cap_bytes)
    for p in reversed(params):
        dt = p._data.dtype
        group, size = current.get(dt, ([], 0))
        group.append(p)
        size += p._data.nbytes
        if size >= limit:
            buckets.append(_Bucket(group, dt))
            current.pop(dt, None)
            limit = cap_bytes
        else:
            current[dt] = (group, size)
    for dt, (group, _) in current.items():
        buckets.append(_Bucket(group, dt))
    return buckets


class DistributedDataParallel(Module):
    """Wrap a module for data-parallel training: same start on every rank, gradients averaged in backward."""

    def __init__(
        self,
        module: Module,
        device_ids=None,
        output_device=None,
        dim: int = 0,
        broadcast_buffers: bool = True,
        process_group=None,
        bucket_cap_mb: float | None = None,
        find_unused_parameters: bool = False,
        check_reduction: bool = False,
        gradient_as_bucket_view: bool = False,
        static_graph: bool = False,
        **kwargs,
    ) -> None:
        super().__init__()
        from ... import distributed as dist

        group = dist._resolve(process_group)
        if group is None:
            raise RuntimeError("DistributedDataParallel: this rank is not a member of the process group")
        self.module = module
        self.process_group = group
        self.device_ids = device_ids
        self.output_device = output_device
        self.dim = dim
        self.broadcast_buffers = broadcast_buffers
        self.find_unused_parameters = find_unused_parameters
        self.gradient_as_bucket_view = gradient_as_bucket_view
        self.static_graph = static_graph
        self.require_backward_grad_sync = True
        self.bucket_bytes_cap = int((DEFAULT_BUCKET_CAP_MB if bucket_cap_mb is None else bucket_cap_mb) * _MIB)
        # a communicator of its own, so the user's collectives never interleave with the gradient buckets
        self._comm = group._comm.Dup()
        self._world = group.size()
        params = [p for _, p in module.named_parameters()]
        self._check_same_model(module)
        self._broadcast([p._data for p in params] + [b._data for _, b in module.named_buffers()])
        self._trained = [p for p in params if p.requires_grad]
        self._buckets = _make_buckets(self._trained, max(self.bucket_bytes_cap, 1))
        self._bucket_of = {}
        for i, b in enumerate(self._buckets):
            for p in b.params:
                self._bucket_of[id(p)] = i
        self._next_bucket = 0
        self._in_backward = False
        self._unused_error: str | None = None
        self._grad_hooks = [p.register_post_accumulate_grad_hook(self._grad_ready) for p in self._trained]

    # ---- construction --------------------------------------------------------------------------------------

    def _check_same_model(self, module: Module) -> None:
        mine = [(n, tuple(p.shape), str(p.dtype)) for n, p in module.named_parameters()]
        everyone = self._comm.allgather(mine)
        for r, theirs in enumerate(everyone):
            if len(theirs) != len(mine):
                raise RuntimeError(
                    f"DDP expects same model across all ranks, but Rank {self.process_group.rank()} has {len(mine)} "
                    f"params, while rank {r} has inconsistent {len(theirs)} params."
                )
            for i, (a, b) in enumerate(zip(mine, theirs)):
                if a[1:] != b[1:]:
                    raise RuntimeError(
                        f"DDP expects same model across all ranks, but rank {r}'s parameter {i} ({b[0]}) has shape "
                        f"{list(b[1])} and dtype {b[2]}, while this rank's has shape {list(a[1])} and dtype {a[2]}."
                    )

    def _broadcast(self, arrays: list[np.ndarray]) -> None:
        """Overwrite arrays with rank 0's, one flat buffer per dtype."""
        if self._world == 1 or not arrays:
            return
        by_dtype: dict = {}
        for a in arrays:
            by_dtype.setdefault(a.dtype, []).append(a)
        for dt in sorted(by_dtype, key=str):
            group = by_dtype[dt]
            flat = np.concatenate([a.reshape(-1) for a in group]) if group else np.empty(0, dt)
            self._comm.Bcast(flat, root=0)
            at = 0
            for a in group:
                a[...] = flat[at : at + a.size].reshape(a.shape)
                at += a.size

    # ---- backward ------------------------------------------------------------------------------------------

    def _grad_ready(self, param) -> None:
        if not self.require_backward_grad_sync:
            return
        if not self._in_backward:
            self._in_backward = True
            engine.queue_callback(self._finish_backward)
        bucket = self._buckets[self._bucket_of[id(param)]]
        bucket.pending -= 1
        self._launch_ready()

    def _launch(self, bucket: _Bucket) -> None:
        from ... import distributed as dist

        MPI = dist._mpi.mpi()
        bucket.fill()
        bucket.request = self._comm.Iallreduce(MPI.IN_PLACE, bucket.buffer, op=MPI.SUM)

    def _launch_ready(self) -> None:
        # buckets start strictly in order, so every rank issues the same sequence of allreduces
        while self._next_bucket < len(self._buckets) and self._buckets[self._next_bucket].pending == 0:
            self._launch(self._buckets[self._next_bucket])
            self._next_bucket += 1
        started = [b.request for b in self._buckets[: self._next_bucket] if b.request is not None]
        if started:
            self._progress(started)

    @staticmethod
    def _progress(requests: list) -> None:
        from ... import distributed as dist

        dist._mpi.mpi().Request.Testall(requests)  # lets MPI move the started allreduces on

    def _finish_backward(self) -> None:
        from ... import distributed as dist

        MPI = dist._mpi.mpi()
        if self.find_unused_parameters:
            # which parameters got a gradient on any rank: those that got none anywhere keep .grad None
            flags = np.array([p._grad is not None for p in self._trained], dtype=np.uint8)
            self._comm.Allreduce(MPI.IN_PLACE, flags, op=MPI.BOR)
            used_anywhere = flags.astype(bool)
        else:
            used_anywhere = None
            pending = sum(b.pending for b in self._buckets)
            if pending:
                names = {id(p): n for n, p in self.module.named_parameters()}
                unused = [names.get(id(p), "?") for b in self._buckets for p in b.params if p._grad is None]
                self._unused_error = (
                    "Expected to have finished reduction in the prior iteration before starting a new one. This error "
                    "indicates that your module has parameters that were not used in producing loss. You can enable "
                    "unused parameter detection by passing the keyword argument `find_unused_parameters=True` to "
                    "`torch.nn.parallel.DistributedDataParallel`. Parameters which did not receive grad for rank "
                    f"{self.process_group.rank()}: {', '.join(unused)}"
                )
        while self._next_bucket < len(self._buckets):
            self._launch(self._buckets[self._next_bucket])
            self._next_bucket += 1
        MPI.Request.Waitall([b.request for b in self._buckets])
        from ... import _tensor

        index = {id(p): i for i, p in enumerate(self._trained)}
        for b in self._buckets:
            np.divide(b.buffer, self._world, out=b.buffer)
            for p, lo, hi in zip(b.params, b.offsets, b.offsets[1:]):
                avg = b.buffer[lo:hi].reshape(p._data.shape)
                if p._grad is None:
                    if used_anywhere is not None and not used_anywhere[index[id(p)]]:
                        continue
                    p._grad = _tensor._wrap(avg.copy())
                else:
                    p._grad._data[...] = avg
                    p._grad._version.value += 1
            b.pending = len(b.params)
            b.request = None
        self._next_bucket = 0
        self._in_backward = False

    def _abandon_backward(self) -> None:
        """Forget a backward pass that never reached its end: the buckets count their gradients afresh."""
        for b in self._buckets:
            b.pending = len(b.params)
            b.request = None
        self._next_bucket = 0
        self._in_backward = False

    # ---- forward -------------------------------------------------------------------------------------------

    def forward(self, *inputs, **kwargs):
        """Run the wrapped module (after taking rank 0's buffers, when broadcast_buffers)."""
        if self._unused_error is not None and self.require_backward_grad_sync:
            message, self._unused_error = self._unused_error, None
            raise RuntimeError(message)
        if self._in_backward:  # the last backward stopped part-way (it raised): its reduction never finished
            self._abandon_backward()
            raise RuntimeError(
                "Expected to have finished reduction in the prior iteration before starting a new one. The previous "
                "backward pass did not finish (it raised), so its gradients were never averaged across ranks; "
                "call zero_grad() and run the step again"
            )
        if self.broadcast_buffers and self._world > 1:
            buffers = [b._data for _, b in self.module.named_buffers()]
            if buffers:
                self._broadcast(buffers)
        return self.module(*inputs, **kwargs)

    @contextlib.contextmanager
    def no_sync(self) -> Iterator[None]:
        """Within this block, backward passes accumulate gradients locally without communicating."""
        before = self.require_backward_grad_sync
        self.require_backward_grad_sync = False
        try:
            yield
        finally:
            self.require_backward_grad_sync = before

    def __getstate__(self):
        raise RuntimeError("DistributedDataParallel cannot be pickled; save .module (or its state_dict) instead")
