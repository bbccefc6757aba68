"""Tensor: a NumPy array plus the autograd metadata torch keeps (requires_grad, grad, grad_fn,
a version counter). The math lives in ember.ops; the ops modules bind their methods here."""

from __future__ import annotations

import contextvars
import copy
import numbers
import warnings
import weakref

import numpy as np

from . import _dtype as dt
from ._device import CPU, check_device, device
from ._quiet_floats import quietly
from ._size import Size


class _Version:
    """Counts in-place changes; shared by a tensor and its views.

    The count starts as the class attribute (0) and becomes an instance attribute on the first
    change, so creating one (once per tensor) runs no Python code."""

    value = 0


class _InferenceVersion(_Version):
    """The counter of a tensor made in inference mode (and of its views): marks it for is_inference()."""


# Whether an inference_mode block is active (read and written by autograd.grad_mode). It lives here
# because making a tensor checks it.
_inference_mode = contextvars.ContextVar("ember_inference_mode", default=False)


_NP_TO_DTYPE = {d.np: d for d in dt.ALL}


@quietly
def _array_from_data(data, dtype=None) -> np.ndarray:
    """Convert Python data (nested lists, scalars, arrays, tensors) to an array with torch's dtype rules."""
    if isinstance(data, Tensor):
        arr = data._data
    elif isinstance(data, np.ndarray):
        dt.from_numpy_dtype(data.dtype)
        arr = data
    elif isinstance(data, np.generic):
        arr = np.asarray(data)
        dt.from_numpy_dtype(arr.dtype)
    elif isinstance(data, (list, tuple)):
        arr = _array_from_sequence(data, dtype)
    elif isinstance(data, bool):
        arr = np.array(data, dtype=np.bool_)
    elif isinstance(data, numbers.Integral):
        arr = _int64_array(data)
    elif isinstance(data, numbers.Real):
        arr = np.array(data, dtype=dt.get_default_dtype().np)
    elif isinstance(data, (str, bytes)):
        raise TypeError(f"new(): invalid data type '{type(data).__name__}'")
    else:
        raise RuntimeError(f"Could not infer dtype of {type(data).__name__}")
    if dtype is not None:
        d = dt.to_dtype(dtype)
        if arr.dtype != d.np:
            arr = arr.astype(d.np)
    return arr


def _int64_array(value) -> np.ndarray:
    try:
        return np.array(value, dtype=np.int64)
    except OverflowError:
        raise ValueError("Overflow when unpacking long long") from None


_SCALAR_DTYPES = {float: None, int: dt.int64, bool: dt.bool_}


def _leaf_dtypes(seq, found: set) -> bool:
    """Add the dtype of every leaf of a nested sequence to found; True if any leaf is a Tensor."""
    has_tensor = False
    for ty in set(map(type, seq)):
        if ty in _SCALAR_DTYPES:
            found.add(_SCALAR_DTYPES[ty] or dt.get_default_dtype())
            continue
        for item in seq:
            if type(item) is not ty:
                continue
            if isinstance(item, (list, tuple)):
                has_tensor |= _leaf_dtypes(item, found)
            elif isinstance(item, Tensor):
                has_tensor = True
                found.add(item.dtype)
            elif isinstance(item, np.ndarray):
                found.add(dt.from_numpy_dtype(item.dtype))
            elif isinstance(item, np.generic):
                found.add(dt.from_numpy_dtype(np.asarray(item).dtype))
            elif isinstance(item, bool):
                found.add(dt.bool_)
            elif isinstance(item, numbers.Integral):
                found.add(dt.int64)
            elif isinstance(item, numbers.Real):
                found.add(dt.get_default_dtype())
            elif isinstance(item, (str, bytes)):
                raise TypeError(f"new(): invalid data type '{type(item).__name__}'")
            else:
                raise RuntimeError(f"Could not infer dtype of {type(item).__name__}")
    return has_tensor


def _array_from_sequence(seq, dtype=None) -> np.ndarray:
    found: set = set()
    has_tensor = _leaf_dtypes(seq, found)
    if dtype is not None:
        target = dt.to_dtype(dtype)
    elif not found:
        target = dt.get_default_dtype()
    else:
        it = iter(found)
        target = next(it)
        for d in it:
            target = dt.promote_types(target, d)
    if has_tensor:
        seq = _tensors_to_items(seq)
    try:
        arr = np.array(seq, dtype=target.np)
    except ValueError:
        raise ValueError(_ragged_message(seq)) from None
    except OverflowError:
        raise ValueError("Overflow when unpacking long long") from None
    if arr.dtype == object:
        raise ValueError(_ragged_message(seq))
    return arr


def _tensors_to_items(seq):
    if isinstance(seq, Tensor):
        if seq._data.size != 1:
            raise TypeError("only integer tensors of a single element can be converted to an index")
        return seq._data.reshape(()).item() if seq._data.ndim == 0 else seq._data.tolist()
    if isinstance(seq, (list, tuple)):
        return [_tensors_to_items(s) for s in seq]
    return seq


def _ragged_message(seq) -> str:
    """torch's wording for a nested sequence whose lengths disagree."""
    shape = []
    first = seq
    while isinstance(first, (list, tuple, np.ndarray)):
        shape.append(len(first))
        if not len(first):
            break
        first = first[0]

    def walk(s, dim):
        if dim == len(shape):
            return None
        if not isinstance(s, (list, tuple, np.ndarray)):
            return "not a sequence"
        if len(s) != shape[dim]:
            return f"expected sequence of length {shape[dim]} at dim {dim} (got {len(s)})"
        for item in s:
            msg = walk(item, dim + 1)
            if msg:
                return msg
        return None

    return walk(seq, 0) or "could not build a tensor from ragged nested sequences"


def parse_to_args(args: tuple, kwargs: dict) -> tuple[dt.dtype | None, bool | None]:
    """Read the arguments of Tensor.to / Module.to as torch does: (dtype or None, copy or None when not given).

    Forms: to(device=None, dtype=None, non_blocking=False, copy=False), to(dtype, non_blocking, copy),
    to(tensor, non_blocking, copy), plus memory_format=; the device must be the CPU."""
    unknown = sorted(set(kwargs) - {"device", "dtype", "non_blocking", "copy", "memory_format"})
    if unknown:
        raise TypeError(f"to() got an unexpected keyword argument '{unknown[0]}'")
    dev, dtype = kwargs.get("device"), kwargs.get("dtype")
    rest = list(args)
    kinds = ", ".join(type(a).__name__ for a in args)
    invalid = TypeError(f"to() received an invalid combination of arguments - got ({kinds})")
    if rest and isinstance(rest[0], Tensor):  # to(tensor, non_blocking, copy)
        dtype = rest.pop(0).dtype
    elif rest:
        first = rest.pop(0)
        if first is None or isinstance(first, (str, device)) or type(first) is int:  # to(device, dtype, ...)
            dev = first
            if rest:
                if isinstance(rest[0], bool):
                    raise invalid
                dtype = rest.pop(0)
        elif isinstance(first, bool):
            raise invalid
        else:  # to(dtype, non_blocking, copy)
            dtype = first
    flags = {"non_blocking": kwargs.get("non_blocking", False), "copy": kwargs.get("copy")}
    for name, value in zip(("non_blocking", "copy"), rest):
        flags[name] = value
    if len(rest) > 2 or not all(isinstance(v, bool) for v in flags.values() if v is not None):
        raise invalid
    check_device(dev)
    return (None if dtype is None else dt.to_dtype(dtype)), flags["copy"]


class Tensor:
    """A multi-dimensional array that can record operations for automatic differentiation."""

    __slots__ = (
        "_data",
        "_requires_grad",
        "_grad",
        "grad_fn",
        "_version",
        "_base",
        "_acc",
        "_hooks",
        "_post_acc_hooks",
        "_retains_grad",
        "_detached",  # set (True) only on detach() results: aliases of the base that are not autograd views
        "__weakref__",
        "__dict__",
    )
    __array_priority__ = 1000  # so ndarray <op> Tensor defers to Tensor

    def __init__(self, *args, device=None, dtype=None) -> None:
        # The legacy constructor: Tensor(2, 3) is uninitialized, Tensor([1, 2]) copies data.
        check_device(device)
        d = dt.to_dtype(dtype) if dtype is not None else self._legacy_dtype()
        if not args:
            self._init(np.empty((0,), dtype=d.np))
            return
        if len(args) == 1 and not isinstance(args[0], numbers.Integral):
            a = args[0]
            if isinstance(a, Size) or (isinstance(a, tuple) and all(isinstance(i, int) for i in a) and not a):
                arr = np.empty(tuple(a), dtype=d.np)
            else:
                arr = np.array(_array_from_data(a), dtype=d.np)
        elif all(isinstance(a, numbers.Integral) for a in args):
            arr = np.zeros(tuple(int(a) for a in args), dtype=d.np)
        else:
            raise TypeError(f"Tensor(): cannot build a tensor from arguments {args!r}")
        self._init(arr)

    _legacy_dtype = staticmethod(lambda: dt.get_default_dtype())

    def _init(self, arr: np.ndarray, requires_grad: bool = False) -> None:
        self._data = arr
        self._requires_grad = requires_grad
        self._grad = None
        self.grad_fn = None
        self._version = _InferenceVersion() if _inference_mode.get() else _Version()
        self._base = None
        self._acc = None
        self._hooks = None
        self._post_acc_hooks = None
        self._retains_grad = False

    # Tensor._wrap(arr), the fast internal constructor, is the module-level _wrap (set below the class).

    def _view_of(self, arr: np.ndarray) -> Tensor:
        """A new tensor sharing memory (and the version counter) with self."""
        t = _wrap(arr)
        t._version = self._version
        t._base = self if self._base is None else self._base
        return t

    def _owned_copy(self) -> Tensor:
        """Self if its array is a private, writable buffer; otherwise a copy."""
        a = self._data
        if a.base is None and a.flags.writeable and a.flags.c_contiguous and self._base is None:
            return self
        return Tensor._wrap(np.array(a, copy=True, order="C"))

    # ---------------------------------------------------------------- attributes
    @property
    def shape(self) -> Size:
        """The tensor's dimensions as a torch.Size."""
        return Size(self._data.shape)

    def size(self, dim: int | None = None):
        """The shape, or one dimension of it."""
        if dim is None:
            return Size(self._data.shape)
        return self._data.shape[self._wrap_dim(dim)]

    @property
    def dtype(self) -> dt.dtype:
        """The element type."""
        return _NP_TO_DTYPE[self._data.dtype]

    @property
    def device(self) -> device:
        """Always the CPU."""
        return CPU

    @property
    def is_cuda(self) -> bool:
        """False: ember has no GPU backend."""
        return False

    @property
    def layout(self):
        """Tensors are always strided (dense): torch.strided."""
        from ._layout import strided

        return strided

    @property
    def ndim(self) -> int:
        """Number of dimensions."""
        return self._data.ndim

    def dim(self) -> int:
        """Number of dimensions."""
        return self._data.ndim

    ndimension = dim

    def numel(self) -> int:
        """Number of elements."""
        return self._data.size

    nelement = numel

    def element_size(self) -> int:
        """Bytes per element."""
        return self._data.itemsize

    def is_floating_point(self) -> bool:
        """Whether the dtype is a floating-point type."""
        return self._data.dtype.kind == "f"

    def is_complex(self) -> bool:
        """Always False: complex tensors are not supported."""
        return False

    def is_contiguous(self, memory_format=None) -> bool:
        """Whether the elements are laid out in row-major order without gaps."""
        return self._data.flags.c_contiguous

    def stride(self, dim: int | None = None):
        """Strides in elements, as torch reports them."""
        s = tuple(st // self._data.itemsize for st in self._data.strides)
        return s if dim is None else s[self._wrap_dim(dim)]

    def data_ptr(self) -> int:
        """Address of the first element."""
        return self._data.__array_interface__["data"][0]

    def storage_offset(self) -> int:
        """Offset of the first element in its base storage, in elements."""
        base = self._data
        while isinstance(base.base, np.ndarray):
            base = base.base
        return (self.data_ptr() - base.__array_interface__["data"][0]) // self._data.itemsize

    def get_device(self) -> int:
        """-1, the CPU's index in torch."""
        return -1

    @property
    def requires_grad(self) -> bool:
        """Whether operations on this tensor are recorded for autograd."""
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, value: bool) -> None:
        value = bool(value)
        if value and self._data.dtype.kind != "f":
            raise RuntimeError("only Tensors of floating point and complex dtype can require gradients")
        if not value and self.grad_fn is not None:
            raise RuntimeError(
                "you can only change requires_grad flags of leaf variables. If you want to use a computed "
                "variable in a subgraph that doesn't require differentiation use var_no_grad = var.detach()."
            )
        self._requires_grad = value

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        """Set requires_grad in place and return self."""
        self.requires_grad = requires_grad
        return self

    @property
    def is_leaf(self) -> bool:
        """True for tensors not produced by a recorded operation."""
        return self.grad_fn is None

    @property
    def grad(self):
        """The accumulated gradient (None until a backward pass reaches this leaf)."""
        if self._grad is None and self.grad_fn is not None and not self._retains_grad:
            warnings.warn(
                "The .grad attribute of a Tensor that is not a leaf Tensor is being accessed. Its .grad "
                "attribute won't be populated during autograd.backward(). If you indeed want the .grad field "
                "to be populated for a non-leaf Tensor, use .retain_grad() on the non-leaf Tensor.",
                UserWarning,
                stacklevel=2,
            )
        return self._grad

    @grad.setter
    def grad(self, value) -> None:
        if value is not None:
            if not isinstance(value, Tensor):
                raise TypeError(f"assigned grad expected to be a Tensor or None but got grad of {type(value).__name__}")
            if value.shape != self.shape:
                raise RuntimeError(f"assigned grad has data of a different size: {value.shape} vs {self.shape}")
            if value.dtype is not self.dtype:
                raise RuntimeError(f"assigned grad has data of a different type: {value.dtype} vs {self.dtype}")
        self._grad = value

    @property
    def retains_grad(self) -> bool:
        """Whether a non-leaf tensor keeps its .grad after backward."""
        return self._retains_grad

    def retain_grad(self) -> None:
        """Keep the gradient of this non-leaf tensor in .grad after backward."""
        if not self._requires_grad:
            raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
        if self.grad_fn is None or self._retains_grad:
            return
        self._retains_grad = True
        self.grad_fn.retained = weakref.ref(self)

    @property
    def data(self) -> Tensor:
        """A tensor sharing this one's memory, outside autograd."""
        t = Tensor._wrap(self._data)
        return t

    @data.setter
    def data(self, value: Tensor) -> None:
        if not isinstance(value, Tensor):
            raise TypeError(f"data must be a Tensor, got {type(value).__name__}")
        self._data = value._data

    @property
    def version(self) -> int:
        """How many in-place changes this tensor (or a view of it) has seen."""
        return self._version.value

    _version_value = version

    def is_inference(self) -> bool:
        """Whether this tensor was made inside an inference_mode block (or is a view of one that was)."""
        return type(self._version) is _InferenceVersion

    @property
    def output_nr(self) -> int:
        """Which output of grad_fn this tensor is (always 0 in ember)."""
        return 0

    @property
    def names(self):
        """Named dimensions are not supported; one None per dimension."""
        return (None,) * self._data.ndim

    # ---------------------------------------------------------------- conversions
    def numpy(self, *, force: bool = False) -> np.ndarray:
        """The underlying array, sharing memory; refuses tensors that require grad."""
        if self._requires_grad and not force:
            raise RuntimeError("Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() instead.")
        return self._data

    def __array__(self, dtype=None, copy=None):
        if self._requires_grad:
            raise RuntimeError("Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() instead.")
        if dtype is not None and self._data.dtype != dtype:
            if copy is False:  # NumPy 2's protocol: copy=False promises no copy, so a conversion is an error
                raise ValueError(f"converting the tensor's {self._data.dtype} data to {np.dtype(dtype)} needs a copy")
            return self._data.astype(dtype)
        return self._data.copy() if copy else self._data

    def item(self):
        """The single value as a Python number."""
        if self._data.size != 1:
            raise RuntimeError(f"a Tensor with {self._data.size} elements cannot be converted to Scalar")
        return self._data.reshape(()).item()

    def tolist(self):
        """Nested Python lists of Python numbers."""
        return self._data.tolist()

    def _scalar_for(self, what: str):
        if self._data.size != 1:
            raise ValueError("only one element tensors can be converted to Python scalars")
        if self._requires_grad:
            warnings.warn(
                "Converting a tensor with requires_grad=True to a scalar may lead to unexpected behavior. "
                "Consider using tensor.detach() first.",
                UserWarning,
                stacklevel=3,
            )
        return self._data.reshape(()).item()

    def __float__(self) -> float:
        return float(self._scalar_for("float"))

    def __int__(self) -> int:
        return int(self._scalar_for("int"))

    def __index__(self) -> int:
        if self._data.dtype.kind not in "iub" or self._data.size != 1:
            raise TypeError("only integer tensors of a single element can be converted to an index")
        return int(self._data.reshape(()).item())

    def __bool__(self) -> bool:
        if self._data.size != 1:
            how_many = "no values" if not self._data.size else "more than one value"
            raise RuntimeError(f"Boolean value of Tensor with {how_many} is ambiguous")
        return bool(self._data.reshape(()).item())

    def __complex__(self) -> complex:
        return complex(self._scalar_for("complex"))

    def __len__(self) -> int:
        if self._data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self._data.shape[0]

    def __iter__(self):
        if self._data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(self._data.shape[0]))

    def __hash__(self) -> int:
        return id(self)

    def __format__(self, spec: str) -> str:
        if self._data.ndim == 0 and type(self) is Tensor:
            return format(self._data.item(), spec)
        return object.__format__(self, spec)

    def __repr__(self) -> str:
        from ._printing import tensor_repr

        return tensor_repr(self)

    __str__ = __repr__

    def __reduce_ex__(self, protocol):
        return (_rebuild, (self._data.copy(), self._requires_grad))

    def __deepcopy__(self, memo):
        if self.grad_fn is not None:
            raise RuntimeError(
                "Only Tensors created explicitly by the user (graph leaves) support the deepcopy protocol"
            )
        new = type(self).__new__(type(self))
        Tensor._init(new, _deepcopy_array(self._data, memo, self._base is not None), self._requires_grad)
        if self._grad is not None:
            new._grad = Tensor._wrap(self._grad._data.copy())
        if hasattr(self, "__dict__"):
            for k, v in self.__dict__.items():
                setattr(new, k, copy.deepcopy(v, memo))
        memo[id(self)] = new
        return new

    def type(self, dtype=None, non_blocking: bool = False, **kwargs):
        """The legacy type name ('torch.FloatTensor'), or a copy converted to the given type."""
        if dtype is None:
            return _LEGACY_NAMES[self.dtype]
        if isinstance(dtype, str):
            if dtype.startswith("torch.cuda."):
                check_device("cuda")
            d = _LEGACY_BY_NAME.get(dtype)
            if d is None:
                d = dt.to_dtype(dtype)
        elif isinstance(dtype, type) and issubclass(dtype, Tensor) and hasattr(dtype, "_legacy_dtype_value"):
            d = dtype._legacy_dtype_value
        else:
            d = dt.to_dtype(dtype)
        return self.to(d)

    def _wrap_dim(self, dim: int) -> int:
        n = max(self._data.ndim, 1)
        if not -n <= dim < n:
            raise IndexError(f"Dimension out of range (expected to be in range of [{-n}, {n - 1}], but got {dim})")
        return dim % n

    # ---------------------------------------------------------------- autograd entry points
    def backward(self, gradient=None, retain_graph=None, create_graph: bool = False, inputs=None) -> None:
        """Compute the gradient of this tensor w.r.t. graph leaves and accumulate it in their .grad."""
        if gradient is None and inputs is None and not create_graph and self._requires_grad:
            a = self._data
            if a.size == 1 and a.dtype.kind == "f":
                # The everyday loss.backward(): seed with a one and walk the graph, skipping the argument handling.
                seed = np.array(1, a.dtype)
                seed = _wrap(seed if not a.ndim else seed.reshape(a.shape))
                _engine().run_backward((self,), (seed,), bool(retain_graph), False)
                return
        from .autograd import backward

        backward(self, gradient, retain_graph, create_graph, inputs=inputs)

    def register_hook(self, hook):
        """Call hook(grad) when this tensor's gradient is computed; a returned tensor replaces it."""
        if not self._requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        from .utils.hooks import RemovableHandle

        if self.grad_fn is not None:
            if self.grad_fn.pre_hooks is None:
                self.grad_fn.pre_hooks = {}
            return RemovableHandle(self.grad_fn.pre_hooks, hook)
        if self._hooks is None:
            self._hooks = {}
        return RemovableHandle(self._hooks, hook)

    def register_post_accumulate_grad_hook(self, hook):
        """Call hook(tensor) after a gradient is accumulated into this leaf's .grad; it must return None."""
        if not self._requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        if self.grad_fn is not None:
            raise RuntimeError("post accumulate grad hooks cannot be registered on non-leaf tensors")
        from .utils.hooks import RemovableHandle

        if self._post_acc_hooks is None:
            self._post_acc_hooks = {}
        return RemovableHandle(self._post_acc_hooks, hook)

    def detach(self) -> Tensor:
        """A tensor sharing memory with this one, cut from the graph."""
        t = self._view_of(self._data)
        t._detached = True
        return t

    def detach_(self) -> Tensor:
        """Cut this tensor from the graph, in place."""
        if self._base is not None and self._base.requires_grad:
            raise RuntimeError("Can't detach views in-place. Use detach() instead.")
        self.grad_fn = None
        self._requires_grad = False
        return self

    # ---------------------------------------------------------------- device / dtype moves
    def to(self, *args, **kwargs) -> Tensor:
        """Convert dtype and/or device (only 'cpu'); returns self when nothing changes."""
        dtype, copy = parse_to_args(args, kwargs)
        if dtype is None or dtype is self.dtype:
            return self.clone() if copy else self
        from .ops._casting import cast

        return cast(self, dtype)

    def cpu(self, memory_format=None) -> Tensor:
        """Self: tensors already live on the CPU."""
        return self

    def cuda(self, device=None, non_blocking: bool = False, **kwargs) -> Tensor:
        """Refuse with a clear message: ember has no GPU backend."""
        check_device("cuda")
        return self

    def float(self) -> Tensor:
        """Convert to float32."""
        return self.to(dt.float32)

    def double(self) -> Tensor:
        """Convert to float64."""
        return self.to(dt.float64)

    def half(self) -> Tensor:
        """Convert to float16."""
        return self.to(dt.float16)

    def long(self) -> Tensor:
        """Convert to int64."""
        return self.to(dt.int64)

    def int(self) -> Tensor:
        """Convert to int32."""
        return self.to(dt.int32)

    def short(self) -> Tensor:
        """Convert to int16."""
        return self.to(dt.int16)

    def char(self) -> Tensor:
        """Convert to int8."""
        return self.to(dt.int8)

    def byte(self) -> Tensor:
        """Convert to uint8."""
        return self.to(dt.uint8)

    def bool(self) -> Tensor:
        """Convert to bool."""
        return self.to(dt.bool_)

    def type_as(self, other: Tensor) -> Tensor:
        """Convert to other's dtype."""
        return self.to(other.dtype)

    def pin_memory(self) -> Tensor:
        """Self: pinned memory only matters for GPU transfers."""
        return self

    def share_memory_(self) -> Tensor:
        """Self: NumPy buffers are shared with worker processes by copy."""
        return self

    def is_pinned(self) -> bool:
        """Always False."""
        return False


def _deepcopy_array(a: np.ndarray, memo: dict, is_view: bool) -> np.ndarray:
    """A copy of a for deepcopy. The memory that a view's array lies in is copied once per deepcopy (the memo
    keeps it) and the copy views that, so a base and its views copied together still share memory."""
    root = a
    while is_view and isinstance(root.base, np.ndarray):
        root = root.base
    if root is a:
        return copy.deepcopy(a, memo)
    if not (root.flags.c_contiguous or root.flags.f_contiguous):
        return a.copy()
    new_root = copy.deepcopy(root, memo)  # keeps root's memory layout
    offset = a.__array_interface__["data"][0] - root.__array_interface__["data"][0]
    memory = new_root.reshape(-1, order="A").view(np.uint8)
    return np.ndarray(a.shape, a.dtype, buffer=memory, offset=offset, strides=a.strides)


def _engine():
    """ember.autograd.engine, imported on first use (it imports this module)."""
    from .autograd import engine

    globals()["_engine"] = lambda: engine
    return engine


def _wrap(
    arr: np.ndarray, _new=object.__new__, _cls=Tensor, _counter=_Version, _inference=_inference_mode.get
) -> Tensor:
    """A tensor around an existing array (no copy, no checks): the constructor every op uses."""
    t = _new(_cls)
    t._data = arr
    t._requires_grad = False
    t._grad = None
    t.grad_fn = None
    t._version = _InferenceVersion() if _inference() else _counter()
    t._base = None
    t._acc = None
    t._hooks = None
    t._post_acc_hooks = None
    t._retains_grad = False
    return t


Tensor._wrap = staticmethod(_wrap)


def _rebuild(arr, requires_grad):
    t = Tensor._wrap(arr)
    t._requires_grad = requires_grad
    return t


_LEGACY_NAMES = {
    dt.float32: "torch.FloatTensor",
    dt.float64: "torch.DoubleTensor",
    dt.float16: "torch.HalfTensor",
    dt.int64: "torch.LongTensor",
    dt.int32: "torch.IntTensor",
    dt.int16: "torch.ShortTensor",
    dt.int8: "torch.CharTensor",
    dt.uint8: "torch.ByteTensor",
    dt.bool_: "torch.BoolTensor",
}
_LEGACY_BY_NAME = {v: k for k, v in _LEGACY_NAMES.items()}


class _LegacyTensorType(type):
    """Metaclass of FloatTensor & co.: isinstance(t, FloatTensor) checks t's dtype, as in torch."""

    def __instancecheck__(cls, obj) -> bool:
        return isinstance(obj, Tensor) and obj.dtype is cls._legacy_dtype_value


def _legacy_class(name: str, d: dt.dtype):
    def legacy_dtype():
        return d

    cls = _LegacyTensorType(
        name, (Tensor,), {"__slots__": (), "_legacy_dtype": staticmethod(legacy_dtype), "_legacy_dtype_value": d}
    )
    cls.__doc__ = f"Legacy constructor that makes {d} tensors."

    def new(cls_, *args, **kwargs):
        t = Tensor.__new__(Tensor)
        kwargs.setdefault("dtype", d)
        Tensor.__init__(t, *args, **kwargs)
        return t

    cls.__new__ = new
    return cls


FloatTensor = _legacy_class("FloatTensor", dt.float32)
DoubleTensor = _legacy_class("DoubleTensor", dt.float64)
HalfTensor = _legacy_class("HalfTensor", dt.float16)
LongTensor = _legacy_class("LongTensor", dt.int64)
IntTensor = _legacy_class("IntTensor", dt.int32)
ShortTensor = _legacy_class("ShortTensor", dt.int16)
CharTensor = _legacy_class("CharTensor", dt.int8)
ByteTensor = _legacy_class("ByteTensor", dt.uint8)
BoolTensor = _legacy_class("BoolTensor", dt.bool_)


def bind_methods(table: dict) -> None:
    """Attach functions from an ops module to Tensor as methods."""
    for name, fn in table.items():
        setattr(Tensor, name, fn)
