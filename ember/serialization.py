"""ember.save / ember.load in PyTorch's zip checkpoint format, without torch.

A checkpoint is a zip archive: `archive/data.pkl` is a protocol-2 pickle in which every tensor is a
call to `torch._utils._rebuild_tensor_v2` whose storage is a persistent id naming a raw little-endian
record `archive/data/<key>`. ember writes those global references by name (nothing is imported); other
objects (a whole module, an optimizer) are pickled as usual, with ember's classes written under the
names torch uses (`torch.nn.modules.linear.Linear`), so files move between ember and torch.

By default (`weights_only=True`) ember reads with an unpickler that resolves only an allowlist of names
(plus those given to `add_safe_globals`) to ember's own safe constructors, so a hostile file can at worst
raise an error. `weights_only=False` is the user's opt-in to run what a trusted file names: any class
is imported and rebuilt, while every archive and size check still applies. Paths ending in
`.safetensors` use the safetensors format.
"""

from __future__ import annotations

import codecs
import contextlib
import importlib
import io
import json
import os
import pickle
import secrets
import struct
import sys
import zipfile
from collections import OrderedDict
from typing import Any, Callable

import numpy as np

from . import _dtype as dt
from ._atomic import write_atomic
from ._device import check_device, device
from ._limits import explicit_limit, max_file_bytes, max_pickle_bytes, too_big
from ._size import Size
from ._tensor import Tensor
from ._warn import warn_user
from .compat import MissingAPIError, alias_name, ember_name

__all__ = [
    "save",
    "load",
    "save_safetensors",
    "load_safetensors",
    "add_safe_globals",
    "safe_globals",
    "get_safe_globals",
    "clear_safe_globals",
]

_STORAGE_NAMES = {
    np.dtype(np.float32): "FloatStorage",
    np.dtype(np.float64): "DoubleStorage",
    np.dtype(np.float16): "HalfStorage",
    np.dtype(np.int64): "LongStorage",
    np.dtype(np.int32): "IntStorage",
    np.dtype(np.int16): "ShortStorage",
    np.dtype(np.int8): "CharStorage",
    np.dtype(np.uint8): "ByteStorage",
    np.dtype(np.bool_): "BoolStorage",
}
_STORAGE_DTYPES = {name: d for d, name in _STORAGE_NAMES.items()}
_ALIGNMENT = 64
_REFUSED = "files may only contain tensors, numbers, strings and containers"


def _parameter_class():
    """ember.nn.Parameter when ember.nn is importable, else None."""
    for module in ("ember.nn", "ember.nn.parameter"):
        try:
            cls = getattr(importlib.import_module(module), "Parameter", None)
        except Exception:  # noqa: BLE001 - a half-built nn package just means "no Parameter"
            cls = None
        if cls is not None:
            return cls
    return None


# ============================================================================ writing
class _Global:
    """A module-level name written into the pickle by reference; it is never imported."""

    __slots__ = ("module", "name")

    def __init__(self, module: str, name: str) -> None:
        self.module = module
        self.name = name

    def __call__(self, *args):
        # pickle insists that a reduce function is callable; this one only stands for a name.
        raise TypeError(f"{self.module}.{self.name} is a name written into a checkpoint, not a function")


_GLOBALS: dict[tuple[str, str], _Global] = {}


def _global(module: str, name: str) -> _Global:
    key = (module, name)
    g = _GLOBALS.get(key)
    if g is None:
        g = _GLOBALS[key] = _Global(module, name)
    return g


# ember classes whose torch counterpart lives in a module of another name (every other ember name maps
# by prefix: ember.nn.modules.linear.Linear is torch.nn.modules.linear.Linear); a test checks them in torch
_TORCH_HOMES = {
    "ember.nn.modules.normalization.BatchNorm1d": "torch.nn.modules.batchnorm",
    "ember.nn.modules.normalization.BatchNorm2d": "torch.nn.modules.batchnorm",
    "ember.nn.modules.normalization.InstanceNorm1d": "torch.nn.modules.instancenorm",
    "ember.nn.modules.normalization.InstanceNorm2d": "torch.nn.modules.instancenorm",
    "ember.nn.modules.pooling.PixelShuffle": "torch.nn.modules.pixelshuffle",
    "ember.nn.modules.pooling.PixelUnshuffle": "torch.nn.modules.pixelshuffle",
    "ember.nn.modules.pooling.Upsample": "torch.nn.modules.upsampling",
    "ember.nn.modules.pooling.UpsamplingBilinear2d": "torch.nn.modules.upsampling",
    "ember.nn.modules.pooling.UpsamplingNearest2d": "torch.nn.modules.upsampling",
}
_EMBER_HOMES = {f"{torch_mod}.{key.rsplit('.', 1)[1]}": key for key, torch_mod in _TORCH_HOMES.items()}
# where a public name of a private ember module (ember.ops.pointwise.relu) is served: torch.relu
_PUBLIC_NAMESPACES = ("ember", "ember.nn.functional", "ember.nn", "ember.optim")


def _is_ember(module: str) -> bool:
    return module == "ember" or module.startswith("ember.")


def torch_name(module: str, qualname: str, obj: Any = None) -> tuple[str, str]:
    """The (module, name) under which a file names an ember class or function: torch's, as torch writes it."""
    if not _is_ember(module):
        return module, qualname
    home = _TORCH_HOMES.get(f"{module}.{qualname}")
    if home is not None:
        return home, qualname
    if obj is not None and (module.startswith("ember.ops") or any(p.startswith("_") for p in module.split("."))):
        for namespace in _PUBLIC_NAMESPACES:
            ns = sys.modules.get(namespace)
            if ns is not None and getattr(ns, qualname, None) is obj:
                module = namespace
                break
    return alias_name(module) or module, qualname


def _ember_global(module: str, qualname: str):
    """The ember object a torch/torchvision name in a file stands for, or MissingAPIError naming it."""
    full = f"{module}.{qualname}"
    candidates = []
    if full in _EMBER_HOMES:
        candidates.append(tuple(_EMBER_HOMES[full].rsplit(".", 1)))
    real = ember_name(module)
    if real is not None:
        candidates.append((real, qualname))
    for prefix, namespace in (("torch.nn.modules.", "ember.nn"), ("torch.optim.", "ember.optim")):
        if module.startswith(prefix):
            candidates.append((namespace, qualname))  # a class ember keeps in a file of another name
    for mod_name, name in candidates:
        try:
            obj = importlib.import_module(mod_name)
            for part in name.split("."):
                obj = getattr(obj, part)
        except (ImportError, AttributeError):
            continue
        return obj
    raise MissingAPIError(f"ember.load: the file needs {full}, which ember does not implement")


class _StorageRef:
    """One storage record: the bytes of a tensor's whole underlying buffer, viewed as its dtype."""

    __slots__ = ("key", "array")

    def __init__(self, key: str, array: np.ndarray) -> None:
        self.key = key
        self.array = array


# Names pickle itself writes for the allowed containers (set, bytes under protocol 2, ...).
_WRITABLE_GLOBALS = (OrderedDict, set, frozenset, complex, slice, bytearray, codecs.encode)
_PLAIN_TYPES = (type(None), bool, int, float, complex, str, bytes, list, tuple, dict, set, frozenset, slice)


class _Pickler(pickle._Pickler):
    """Pure-Python pickler that writes tensors the way torch.save does."""

    dispatch = pickle._Pickler.dispatch.copy()

    def __init__(self, file, protocol: int) -> None:
        super().__init__(file, protocol=protocol)
        self.storages: list[_StorageRef] = []
        self._by_buffer: dict[tuple, _StorageRef] = {}
        self._parameter = _parameter_class()

    def persistent_id(self, obj):
        if type(obj) is _StorageRef:
            name = _STORAGE_NAMES[obj.array.dtype]
            return ("storage", _global("torch", name), obj.key, "cpu", obj.array.size)
        return None

    def save(self, obj, save_persistent_id=True):
        if isinstance(obj, np.generic):
            obj = obj.item()  # torch's weights_only loader refuses NumPy scalars
        super().save(obj, save_persistent_id)

    def _save_global_ref(self, obj: _Global) -> None:
        self.write(pickle.GLOBAL + f"{obj.module}\n{obj.name}\n".encode("utf-8"))
        self.memoize(obj)

    dispatch[_Global] = _save_global_ref

    def _save_dtype(self, obj: dt.dtype) -> None:
        self.save(_global("torch", obj.name))

    dispatch[dt.dtype] = _save_dtype

    def reducer_override(self, obj):
        t = type(obj)
        if t in _PLAIN_TYPES or t is OrderedDict or t is _Global or t is dt.dtype:
            return NotImplemented
        if any(obj is g for g in _WRITABLE_GLOBALS):
            return NotImplemented  # a class or function the containers above reduce to
        if isinstance(obj, Tensor):
            return self._reduce_tensor(obj)
        if t is Size:
            return (_global("torch", "Size"), (tuple(obj),))
        if t is device:
            args = (obj.type,) if obj.index is None else (obj.type, obj.index)
            return (_global("torch", "device"), args)
        return NotImplemented  # anything else (a module, an optimizer, a user's class) pickles as usual

    def save_global(self, obj, name=None) -> None:
        """Write a class or function by name; ember's own under the name torch gives it."""
        if name is None:
            name = getattr(obj, "__qualname__", None) or obj.__name__
        module = pickle.whichmodule(obj, name)
        written = torch_name(module, name, obj)
        if written == (module, name):
            super().save_global(obj, name)
            return
        self.write(pickle.GLOBAL + f"{written[0]}\n{written[1]}\n".encode("utf-8"))
        self.memoize(obj)

    def _reduce_tensor(self, t: Tensor):
        is_param = self._parameter is not None and isinstance(t, self._parameter)
        if is_param or (type(t) is not Tensor and type(t).__name__ == "Parameter"):
            plain = Tensor._wrap(t._data)
            return (_global("torch._utils", "_rebuild_parameter"), (plain, t._requires_grad, OrderedDict()))
        ref, offset, shape, strides = self._storage_of(t._data)
        args = (ref, offset, shape, strides, bool(t._requires_grad), OrderedDict())
        return (_global("torch._utils", "_rebuild_tensor_v2"), args)

    def _storage_of(self, a: np.ndarray):
        """The storage record holding a's buffer (shared between views), a's offset and strides in it."""
        root = a
        while isinstance(root.base, np.ndarray):
            root = root.base
        placed = _place_in(a, root)
        if placed is None:
            # A layout torch cannot express (negative or odd strides): save a private contiguous copy.
            own = np.ascontiguousarray(a)
            ref = self._new_storage(own.reshape(-1))
            return ref, 0, tuple(a.shape), _contiguous_strides(a.shape)
        offset, strides = placed
        ptr = root.__array_interface__["data"][0]
        key = (ptr, root.nbytes, a.dtype.str)
        ref = self._by_buffer.get(key)
        if ref is None:
            flat = root.reshape(-1).view(np.uint8).view(a.dtype) if root.nbytes else np.empty(0, a.dtype)
            ref = self._new_storage(flat)
            self._by_buffer[key] = ref
        return ref, offset, tuple(a.shape), strides

    def _new_storage(self, flat: np.ndarray) -> _StorageRef:
        ref = _StorageRef(str(len(self.storages)), flat)
        self.storages.append(ref)
        return ref


def _contiguous_strides(shape) -> tuple:
    strides, acc = [], 1
    for s in reversed(shape):
        strides.append(acc)
        acc *= max(s, 1)
    return tuple(reversed(strides))


def _place_in(a: np.ndarray, root: np.ndarray):
    """(offset, strides) of a inside root's buffer in elements of a's dtype, or None if impossible."""
    item = a.itemsize
    if not root.flags.c_contiguous or root.nbytes % item:
        return None
    root_ptr = root.__array_interface__["data"][0]
    delta = a.__array_interface__["data"][0] - root_ptr
    if delta % item or delta < 0:
        return None
    contiguous = _contiguous_strides(a.shape)
    strides = []
    extent = 0
    for size, st, fallback in zip(a.shape, a.strides, contiguous):
        if size <= 1:
            strides.append(fallback)
            continue
        if st < 0 or st % item:
            return None
        strides.append(st // item)
        extent += (size - 1) * st
    if a.size and delta + extent + item > root.nbytes:
        return None
    return delta // item, tuple(strides)


def _dumps(obj, protocol: int) -> tuple[bytes, list[_StorageRef]]:
    buf = io.BytesIO()
    pickler = _Pickler(buf, protocol)
    pickler.dump(obj)
    return buf.getvalue(), pickler.storages


def _add_record(zf: zipfile.ZipFile, base: int, name: str, data) -> None:
    """Store one uncompressed record whose data starts on a 64-byte boundary, as torch aligns them."""
    view = memoryview(data).cast("B") if not isinstance(data, bytes) else data
    size = len(view)
    info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
    info.compress_type = zipfile.ZIP_STORED
    info.file_size = size
    zip64 = size * 1.05 > zipfile.ZIP64_LIMIT
    offset = zf.fp.tell() - base
    header = 30 + len(name.encode("utf-8")) + 4 + (20 if zip64 else 0)
    pad = (-(offset + header)) % _ALIGNMENT
    info.extra = struct.pack("<HH", 0x4246, pad) + b"Z" * pad
    with zf.open(info, "w", force_zip64=zip64) as w:
        w.write(view)


def _write_archive(fileobj, obj, protocol: int) -> None:
    pkl, storages = _dumps(obj, protocol)
    base = fileobj.tell() if fileobj.seekable() else 0
    with zipfile.ZipFile(fileobj, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as zf:
        _add_record(zf, base, "archive/data.pkl", pkl)
        _add_record(zf, base, "archive/.format_version", b"1")
        _add_record(zf, base, "archive/.storage_alignment", str(_ALIGNMENT).encode())
        _add_record(zf, base, "archive/byteorder", b"little")
        for ref in storages:
            arr = ref.array
            if arr.dtype.byteorder == ">":
                arr = arr.astype(arr.dtype.newbyteorder("<"))
            _add_record(zf, base, f"archive/data/{ref.key}", np.ascontiguousarray(arr).reshape(-1).view(np.uint8))
        _add_record(zf, base, "archive/version", b"3\n")
        sid = "".join(secrets.choice("0123456789") for _ in range(40))
        _add_record(zf, base, "archive/.data/serialization_id", sid.encode())


def _is_path(f) -> bool:
    return isinstance(f, (str, os.PathLike))


def _is_safetensors(f) -> bool:
    return _is_path(f) and os.fspath(f).endswith(".safetensors")


def save(
    obj: Any,
    f,
    pickle_module=None,
    pickle_protocol: int = 2,
    _use_new_zipfile_serialization: bool = True,
    _disable_byteorder_record: bool = False,
) -> None:
    """Save obj (tensors, state_dicts, nested containers) to a path or file in torch's zip format."""
    if pickle_module is not None:
        raise NotImplementedError("ember.save does not support torch.save's pickle_module argument")
    if not _use_new_zipfile_serialization:
        raise NotImplementedError("ember.save writes only the zip format (torch.save's legacy format is not supported)")
    if pickle_protocol < 2:
        raise NotImplementedError(f"ember.save needs pickle protocol 2 or higher, got {pickle_protocol}")
    if _is_safetensors(f):
        save_safetensors(obj, f)
        return
    if _is_path(f):
        path = os.fspath(f)
        write_atomic(path, lambda fh: _write_archive(fh, obj, pickle_protocol))
        return
    if not hasattr(f, "write"):
        raise AttributeError(f"ember.save expects a path or a writable file object, got {type(f).__name__}")
    _write_archive(f, obj, pickle_protocol)


# ============================================================================ reading
class _StorageType:
    """What the name `torch.FloatStorage` (etc.) resolves to: just the element type."""

    __slots__ = ("dtype", "name")

    def __init__(self, name: str) -> None:
        self.name = name
        self.dtype = _STORAGE_DTYPES[name]


class _Constructor:
    """An allowlisted callable handed to the unpickler; BUILD can't modify it (no __dict__)."""

    __slots__ = ("fn", "name")

    def __init__(self, fn: Callable, name: str) -> None:
        self.fn = fn
        self.name = name

    def __call__(self, *args):
        return self.fn(*args)

    def __repr__(self) -> str:
        return f"<ember.load constructor for {self.name}>"


# ---------------------------------------------------------------------------- globals the user allows
_SAFE_GLOBALS: list = []


def _check_safe_global(entry) -> None:
    if isinstance(entry, tuple):
        if len(entry) != 2 or not isinstance(entry[1], str):
            raise TypeError(f"a safe global is an object or an (object, 'module.name') pair, got {entry!r}")
        entry = entry[0]
    if not callable(entry):
        raise TypeError(f"safe globals must be classes or functions, got {type(entry).__name__}")


def add_safe_globals(safe_globals: list) -> None:
    """Allow these classes or functions (or (object, "module.name") pairs) in weights_only=True loads."""
    for entry in safe_globals:
        _check_safe_global(entry)
        if entry not in _SAFE_GLOBALS:
            _SAFE_GLOBALS.append(entry)


def get_safe_globals() -> list:
    """The classes and functions add_safe_globals has allowed."""
    return list(_SAFE_GLOBALS)


def clear_safe_globals() -> None:
    """Forget every global add_safe_globals allowed."""
    _SAFE_GLOBALS.clear()


class safe_globals(contextlib.ContextDecorator):  # noqa: N801 - torch's name for it
    """Allow these globals in weights_only=True loads inside a `with` block only."""

    def __init__(self, safe_globals: list) -> None:
        for entry in safe_globals:
            _check_safe_global(entry)
        self.safe_globals = list(safe_globals)
        self._before: list = []

    def __enter__(self) -> None:
        self._before = get_safe_globals()
        add_safe_globals(self.safe_globals)

    def __exit__(self, *exc) -> None:
        _SAFE_GLOBALS[:] = self._before


def _user_safe_globals() -> dict[str, Any]:
    """Each allowed global under the names a file may give it: torch's and ember's own."""
    table: dict[str, Any] = {}
    for entry in _SAFE_GLOBALS:
        if isinstance(entry, tuple):
            table[entry[1]] = entry[0]
            continue
        module = getattr(entry, "__module__", None)
        qualname = getattr(entry, "__qualname__", None) or getattr(entry, "__name__", None)
        if module is None or qualname is None:
            continue
        table[f"{module}.{qualname}"] = entry
        table[".".join(torch_name(module, qualname, entry))] = entry
    return table


def _weights_only_refusal(full_name: str) -> str:
    """torch's 'Weights only load failed' error for a global the allowlist lacks, said in one line."""
    return (
        f"Weights only load failed: ember.load refused to load '{full_name}', which weights_only=True does not "
        f"allow ({_REFUSED}). Only if you trust the source of the file: load it with weights_only=False, which "
        "can run arbitrary code named in the file; or, to keep weights_only=True, allow this global with "
        f"torch.serialization.add_safe_globals([{full_name}]) or the safe_globals([{full_name}]) context manager"
    )


def _check_hooks(hooks) -> None:
    if hooks:
        raise pickle.UnpicklingError("ember.load refused a tensor with backward hooks: " + _REFUSED)


def _set_tensor_state(t: Tensor, state) -> None:
    """Attributes torch stores on a tensor's __dict__ (plain data only, never methods)."""
    if not state:
        return
    if not isinstance(state, dict):
        raise pickle.UnpicklingError("ember.load: malformed tensor state in the file")
    for k, v in state.items():
        if not isinstance(k, str) or k.startswith("__") or hasattr(type(t), k):
            raise pickle.UnpicklingError(f"ember.load refused to set attribute {k!r} on a tensor: " + _REFUSED)
        t.__dict__[k] = v


def _sized_bytearray(*args):
    """bytearray(...) for a pickle, refusing a size over the file limit (bytearray(3_000_000_000) in a
    60-byte file would allocate 3 GB)."""
    if args and isinstance(args[0], int) and args[0] > max_file_bytes():
        raise pickle.UnpicklingError(f"ember.load: {too_big('a bytearray in the pickle', args[0])}")
    return _safe_type(bytearray)(*args)


def _encode(text, encoding="latin1"):
    """Protocol 2 stores bytes as _codecs.encode(str, 'latin1'); accept only that."""
    if not isinstance(text, str) or encoding not in ("latin1", "latin-1"):
        raise pickle.UnpicklingError("ember.load refused a call to _codecs.encode: " + _REFUSED)
    return text.encode("latin1")


def _safe_type(cls) -> Callable:
    def make(*args):
        return cls(*args)

    return make


class _Unpickler(pickle._Unpickler):
    """Pure-Python unpickler that resolves only allowlisted names and never runs file-supplied code."""

    dispatch = pickle._Unpickler.dispatch.copy()

    def __init__(self, file, reader: _ArchiveReader) -> None:
        super().__init__(file, encoding="utf-8")
        self._reader = reader
        self._parameter = _parameter_class()
        self._allowed = self._allowlist()

    def _allowlist(self) -> dict[tuple[str, str], Any]:
        table: dict[tuple[str, str], Any] = {
            ("collections", "OrderedDict"): OrderedDict,
            ("torch._utils", "_rebuild_tensor_v2"): _Constructor(self._rebuild_tensor_v2, "_rebuild_tensor_v2"),
            ("torch._utils", "_rebuild_tensor"): _Constructor(self._rebuild_tensor, "_rebuild_tensor"),
            ("torch._utils", "_rebuild_parameter"): _Constructor(self._rebuild_parameter, "_rebuild_parameter"),
            ("torch._utils", "_rebuild_parameter_with_state"): _Constructor(
                self._rebuild_parameter_with_state, "_rebuild_parameter_with_state"
            ),
            ("torch._tensor", "_rebuild_from_type_v2"): _Constructor(
                self._rebuild_from_type_v2, "_rebuild_from_type_v2"
            ),
            ("torch", "Tensor"): _Constructor(self._as_tensor_type, "Tensor"),
            ("torch.nn.parameter", "Parameter"): _Constructor(self._make_parameter, "Parameter"),
            ("torch", "Size"): _Constructor(_safe_type(Size), "Size"),
            ("torch", "device"): _Constructor(_safe_type(device), "device"),
            ("_codecs", "encode"): _Constructor(_encode, "encode"),
        }
        for name in _STORAGE_DTYPES:
            table[("torch", name)] = _StorageType(name)
        for d in dt.ALL:
            table[("torch", d.name)] = d
        for alias in ("float", "double", "half", "long", "int", "short"):
            table[("torch", alias)] = getattr(dt, alias)
        for builtins_name in ("builtins", "__builtin__"):
            for name, cls in (("set", set), ("frozenset", frozenset), ("slice", slice), ("complex", complex)):
                table[(builtins_name, name)] = _Constructor(_safe_type(cls), name)
            table[(builtins_name, "bytearray")] = _Constructor(_sized_bytearray, "bytearray")
        return table

    def find_class(self, module: str, name: str):
        obj = self._allowed.get((module, name))
        if obj is None:
            if module == "torch" and name in ("bfloat16", "BFloat16Storage", "complex64", "ComplexFloatStorage"):
                raise pickle.UnpicklingError(
                    f"ember.load cannot load 'torch.{name}': ember has no {name.replace('Storage', '')} tensors"
                )
            obj = _user_safe_globals().get(f"{module}.{name}")
            if obj is None:
                raise pickle.UnpicklingError(_weights_only_refusal(f"{module}.{name}"))
        return obj

    def persistent_load(self, pid):
        if not (isinstance(pid, tuple) and len(pid) == 5 and pid[0] == "storage"):
            raise pickle.UnpicklingError(f"ember.load: unsupported persistent id {pid!r:.80} in the file")
        _, stype, key, location, numel = pid
        if not isinstance(stype, _StorageType) or not isinstance(key, str) or not isinstance(location, str):
            raise pickle.UnpicklingError("ember.load: malformed storage reference in the file")
        if not isinstance(numel, int) or numel < 0:
            raise pickle.UnpicklingError(f"ember.load: invalid storage size {numel!r}")
        return self._reader.storage(key, stype.dtype, numel, location)

    # -- constructors the allowlisted names resolve to
    def _rebuild_tensor_v2(self, storage, offset, size, stride, requires_grad=False, hooks=None, metadata=None):
        _check_hooks(hooks)
        t = self._rebuild_tensor(storage, offset, size, stride)
        if requires_grad and t._data.dtype.kind == "f":
            t._requires_grad = True
        return t

    def _rebuild_tensor(self, storage, offset, size, stride):
        if not isinstance(storage, np.ndarray) or storage.ndim != 1:
            raise pickle.UnpicklingError("ember.load: a tensor in the file does not refer to a storage")
        if not (isinstance(offset, int) and isinstance(size, tuple) and isinstance(stride, tuple)):
            raise pickle.UnpicklingError("ember.load: malformed tensor metadata in the file")
        if len(size) != len(stride) or not all(isinstance(v, int) and v >= 0 for v in size + stride) or offset < 0:
            raise pickle.UnpicklingError(f"ember.load: invalid tensor geometry size={size} stride={stride}")
        count = int(np.prod(size, dtype=np.int64)) if size else 1
        if count:
            last = offset + sum((s - 1) * st for s, st in zip(size, stride))
            if last >= storage.size:
                raise pickle.UnpicklingError(
                    f"ember.load: a tensor of size {list(size)} at offset {offset} reaches element {last} of a "
                    f"storage holding only {storage.size} elements; the file is corrupted"
                )
        item = storage.itemsize
        # a view whose base is the storage itself, so storage_offset() and aliasing survive (as_strided's base
        # is a wrapper object, and a re-save would then write each view as a storage of its own)
        arr = np.ndarray(
            size,
            storage.dtype,
            buffer=storage,
            offset=offset * item if count else 0,
            strides=tuple(s * item for s in stride),
        )
        return Tensor._wrap(arr)

    def _make_parameter(self, data=None, requires_grad=True):
        if data is None:
            data = Tensor._wrap(np.empty(0, dtype=np.float32))
        if self._parameter is not None:
            return self._parameter(data, requires_grad)
        t = Tensor._wrap(data._data)
        t._requires_grad = bool(requires_grad) and t._data.dtype.kind == "f"
        return t

    def _rebuild_parameter(self, data, requires_grad, hooks):
        _check_hooks(hooks)
        if not isinstance(data, Tensor):
            raise pickle.UnpicklingError("ember.load: a parameter in the file does not wrap a tensor")
        return self._make_parameter(data, requires_grad)

    def _rebuild_parameter_with_state(self, data, requires_grad, hooks, state):
        p = self._rebuild_parameter(data, requires_grad, hooks)
        _set_tensor_state(p, state)
        return p

    def _as_tensor_type(self, *args):
        raise pickle.UnpicklingError("ember.load refused to call 'torch.Tensor' directly: " + _REFUSED)

    def _rebuild_from_type_v2(self, func, new_type, args, state):
        if not isinstance(func, _Constructor) or not isinstance(args, tuple):
            raise pickle.UnpicklingError("ember.load: malformed tensor subclass record in the file")
        t = func(*args)
        if not isinstance(t, Tensor):
            raise pickle.UnpicklingError("ember.load: a tensor subclass record did not produce a tensor")
        if new_type is self._allowed[("torch.nn.parameter", "Parameter")]:
            t = self._make_parameter(t, t._requires_grad)
        elif new_type is not self._allowed[("torch", "Tensor")]:
            raise pickle.UnpicklingError("ember.load refused a tensor subclass: " + _REFUSED)
        _set_tensor_state(t, state)
        return t

    def _restricted_build(self):
        state = self.stack.pop()
        inst = self.stack[-1]
        # torch's state_dict is an OrderedDict carrying a `_metadata` attribute; nothing else needs BUILD.
        if type(inst) is OrderedDict and isinstance(state, dict) and all(isinstance(k, str) for k in state):
            for k, v in state.items():
                inst.__dict__[k] = v
            return
        if any(type(inst) is allowed for allowed in _user_safe_globals().values()):
            self.stack.append(state)  # a class the user allowed rebuilds itself, as pickle does
            pickle._Unpickler.load_build(self)
            return
        raise pickle.UnpicklingError(
            f"ember.load refused to set the state of a {type(inst).__name__} object: {_REFUSED}"
        )

    dispatch[pickle.BUILD[0]] = _restricted_build


class _FullUnpickler(_Unpickler):
    """The unpickler of weights_only=False: tensors as above, and any class or function the file names is
    imported and called (torch's names resolve to ember's classes). Only for files the user trusts."""

    dispatch = _Unpickler.dispatch.copy()
    dispatch[pickle.BUILD[0]] = pickle._Unpickler.load_build

    def find_class(self, module: str, name: str):
        obj = self._allowed.get((module, name))
        if obj is not None:
            return obj
        try:
            if ember_name(module) is not None:
                return _ember_global(module, name)
            return pickle._Unpickler.find_class(self, module, name)
        except MissingAPIError as e:
            raise pickle.UnpicklingError(str(e)) from None
        except (ImportError, AttributeError) as e:
            raise pickle.UnpicklingError(
                f"ember.load: cannot find '{module}.{name}', which the file names ({_reason(e)}); with "
                "weights_only=False the classes in a file must be importable where it is loaded"
            ) from None


class _ArchiveReader:
    """Reads storage records out of an opened checkpoint zip, sharing each one between its tensors."""

    def __init__(self, zf: zipfile.ZipFile, prefix: str, map_location) -> None:
        self.zf = zf
        self.prefix = prefix
        self.map_location = map_location
        self.cache: dict[str, np.ndarray] = {}
        try:
            order = zf.read(prefix + "byteorder") if prefix + "byteorder" in zf.NameToInfo else b"little"
        except (zipfile.BadZipFile, OSError, EOFError, ValueError) as e:
            raise RuntimeError(
                f"ember.load: cannot read the byteorder record ({_reason(e)}); the file is corrupted"
            ) from None
        if order not in (b"little", b"big"):
            raise RuntimeError(f"ember.load: unknown byte order {order!r} in the checkpoint")
        self.big_endian = order == b"big"

    def storage(self, key: str, dtype: np.dtype, numel: int, location: str) -> np.ndarray:
        """The 1-D array of a storage record, read once and validated against its claimed size."""
        arr = self.cache.get(key)
        if arr is not None:
            if arr.dtype != dtype or arr.size < numel:
                raise pickle.UnpicklingError(f"ember.load: storage {key} is referenced with conflicting types")
            return arr
        self._check_location(location)
        name = f"{self.prefix}data/{key}"
        info = self.zf.NameToInfo.get(name)
        if info is None:
            raise RuntimeError(f"ember.load: the checkpoint has no record '{name}' (the file is incomplete)")
        need = numel * dtype.itemsize
        if need > max_file_bytes():
            raise RuntimeError(f"ember.load: record '{name}': {too_big('its storage', need)}")
        if info.compress_type != zipfile.ZIP_STORED and need > _RATIO_FLOOR and need > _MAX_RATIO * info.compress_size:
            # torch and ember store records uncompressed; tensors deflate a few per cent, not a hundredfold
            if not explicit_limit():
                raise RuntimeError(
                    f"ember.load: record '{name}' inflates {info.compress_size:,} bytes to {need:,} (over "
                    f"{_MAX_RATIO}x); refusing a likely decompression bomb (for a trusted file, set EMBER_MAX_FILE_BYTES)"
                )
        if info.file_size != need:  # torch requires the exact size: a longer record means a changed type name
            raise RuntimeError(
                f"ember.load: record '{name}' holds {info.file_size} bytes but its storage needs exactly {need} "
                f"({numel} x {dtype.name}); the file is corrupted"
            )
        buf = bytearray(need)
        with self.zf.open(info) as r:
            view = memoryview(buf)
            got = 0
            while got < need:
                n = r.readinto(view[got:])
                if not n:
                    raise RuntimeError(f"ember.load: record '{name}' ended early; the file is truncated")
                got += n
        src = dtype.newbyteorder(">") if self.big_endian else dtype
        arr = np.frombuffer(buf, dtype=src, count=numel)
        if self.big_endian:
            arr = arr.astype(dtype)
        arr = self._apply_map_location(arr, location)
        self.cache[key] = arr
        return arr

    def _check_location(self, location: str) -> None:
        # Every storage lands on the CPU; only an explicit mapping to another device is an error.
        ml = self.map_location
        if isinstance(ml, dict) and location in ml:
            check_device(ml[location])

    def _apply_map_location(self, arr: np.ndarray, location: str) -> np.ndarray:
        ml = self.map_location
        if callable(ml) and not isinstance(ml, (str, device, dict)):
            res = ml(Tensor._wrap(arr), location)
            if isinstance(res, Tensor):
                if res._data.dtype != arr.dtype or res._data.ndim != 1:
                    raise RuntimeError("ember.load: map_location must return the storage unchanged in shape and dtype")
                return res._data
        return arr


_LEGACY_MAGIC = b"\x80\x02\x8a\x0al\xfc\x9cF\xf9 j\xa8P\x19"


def _open_archive(fileobj, name: str) -> zipfile.ZipFile:
    start = fileobj.tell()
    head = fileobj.read(4)
    fileobj.seek(start)
    if head[:2] != b"PK":
        rest = head + fileobj.read(60)
        fileobj.seek(start)
        if rest.startswith(_LEGACY_MAGIC) or rest[:1] == b"\x80" or rest[257:262] == b"ustar":
            raise RuntimeError(
                f"ember.load: {name} is in torch's legacy (pre-1.6, non-zip) format, which ember does not read; "
                "re-save it with a current torch.save (the default zip format)"
            )
        raise RuntimeError(f"ember.load: {name} is not a torch/ember checkpoint (expected a zip archive)")
    try:
        return zipfile.ZipFile(fileobj)
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as e:
        raise RuntimeError(
            f"ember.load: {name} is not a complete zip archive ({e}); the file may be truncated or corrupted"
        ) from None


_MAX_RATIO, _RATIO_FLOOR = 100, 1 << 20  # a deflated storage record over 1 MiB may inflate at most 100-fold
_LOCAL_HEADER = struct.Struct("<4s5H3L2H")  # signature, version, flags, method, time, date, crc, sizes, lengths


def _check_directory(zf: zipfile.ZipFile, fileobj, name: str) -> None:
    """Refuse an archive whose central directory and local headers disagree, or that spans disks or is
    encrypted: torch's reader (miniz) refuses those, even where Python's zipfile would read on."""
    for info in zf.infolist():
        what = None
        if info.volume != 0:
            what = "it claims to lie on another disk"
        elif info.flag_bits & 1:
            what = "it is encrypted"
        elif info.compress_type == zipfile.ZIP_STORED and info.compress_size != info.file_size:
            what = f"stored, yet {info.compress_size} bytes hold {info.file_size}"
        elif info.header_offset < 0:  # zipfile shifts offsets when bytes are missing before the directory
            what = "its local header would lie before the start of the file"
        else:
            fileobj.seek(info.header_offset)
            head = fileobj.read(_LOCAL_HEADER.size)
            if len(head) < _LOCAL_HEADER.size:
                what = "its local header lies past the end of the file"
            else:
                sig, _, flags, method, _, _, crc, csize, usize, nlen, _ = _LOCAL_HEADER.unpack(head)
                raw_name = info.orig_filename.encode("utf-8" if info.flag_bits & 0x800 else "cp437", "replace")
                if sig != b"PK\x03\x04" or fileobj.read(nlen) != raw_name:
                    what = "no local header of that name where the directory points"
                elif method != info.compress_type:
                    what = "the local header names another compression"
                elif not flags & 8 and (crc, csize, usize) != (info.CRC, info.compress_size, info.file_size):
                    if (csize, usize) != (0xFFFFFFFF, 0xFFFFFFFF):  # zip64 sizes live in the extra field
                        what = "its local header gives other sizes or checksum"
        if what is not None:
            raise RuntimeError(
                f"ember.load: {name}: the zip directory and the record '{info.filename}' disagree ({what}); "
                "the file is corrupted"
            )


def _find_prefix(zf: zipfile.ZipFile, name: str) -> str:
    """The folder holding the checkpoint's records. An archive that two readers could read differently is
    refused: two records of one name (Python's zipfile reads the last, torch the first), more than one
    data.pkl, or records outside the checkpoint's folder."""
    names = zf.namelist()
    seen = set()
    for n in names:
        if n in seen:
            raise RuntimeError(f"ember.load: {name} holds two records named '{n}'; refusing an ambiguous archive")
        seen.add(n)
    pickles = [n for n in names if n == "data.pkl" or (n.count("/") == 1 and n.endswith("/data.pkl"))]
    if not pickles:
        raise RuntimeError(f"ember.load: {name} is a zip file but has no data.pkl record (not a checkpoint)")
    if len(pickles) > 1:
        raise RuntimeError(f"ember.load: {name} holds {len(pickles)} data.pkl records; refusing an ambiguous archive")
    prefix = pickles[0][: -len("data.pkl")]
    stray = [n for n in names if not n.startswith(prefix)]
    if prefix and stray:
        raise RuntimeError(
            f"ember.load: {name} holds '{stray[0]}' outside its checkpoint folder '{prefix}'; refusing an ambiguous archive"
        )
    return prefix


def _reason(e: BaseException) -> str:
    """An exception as a short reason that always names something."""
    return f"{type(e).__name__}: {e}" if str(e) else type(e).__name__


def _validate_map_location(map_location) -> None:
    if map_location is None or callable(map_location) and not isinstance(map_location, (str, device)):
        return
    if isinstance(map_location, dict):
        for v in map_location.values():
            if not isinstance(v, (str, device)):
                raise TypeError(f"map_location dict values must be devices or strings, got {type(v).__name__}")
        return
    if isinstance(map_location, (str, device, int)):
        check_device(map_location)
        return
    raise TypeError(f"map_location must be None, a device, a string, a dict or a callable, got {map_location!r}")


_TRUE_WORDS = ("1", "y", "yes", "true")


def _env_flag(name: str) -> bool:
    return os.environ.get(name, "0").strip().lower() in _TRUE_WORDS


def _resolve_weights_only(weights_only: bool | None) -> bool:
    """weights_only after torch's environment overrides: TORCH_FORCE_WEIGHTS_ONLY_LOAD always wins;
    TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD applies only where the call left weights_only unset."""
    force, force_no = _env_flag("TORCH_FORCE_WEIGHTS_ONLY_LOAD"), _env_flag("TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD")
    if force and force_no:
        raise RuntimeError(
            "Only one of `TORCH_FORCE_WEIGHTS_ONLY_LOAD` or `TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD` should be set, "
            "but both were set."
        )
    if force:
        return True
    if weights_only is None:
        if force_no:
            warn_user(
                "Environment variable TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD is set and `weights_only` was not passed "
                "to `torch.load`, so it loads with weights_only=False.",
                UserWarning,
            )
            return False
        return True
    return bool(weights_only)


def load(f, map_location=None, pickle_module=None, *, weights_only: bool | None = None, mmap: bool | None = None, **kw):
    """Load an object saved by ember.save or torch.save: tensors and plain data, or anything with weights_only=False."""
    if pickle_module is not None:
        raise NotImplementedError("ember.load does not support torch.load's pickle_module argument")
    kw.pop("encoding", None)
    if kw:
        raise TypeError(f"load() got unexpected keyword arguments {sorted(kw)}")
    _validate_map_location(map_location)
    weights_only = _resolve_weights_only(weights_only)
    if _is_safetensors(f):
        return load_safetensors(f)
    if _is_path(f):
        path = os.fspath(f)
        with open(path, "rb") as fh:
            return _load_from(fh, path, map_location, weights_only)
    if not hasattr(f, "read"):
        raise AttributeError(f"ember.load expects a path or a readable file object, got {type(f).__name__}")
    if not (hasattr(f, "seekable") and f.seekable()):
        f = io.BytesIO(f.read())
    return _load_from(f, getattr(f, "name", "the file"), map_location, weights_only)


def _load_from(fileobj, name: str, map_location, weights_only: bool = True):
    with _open_archive(fileobj, repr(name) if isinstance(name, str) else "the file") as zf:
        _check_directory(zf, fileobj, name)
        prefix = _find_prefix(zf, name)
        reader = _ArchiveReader(zf, prefix, map_location)
        declared = zf.getinfo(prefix + "data.pkl").file_size
        if declared > max_pickle_bytes():
            raise RuntimeError(f"ember.load: {name}: {too_big('its data.pkl', declared, max_pickle_bytes())}")
        try:
            data = zf.read(prefix + "data.pkl")
        except (zipfile.BadZipFile, OSError, EOFError, ValueError) as e:
            raise RuntimeError(
                f"ember.load: cannot read {prefix}data.pkl of {name} ({_reason(e)}); the file is corrupted"
            ) from None
        unpickler = (_Unpickler if weights_only else _FullUnpickler)(io.BytesIO(data), reader)
        try:
            return unpickler.load()
        except (pickle.UnpicklingError, RuntimeError):
            raise
        except (zipfile.BadZipFile, OSError, EOFError) as e:
            raise RuntimeError(
                f"ember.load: cannot read a record of {name} ({_reason(e)}); the file is corrupted"
            ) from None
        except Exception as e:  # noqa: BLE001 - any other failure means a malformed pickle
            raise pickle.UnpicklingError(f"ember.load: malformed checkpoint ({type(e).__name__}: {e})") from None


# ============================================================================ safetensors
def _safetensors_numpy():
    try:
        import safetensors.numpy as st
    except ImportError:
        raise ImportError(
            "reading or writing .safetensors files needs the optional 'safetensors' package "
            "(pip install safetensors, or pip install ember[safetensors])"
        ) from None
    return st


def save_safetensors(tensors: dict, path, metadata: dict[str, str] | None = None) -> None:
    """Save a flat dict of name -> tensor as a .safetensors file (written atomically)."""
    st = _safetensors_numpy()
    if not isinstance(tensors, dict):
        raise TypeError(f"a .safetensors file holds a flat dict of tensors, got {type(tensors).__name__}")
    arrays = {}
    for k, v in tensors.items():
        if not isinstance(k, str):
            raise TypeError(f"safetensors keys must be strings, got {k!r}")
        if not isinstance(v, Tensor):
            raise TypeError(f"safetensors values must be tensors, but {k!r} is a {type(v).__name__}")
        arrays[k] = np.ascontiguousarray(v._data)
    blob = st.save(arrays, metadata=metadata)
    write_atomic(os.fspath(path), lambda fh: fh.write(blob))


# safetensors' dtype codes for the dtypes ember has; any other (BF16, F8_*, U16-U64, complex) is refused
_SAFETENSORS_DTYPES = {"F64", "F32", "F16", "I64", "I32", "I16", "I8", "U8", "BOOL"}
_SAFETENSORS_MAX_HEADER = 100 << 20  # the limit the safetensors format itself sets


def _safetensors_header(path: str) -> dict:
    """The JSON header of a .safetensors file, checked before any tensor is read: its length fits the file
    and every tensor's dtype is one ember has."""
    size = os.path.getsize(path)
    with open(path, "rb") as fh:
        head = fh.read(8)
        n = int.from_bytes(head, "little") if len(head) == 8 else -1
        if n < 2 or n > min(size - 8, _SAFETENSORS_MAX_HEADER):
            raise RuntimeError(
                f"ember.load: {path!r} is not a valid .safetensors file (header length {n} in a file of {size} bytes)"
            )
        try:
            header = json.loads(fh.read(n))
        except (UnicodeDecodeError, ValueError) as e:
            raise RuntimeError(f"ember.load: {path!r} has a malformed .safetensors header ({_reason(e)})") from None
    if not isinstance(header, dict):
        raise RuntimeError(f"ember.load: {path!r} has a malformed .safetensors header (not a JSON object)")
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        code = entry.get("dtype") if isinstance(entry, dict) else None
        if code not in _SAFETENSORS_DTYPES:
            raise RuntimeError(
                f"ember.load: {path!r} holds tensor {name!r} of dtype {code}, which ember does not support "
                f"(it has {', '.join(sorted(_SAFETENSORS_DTYPES))})"
            )
    return header


def load_safetensors(path) -> dict[str, Tensor]:
    """Load a .safetensors file as a dict of name -> tensor."""
    st = _safetensors_numpy()
    path = os.fspath(path)
    _safetensors_header(path)
    try:
        arrays = st.load_file(path)
    except Exception as e:  # noqa: BLE001 - the library's own error types, wrapped with the file's name
        raise RuntimeError(f"ember.load: cannot read {path!r} as .safetensors ({_reason(e)})") from None
    return {k: Tensor._wrap(np.array(v, copy=True)) for k, v in arrays.items()}
