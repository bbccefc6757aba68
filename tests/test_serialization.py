"""ember.save / ember.load: torch's zip format in both directions, safety against hostile files, atomic writes."""

from __future__ import annotations

import io
import os
import pickle
import sys
import warnings
import zipfile
from collections import OrderedDict

import numpy as np
import pytest
import torch

import ember
import ember.serialization as ser

DTYPES = ["float32", "float64", "float16", "int64", "int32", "int16", "int8", "uint8", "bool"]


def _array(name: str, shape=(3, 4)) -> np.ndarray:
    rng = np.random.default_rng(0)
    if name == "bool":
        return rng.random(shape) > 0.5
    if name.startswith("float"):
        return rng.standard_normal(shape).astype(name)
    info = np.iinfo(name)
    return rng.integers(max(info.min, -100), min(info.max, 100), size=shape).astype(name)


def _same(e, t):
    """An ember tensor equals a torch tensor in dtype, shape and values."""
    assert isinstance(e, ember.Tensor), type(e)
    assert str(e.dtype) == str(t.dtype)
    assert tuple(e.shape) == tuple(t.shape)
    np.testing.assert_array_equal(e.numpy(force=True), t.detach().numpy())


# ---------------------------------------------------------------------------- round trips
@pytest.mark.parametrize("name", DTYPES)
def test_every_dtype_ember_to_torch_and_back(tmp_path, name):
    a = _array(name)
    path = tmp_path / "t.pt"
    e = ember.tensor(a)
    ember.save({"x": e, "view": e.t(), "row": e[1]}, path)
    t = torch.load(path, weights_only=True)
    _same(e, t["x"])
    _same(e.t(), t["view"])
    _same(e[1], t["row"])
    assert t["view"].stride() == (1, 4)
    assert t["x"].untyped_storage().data_ptr() == t["view"].untyped_storage().data_ptr()

    tpath = tmp_path / "torch.pt"
    tt = torch.tensor(a)
    torch.save({"x": tt, "view": tt.t(), "row": tt[1]}, tpath)
    back = ember.load(tpath)
    _same(back["x"], tt)
    _same(back["view"], tt.t())
    _same(back["row"], tt[1])


@pytest.mark.parametrize("name", DTYPES)
def test_every_dtype_ember_round_trip(tmp_path, name):
    a = _array(name, (2, 3, 5))
    e = ember.tensor(a)
    ember.save([e, e[:, 1:, ::2], e.permute(2, 0, 1)], tmp_path / "x.pt")
    x, sl, perm = ember.load(tmp_path / "x.pt")
    np.testing.assert_array_equal(x.numpy(), a)
    np.testing.assert_array_equal(sl.numpy(), a[:, 1:, ::2])
    np.testing.assert_array_equal(perm.numpy(), a.transpose(2, 0, 1))
    assert np.shares_memory(x._data, sl._data)


def test_shared_storage_survives(tmp_path):
    base = ember.arange(10.0)
    ember.save({"a": base, "b": base[2:5]}, tmp_path / "s.pt")
    out = ember.load(tmp_path / "s.pt")
    out["a"]._data[3] = 100.0
    assert out["b"][1].item() == 100.0
    t = torch.load(tmp_path / "s.pt", weights_only=True)
    assert t["b"].storage_offset() == 2
    t["a"][3] = -1.0
    assert t["b"][1].item() == -1.0


def test_negative_strides_saved_as_copy(tmp_path):
    e = ember.tensor(np.arange(6.0, dtype=np.float32)[::-1].copy())
    e._data = e._data[::-1]  # a view NumPy can have and torch cannot
    ember.save(e, tmp_path / "n.pt")
    np.testing.assert_array_equal(torch.load(tmp_path / "n.pt").numpy(), np.arange(6.0))
    np.testing.assert_array_equal(ember.load(tmp_path / "n.pt").numpy(), np.arange(6.0))


def test_plain_data_round_trips(tmp_path):
    obj = {
        "none": None,
        "int": 3,
        "float": 0.25,
        "str": "ok",
        "bytes": b"\x00\xff",
        "tuple": (1, (2.0, "x")),
        "list": [1, [ember.ones(2)]],
        "set": {1, 2},
        "complex": 1 + 2j,
        "dtype": ember.float16,
        "size": ember.Size([2, 3]),
        "device": ember.device("cpu"),
        "od": OrderedDict(b=1, a=2),
        "np_scalar": np.float32(1.5),
        "big": 2**70,
    }
    ember.save(obj, tmp_path / "p.pt")
    for loaded in (ember.load(tmp_path / "p.pt"), torch.load(tmp_path / "p.pt", weights_only=True)):
        for key in ("none", "int", "float", "str", "bytes", "tuple", "set", "complex", "big"):
            assert loaded[key] == obj[key], key
        assert list(loaded["od"].items()) == [("b", 1), ("a", 2)]
        assert loaded["np_scalar"] == 1.5 and type(loaded["np_scalar"]) is float
        assert str(loaded["dtype"]) == "torch.float16"
        assert tuple(loaded["size"]) == (2, 3)
        assert str(loaded["device"]) == "cpu"
    back = ember.load(tmp_path / "p.pt")
    assert back["dtype"] is ember.float16
    ember.save({"frozen": frozenset({3})}, tmp_path / "f.pt")  # torch's weights_only refuses frozenset
    assert ember.load(tmp_path / "f.pt") == {"frozen": frozenset({3})}
    assert isinstance(back["size"], ember.Size)


def test_requires_grad_and_parameters(tmp_path):
    w = ember.ones(2, requires_grad=True)
    ember.save({"w": w}, tmp_path / "g.pt")
    assert torch.load(tmp_path / "g.pt")["w"].requires_grad
    assert ember.load(tmp_path / "g.pt")["w"].requires_grad

    torch.save(
        {"p": torch.nn.Parameter(torch.ones(3)), "frozen": torch.nn.Parameter(torch.ones(1), False)}, tmp_path / "p.pt"
    )
    out = ember.load(tmp_path / "p.pt")
    assert out["p"].requires_grad and not out["frozen"].requires_grad
    param_cls = ser._parameter_class()
    if param_cls is not None:
        assert isinstance(out["p"], param_cls)
        ember.save(out, tmp_path / "again.pt")
        assert isinstance(torch.load(tmp_path / "again.pt")["p"], torch.nn.Parameter)


def test_torch_sequential_state_dict(tmp_path):
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.BatchNorm1d(8), torch.nn.Linear(8, 2))
    sd = model.state_dict()
    torch.save(sd, tmp_path / "m.pt")
    loaded = ember.load(tmp_path / "m.pt")
    assert isinstance(loaded, OrderedDict)
    assert list(loaded) == list(sd)
    for k, v in sd.items():
        _same(loaded[k], v)
    assert loaded._metadata == sd._metadata

    ember.save(loaded, tmp_path / "m2.pt")
    fresh = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.BatchNorm1d(8), torch.nn.Linear(8, 2))
    fresh.load_state_dict(torch.load(tmp_path / "m2.pt", weights_only=True))
    x = torch.randn(5, 4)
    model.eval()
    fresh.eval()
    assert torch.equal(model(x), fresh(x))


def _torch_checkpoint():
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Tanh(), torch.nn.Linear(4, 1))
    opt = torch.optim.Adam(model.parameters(), lr=0.01)
    for _ in range(3):
        opt.zero_grad()
        model(torch.randn(6, 3)).pow(2).mean().backward()
        opt.step()
    return {"epoch": 3, "model": model.state_dict(), "optimizer": opt.state_dict(), "loss": 0.5, "name": "x"}


def test_nested_checkpoint_torch_to_ember_to_torch(tmp_path):
    ckpt = _torch_checkpoint()
    torch.save(ckpt, tmp_path / "c.pt")
    e = ember.load(tmp_path / "c.pt", map_location="cpu")
    assert (e["epoch"], e["loss"], e["name"]) == (3, 0.5, "x")
    for k, v in ckpt["model"].items():
        _same(e["model"][k], v)
    assert e["optimizer"]["param_groups"] == ckpt["optimizer"]["param_groups"]
    for idx, st in ckpt["optimizer"]["state"].items():
        for key, v in st.items():
            _same(e["optimizer"]["state"][idx][key], v)

    # the optimizer state loads into an ember optimizer over the same parameters
    params = [ember.tensor(v.numpy(), requires_grad=True) for v in ckpt["model"].values()]
    opt = ember.optim.Adam(params, lr=0.01)
    opt.load_state_dict(e["optimizer"])
    assert opt.state[params[0]]["step"].item() == 3.0

    ember.save(e, tmp_path / "c2.pt")
    t = torch.load(tmp_path / "c2.pt", weights_only=True)
    assert (t["epoch"], t["loss"], t["name"]) == (3, 0.5, "x")
    for k, v in ckpt["model"].items():
        assert torch.equal(t["model"][k], v)
    topt = torch.optim.Adam(
        torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Tanh(), torch.nn.Linear(4, 1)).parameters(), lr=0.01
    )
    topt.load_state_dict(t["optimizer"])
    assert topt.state_dict()["param_groups"] == ckpt["optimizer"]["param_groups"]


def test_optimizer_checkpoint_resumes_exactly(tmp_path):
    rng = np.random.default_rng(0)
    X = ember.tensor(rng.standard_normal((8, 3)).astype(np.float32))
    w0 = rng.standard_normal((3, 1)).astype(np.float32)

    def run(w, opt, steps):
        for _ in range(steps):
            opt.zero_grad()
            (X @ w).pow(2).mean().backward()
            opt.step()

    w = ember.tensor(w0, requires_grad=True)
    opt = ember.optim.AdamW([w], lr=0.05)
    run(w, opt, 12)

    w1 = ember.tensor(w0, requires_grad=True)
    opt1 = ember.optim.AdamW([w1], lr=0.05)
    run(w1, opt1, 5)
    ember.save({"w": w1, "opt": opt1.state_dict()}, tmp_path / "ck.pt")
    ck = ember.load(tmp_path / "ck.pt")
    w2 = ember.tensor(ck["w"].detach().numpy(), requires_grad=True)
    opt2 = ember.optim.AdamW([w2], lr=0.05)
    opt2.load_state_dict(ck["opt"])
    run(w2, opt2, 7)
    np.testing.assert_array_equal(w.detach().numpy(), w2.detach().numpy())


def test_file_objects_both_ways():
    buf = io.BytesIO()
    ember.save({"a": ember.arange(4)}, buf)
    buf.seek(0)
    assert torch.equal(torch.load(buf, weights_only=True)["a"], torch.arange(4))
    buf.seek(0)
    assert ember.load(buf)["a"].tolist() == [0, 1, 2, 3]
    tbuf = io.BytesIO()
    torch.save([torch.ones(2, dtype=torch.int16)], tbuf)
    tbuf.seek(0)
    out = ember.load(tbuf)
    assert out[0].dtype == ember.int16 and out[0].tolist() == [1, 1]


def test_pathlike_and_str(tmp_path):
    ember.save(ember.ones(1), str(tmp_path / "a.pt"))
    assert ember.load(str(tmp_path / "a.pt")).tolist() == [1.0]
    assert ember.load(tmp_path / "a.pt").tolist() == [1.0]


def test_zip_layout_matches_torch(tmp_path):
    ember.save({"a": ember.ones(3), "b": ember.zeros(2, dtype=ember.int64)}, tmp_path / "e.pt")
    torch.save({"a": torch.ones(3), "b": torch.zeros(2, dtype=torch.int64)}, tmp_path / "t.pt")
    e_names = [n.split("/", 1)[1] for n in zipfile.ZipFile(tmp_path / "e.pt").namelist()]
    t_names = [n.split("/", 1)[1] for n in zipfile.ZipFile(tmp_path / "t.pt").namelist()]
    assert e_names == t_names
    with zipfile.ZipFile(tmp_path / "e.pt") as zf:
        assert zf.namelist()[0] == "archive/data.pkl"
        assert zf.read("archive/byteorder") == b"little"
        assert zf.read("archive/version") == b"3\n"
        for info in zf.infolist():
            assert info.compress_type == zipfile.ZIP_STORED
            if info.filename.startswith("archive/data/"):
                assert (info.header_offset + 30 + len(info.filename) + len(info.extra)) % 64 == 0
    # torch can memory-map ember's files, which needs the aligned records
    assert torch.equal(torch.load(tmp_path / "e.pt", mmap=True)["a"], torch.ones(3))


# ---------------------------------------------------------------------------- map_location
def _zip_with_pickle(path, pkl: bytes, records: dict[str, bytes], prefix="archive"):
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr(f"{prefix}/data.pkl", pkl)
        zf.writestr(f"{prefix}/byteorder", b"little")
        for k, v in records.items():
            zf.writestr(f"{prefix}/data/{k}", v)
        zf.writestr(f"{prefix}/version", b"3\n")


class _CudaPickler(ser._Pickler):
    def persistent_id(self, obj):
        pid = super().persistent_id(obj)
        return None if pid is None else pid[:3] + ("cuda:0",) + pid[4:]


def _cuda_checkpoint(path):
    buf = io.BytesIO()
    p = _CudaPickler(buf, 2)
    p.dump({"w": ember.tensor([1.0, 2.0, 3.0])})
    _zip_with_pickle(path, buf.getvalue(), {r.key: r.array.tobytes() for r in p.storages})


@pytest.mark.parametrize(
    "map_location",
    [None, "cpu", ember.device("cpu"), {"cuda:0": "cpu"}, lambda storage, loc: storage],
)
def test_cuda_tensors_load_on_cpu(tmp_path, map_location):
    _cuda_checkpoint(tmp_path / "cuda.pt")
    out = ember.load(tmp_path / "cuda.pt", map_location=map_location)
    assert out["w"].tolist() == [1.0, 2.0, 3.0]
    assert str(out["w"].device) == "cpu"


def test_map_location_to_gpu_is_refused(tmp_path):
    _cuda_checkpoint(tmp_path / "cuda.pt")
    with pytest.raises(RuntimeError, match="CPU only"):
        ember.load(tmp_path / "cuda.pt", map_location="cuda")
    with pytest.raises(RuntimeError, match="CPU only"):
        ember.load(tmp_path / "cuda.pt", map_location={"cuda:0": "cuda:1"})


# ---------------------------------------------------------------------------- atomic writes
def _leftovers(folder):
    return [n for n in os.listdir(folder) if n.endswith(".tmp")]


def test_failed_pickle_keeps_previous_file(tmp_path):
    path = tmp_path / "ck.pt"
    ember.save({"v": ember.ones(2)}, path)
    before = path.read_bytes()
    with pytest.raises((pickle.PicklingError, AttributeError), match="lambda"):
        ember.save({"v": ember.zeros(2), "bad": lambda: 1}, path)
    assert path.read_bytes() == before
    assert _leftovers(tmp_path) == []
    assert ember.load(path)["v"].tolist() == [1.0, 1.0]


def test_failure_while_writing_records_keeps_previous_file(tmp_path, monkeypatch):
    path = tmp_path / "ck.pt"
    ember.save({"v": ember.ones(2)}, path)
    before = path.read_bytes()
    real = ser._add_record
    calls = []

    def flaky(zf, base, name, data):
        calls.append(name)
        if name.startswith("archive/data/"):
            raise OSError("disk full")
        real(zf, base, name, data)

    monkeypatch.setattr(ser, "_add_record", flaky)
    with pytest.raises(OSError, match="disk full"):
        ember.save({"v": ember.zeros(5)}, path)
    assert calls and path.read_bytes() == before
    assert _leftovers(tmp_path) == []


def test_failure_at_rename_keeps_previous_file(tmp_path, monkeypatch):
    path = tmp_path / "ck.pt"
    ember.save(ember.ones(1), path)
    before = path.read_bytes()

    def broken_replace(src, dst):
        raise OSError("rename failed")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError, match="rename failed"):
        ember.save(ember.zeros(1), path)
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert _leftovers(tmp_path) == []


def test_other_objects_save_but_load_only_with_weights_only_false(tmp_path):
    # as torch.save: anything picklable is written; the default load refuses what is not plain data
    for obj in (print, np.arange(3), {"f": ember.tensor([1.0]), "g": len}):
        path = tmp_path / "o.pt"
        ember.save({"x": obj}, path)
        with pytest.raises(pickle.UnpicklingError, match="Weights only load failed"):
            ember.load(path)
        with pytest.raises(pickle.UnpicklingError, match="Weights only load failed"):
            torch.load(path)
        back = ember.load(path, weights_only=False)["x"]
        theirs = torch.load(path, weights_only=False)["x"]
        if isinstance(obj, np.ndarray):
            assert back.tolist() == theirs.tolist() == [0, 1, 2]
        elif isinstance(obj, dict):
            assert back["g"] is theirs["g"] is len and back["f"].tolist() == theirs["f"].tolist() == [1.0]
        else:
            assert back is theirs is print

    class Local:  # pickle cannot name a class defined inside a function, in torch either
        pass

    with pytest.raises((pickle.PicklingError, AttributeError), match="Can't (pickle|get local)"):
        ember.save({"x": Local()}, tmp_path / "bad.pt")
    assert not (tmp_path / "bad.pt").exists()


# ---------------------------------------------------------------------------- hostile files
def _global_call(module: str, name: str, arg) -> bytes:
    """Raw protocol-2 pickle bytes calling module.name(arg): what an attacker would write."""
    return (
        b"\x80\x02c" + module.encode() + b"\n" + name.encode() + b"\n" + pickle.dumps((arg,), protocol=2)[2:-1] + b"R."
    )


@pytest.mark.parametrize(
    "module,name,arg_fmt",
    [
        ("posix", "system", "touch {marker}"),
        ("os", "system", "touch {marker}"),
        ("subprocess", "Popen", ["touch", "{marker}"]),
        ("builtins", "eval", "open(r'{marker}', 'w').close()"),
        ("builtins", "exec", "open(r'{marker}', 'w').close()"),
        ("__builtin__", "eval", "open(r'{marker}', 'w').close()"),
        ("builtins", "getattr", "x"),
        ("torch", "load", "{marker}"),
        ("ember.serialization", "save", "{marker}"),
    ],
)
def test_hostile_globals_are_refused(tmp_path, module, name, arg_fmt):
    marker = tmp_path / "pwned"
    arg = [a.format(marker=marker) for a in arg_fmt] if isinstance(arg_fmt, list) else arg_fmt.format(marker=marker)
    path = tmp_path / "evil.pt"
    _zip_with_pickle(path, _global_call(module, name, arg), {})
    with pytest.raises(pickle.UnpicklingError, match=f"ember.load refused to load '{module}.{name}'"):
        ember.load(path)
    assert not marker.exists()


def test_hostile_error_message():
    buf = io.BytesIO()
    _zip_with_pickle(buf, _global_call("posix", "system", "true"), {})
    buf.seek(0)
    with pytest.raises(pickle.UnpicklingError) as info:
        ember.load(buf)
    assert str(info.value) == (
        "Weights only load failed: ember.load refused to load 'posix.system', which weights_only=True does not "
        "allow (files may only contain tensors, numbers, strings and containers). Only if you trust the source of "
        "the file: load it with weights_only=False, which can run arbitrary code named in the file; or, to keep "
        "weights_only=True, allow this global with torch.serialization.add_safe_globals([posix.system]) or the "
        "safe_globals([posix.system]) context manager"
    )


def test_stack_global_and_build_tricks_are_refused(tmp_path):
    marker = tmp_path / "pwned"
    # protocol 4 STACK_GLOBAL route to os.system
    stack_global = b"\x80\x04\x8c\x02os\x94\x8c\x06system\x94\x93\x8c\x04true\x85R."
    with pytest.raises(pickle.UnpicklingError, match="refused to load 'os.system'"):
        _load_pickle(tmp_path, stack_global)
    # BUILD on an allowlisted class object would let a file rewrite ember's classes
    build_on_class = b"\x80\x02ctorch\nSize\n}X\x08\x00\x00\x00__repr__K\x01sb."
    with pytest.raises(pickle.UnpicklingError, match="refused to set the state"):
        _load_pickle(tmp_path, build_on_class)
    assert repr(ember.Size([1])) == "torch.Size([1])"
    # BUILD on a dtype object (would corrupt ember.float32 for the whole process)
    build_on_dtype = b"\x80\x02ctorch\nfloat32\n}X\x02\x00\x00\x00npK\x01sb."
    with pytest.raises(pickle.UnpicklingError, match="refused to set the state"):
        _load_pickle(tmp_path, build_on_dtype)
    assert ember.float32.np == np.float32
    assert not marker.exists()


def _load_pickle(tmp_path, pkl: bytes, records=None):
    path = tmp_path / "f.pt"
    _zip_with_pickle(path, pkl, records or {})
    return ember.load(path)


def test_malformed_tensor_records_are_refused(tmp_path):
    buf = io.BytesIO()
    ember.save(ember.arange(6.0), buf)
    with zipfile.ZipFile(io.BytesIO(buf.getvalue())) as zf:
        pkl = zf.read("archive/data.pkl")
    # the storage record holds fewer bytes than the tensor claims
    with pytest.raises(RuntimeError, match="holds 8 bytes but its storage needs exactly 24"):
        _load_pickle(tmp_path, pkl, {"0": np.arange(2.0, dtype=np.float32).tobytes()})
    # more bytes than the tensor claims (a changed type name would reinterpret them): torch refuses too
    with pytest.raises(RuntimeError, match="holds 32 bytes but its storage needs exactly 24"):
        _load_pickle(tmp_path, pkl, {"0": np.arange(8.0, dtype=np.float32).tobytes()})
    # a missing storage record
    with pytest.raises(RuntimeError, match="no record 'archive/data/0'"):
        _load_pickle(tmp_path, pkl, {})
    # geometry that reads past the storage
    bad = pkl.replace(b"K\x06\x85", b"K\x09\x85")
    assert bad != pkl
    with pytest.raises(pickle.UnpicklingError, match="reaches element"):
        _load_pickle(tmp_path, bad, {"0": np.arange(6.0, dtype=np.float32).tobytes()})


def test_truncated_zip(tmp_path):
    path = tmp_path / "full.pt"
    ember.save({"w": ember.ones(1000)}, path)
    data = path.read_bytes()
    for cut in (len(data) // 2, len(data) - 10, 100):
        (tmp_path / "cut.pt").write_bytes(data[:cut])
        with pytest.raises(RuntimeError, match="truncated or corrupted"):
            ember.load(tmp_path / "cut.pt")


def test_corrupted_record_is_detected(tmp_path):
    path = tmp_path / "c.pt"
    ember.save({"w": ember.ones(100)}, path)
    data = bytearray(path.read_bytes())
    idx = data.find(np.ones(4, dtype=np.float32).tobytes())
    data[idx] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(RuntimeError, match="corrupted"):
        ember.load(path)


def test_legacy_and_foreign_files(tmp_path):
    legacy = tmp_path / "legacy.pt"
    torch.save(torch.ones(2), legacy, _use_new_zipfile_serialization=False)
    with pytest.raises(RuntimeError, match="legacy"):
        ember.load(legacy)
    text = tmp_path / "notes.txt"
    text.write_text("hello")
    with pytest.raises(RuntimeError, match="not a torch/ember checkpoint"):
        ember.load(text)
    other_zip = tmp_path / "other.zip"
    with zipfile.ZipFile(other_zip, "w") as zf:
        zf.writestr("readme.txt", "x")
    with pytest.raises(RuntimeError, match="no data.pkl"):
        ember.load(other_zip)


def test_unsupported_arguments():
    with pytest.raises(NotImplementedError, match="pickle_module"):
        ember.save(ember.ones(1), io.BytesIO(), pickle_module=pickle)
    with pytest.raises(NotImplementedError, match="legacy"):
        ember.save(ember.ones(1), io.BytesIO(), _use_new_zipfile_serialization=False)
    with pytest.raises(NotImplementedError, match="pickle_module"):
        ember.load(io.BytesIO(), pickle_module=pickle)


# ---------------------------------------------------------------------------- safetensors
def test_safetensors_round_trip(tmp_path):
    pytest.importorskip("safetensors")
    tensors = {name: ember.tensor(_array(name)) for name in DTYPES}
    tensors["view"] = tensors["float32"].t()
    ember.save(tensors, tmp_path / "w.safetensors")
    out = ember.load(tmp_path / "w.safetensors")
    assert set(out) == set(tensors)
    for k, v in tensors.items():
        assert out[k].dtype == v.dtype
        np.testing.assert_array_equal(out[k].numpy(), v.numpy())
    from safetensors.torch import load_file

    t = load_file(str(tmp_path / "w.safetensors"))
    np.testing.assert_array_equal(t["int16"].numpy(), tensors["int16"].numpy())

    ser.save_safetensors({"a": ember.ones(2)}, tmp_path / "h.safetensors", metadata={"format": "pt"})
    assert ser.load_safetensors(tmp_path / "h.safetensors")["a"].tolist() == [1.0, 1.0]
    with pytest.raises(TypeError, match="flat dict of tensors"):
        ember.save([ember.ones(1)], tmp_path / "bad.safetensors")
    with pytest.raises(TypeError, match="must be tensors"):
        ember.save({"a": 1}, tmp_path / "bad.safetensors")


def test_safetensors_missing_package_message(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "safetensors.numpy", None)
    monkeypatch.setitem(sys.modules, "safetensors", None)
    with pytest.raises(ImportError, match="optional 'safetensors' package"):
        ember.save({"a": ember.ones(1)}, tmp_path / "x.safetensors")


def _rewritten(src, dst, edit) -> None:
    """dst: the zip at src with its (name, bytes) records passed through edit."""
    with zipfile.ZipFile(src) as zin:
        items = [(i.filename, zin.read(i.filename)) for i in zin.infolist()]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns about duplicate names, which is the point
        with zipfile.ZipFile(dst, "w") as z:
            for name, data in edit(items):
                z.writestr(name, data)


def test_archives_that_two_readers_could_read_differently_are_refused(tmp_path):
    torch.save({"w": torch.arange(6, dtype=torch.float32)}, tmp_path / "base.pt")
    nines = np.full(6, 9, np.float32).tobytes()
    cases = {
        # a second record of the same name: torch reads the first, Python's zipfile the last
        "two records named": lambda items: items + [(n, nines) for n, _ in items if n.endswith("data/0")],
        # a second data.pkl, first in the archive, with its own storage
        "2 data.pkl records": lambda items: [("aaa/data.pkl", items[0][1]), ("aaa/data/0", nines)] + items,
        # a record outside the checkpoint's folder
        "outside its checkpoint folder": lambda items: items + [("elsewhere/data/0", nines)],
    }
    for message, edit in cases.items():
        _rewritten(tmp_path / "base.pt", tmp_path / "bad.pt", edit)
        with pytest.raises(RuntimeError, match=message):
            ember.load(tmp_path / "bad.pt")


def test_views_loaded_from_a_torch_file_keep_their_offsets_and_aliasing(tmp_path):
    a = torch.arange(20, dtype=torch.float32).reshape(4, 5)
    torch.save({"a": a, "v": a.view(-1)[5:12], "t": a.t()}, tmp_path / "views.pt")
    loaded = ember.load(tmp_path / "views.pt")
    assert [loaded[k].storage_offset() for k in "avt"] == [0, 5, 0]
    loaded["a"][1, 0] = 100.0
    assert loaded["v"][0].item() == 100.0 and loaded["t"][0, 1].item() == 100.0
    ember.save(loaded, tmp_path / "again.pt")  # one storage, as torch wrote it
    names = zipfile.ZipFile(tmp_path / "again.pt").namelist()
    assert [n for n in names if "/data/" in n] == ["archive/data/0"]
    back = torch.load(tmp_path / "again.pt")
    assert (
        back["v"].storage_offset() == 5
        and back["v"].untyped_storage().data_ptr() == back["a"].untyped_storage().data_ptr()
    )


def test_a_record_that_cannot_be_read_gets_one_line_naming_the_file(tmp_path):
    ember.save({"w": ember.arange(6.0)}, tmp_path / "ok.pt")
    raw = bytearray((tmp_path / "ok.pt").read_bytes())
    at = raw.find(b"little")  # the byteorder record's bytes: its CRC no longer matches
    raw[at : at + 6] = b"LITTLE"
    (tmp_path / "bad.pt").write_bytes(bytes(raw))
    with pytest.raises(RuntimeError, match="cannot read the byteorder record .*BadZipFile"):
        ember.load(tmp_path / "bad.pt")


def test_a_call_with_the_wrong_arguments_is_a_malformed_checkpoint_not_a_type_error(tmp_path):
    too_few = b"\x80\x02ctorch._utils\n_rebuild_tensor_v2\n)R."
    with pytest.raises(pickle.UnpicklingError, match=r"malformed checkpoint \(TypeError: .*_rebuild_tensor_v2"):
        _load_pickle(tmp_path, too_few)


@pytest.mark.parametrize(
    "dtype", [torch.bfloat16, torch.uint16, torch.uint32, torch.uint64, torch.complex64, torch.float8_e4m3fn]
)
def test_safetensors_dtypes_ember_lacks_are_refused_at_load_by_name(tmp_path, dtype):
    pytest.importorskip("safetensors")
    from safetensors.torch import save_file

    save_file({"a": torch.zeros(3, dtype=dtype), "b": torch.ones(2)}, str(tmp_path / "x.safetensors"))
    with pytest.raises(RuntimeError, match=r"holds tensor 'a' of dtype \w+, which ember does not support"):
        ember.load(tmp_path / "x.safetensors")


def test_broken_safetensors_files_get_one_line_naming_the_file(tmp_path):
    pytest.importorskip("safetensors")
    ember.save({"a": ember.ones(4)}, tmp_path / "ok.safetensors")
    whole = (tmp_path / "ok.safetensors").read_bytes()
    cases = {
        "cut.safetensors": (whole[:20], "not a valid .safetensors file"),
        "huge.safetensors": (b"\xff" * 8 + b"{}", "not a valid .safetensors file"),
        "json.safetensors": ((9).to_bytes(8, "little") + b"{not json", "malformed .safetensors header"),
        "short.safetensors": (whole[:-4], "cannot read .*short.safetensors.* as .safetensors"),
    }
    for name, (blob, message) in cases.items():
        (tmp_path / name).write_bytes(blob)
        with pytest.raises(RuntimeError, match=message):
            ember.load(tmp_path / name)


def test_sizes_a_checkpoint_declares_are_checked_before_allocating(tmp_path, monkeypatch):
    # a 60-byte pickle asking for a 3 GB bytearray
    with pytest.raises(pickle.UnpicklingError, match=r"a bytearray in the pickle needs 3,000,000,000 bytes, over"):
        _load_pickle(tmp_path, b"\x80\x02c__builtin__\nbytearray\n\x8a\x05\x00^\xd0\xb2\x00\x85R.")
    # a tensor whose storage claims 705,032,704 floats: refused before its 2.8 GB buffer is made
    buf = io.BytesIO()
    ember.save(ember.arange(6.0), buf)
    with zipfile.ZipFile(io.BytesIO(buf.getvalue())) as zf:
        pkl = zf.read("archive/data.pkl")
    huge = pkl.replace(b"K\x06", b"J\x00\xf2\x05*", 1)  # the storage's element count as a 4-byte int
    assert huge != pkl
    with pytest.raises(RuntimeError, match=r"record 'archive/data/0': its storage needs 2,820,130,816 bytes, over"):
        _load_pickle(tmp_path, huge, {"0": np.arange(6.0, dtype=np.float32).tobytes()})
    # a data.pkl over the pickle limit; EMBER_MAX_FILE_BYTES raises the limits for a trusted file
    big = pickle.dumps(list(range(300_000)), protocol=2)
    monkeypatch.setenv("EMBER_MAX_FILE_BYTES", "100000")
    with pytest.raises(RuntimeError, match=r"its data.pkl needs [\d,]+ bytes, over ember's limit of 100,000"):
        _load_pickle(tmp_path, big)
    monkeypatch.setenv("EMBER_MAX_FILE_BYTES", "1e7")
    assert len(_load_pickle(tmp_path, big)) == 300_000


def test_a_zip_directory_that_disagrees_with_its_records_is_refused_like_torch(tmp_path):
    # one-bit flips in the central directory that Python's zipfile reads past and torch's reader refuses
    torch.save({"w": torch.arange(6, dtype=torch.float32)}, tmp_path / "base.pt")
    data = (tmp_path / "base.pt").read_bytes()
    start = data.index(b"PK\x01\x02")  # the first central directory entry
    for field, message in (
        (34, "it claims to lie on another disk"),
        (24, "stored, yet"),
        (42, "no local header of that name"),
    ):
        bad = bytearray(data)
        bad[start + field] ^= 0x80
        (tmp_path / "bad.pt").write_bytes(bytes(bad))
        with pytest.raises(RuntimeError, match="PytorchStreamReader failed reading"):
            torch.load(tmp_path / "bad.pt", weights_only=True)
        with pytest.raises(RuntimeError, match=f"the zip directory and the record .* disagree \\({message}"):
            ember.load(tmp_path / "bad.pt")


def test_a_byte_missing_before_the_zip_directory_is_one_line(tmp_path):
    ember.save({"w": ember.arange(6.0)}, tmp_path / "ok.pt")
    data = (tmp_path / "ok.pt").read_bytes()
    at = data.index(b"PK\x01\x02") - 3  # inside the last record, before the central directory
    (tmp_path / "bad.pt").write_bytes(data[:at] + data[at + 1 :])
    with pytest.raises(RuntimeError, match="the file is corrupted"):
        ember.load(tmp_path / "bad.pt")


def test_a_small_deflated_file_cannot_cost_minutes_of_unpickling(tmp_path):
    # 36 KB on disk, 40 MB of cheap opcodes (8 s of CPU to unpickle): over the pickle limit, refused unread
    pkl = b"\x80\x02" + b"N0" * 20_000_000 + b"N."
    path = tmp_path / "slow.pt"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as z:
        z.writestr("archive/data.pkl", pkl)
        z.writestr("archive/byteorder", b"little")
        z.writestr("archive/version", b"3\n")
    assert path.stat().st_size < 100_000
    with pytest.raises(RuntimeError, match=r"its data.pkl needs 40,000,004 bytes, over ember's limit of 16,777,216"):
        ember.load(path)


def test_a_deflated_storage_record_that_inflates_a_hundredfold_is_refused(tmp_path, monkeypatch):
    zeros = np.zeros(1 << 20, np.float32)  # 4 MiB of zeros deflate to about 4 KB
    buf = io.BytesIO()
    ember.save(ember.tensor(zeros), buf)
    with zipfile.ZipFile(io.BytesIO(buf.getvalue())) as zin:
        items = [(i.filename, zin.read(i.filename)) for i in zin.infolist()]
    path = tmp_path / "bomb.pt"
    with zipfile.ZipFile(path, "w") as z:
        for name, data in items:
            z.writestr(name, data, compress_type=zipfile.ZIP_DEFLATED if "/data/" in name else zipfile.ZIP_STORED)
    with pytest.raises(RuntimeError, match=r"inflates [\d,]+ bytes to 4,194,304 \(over 100x\); refusing a likely"):
        ember.load(path)
    monkeypatch.setenv("EMBER_MAX_FILE_BYTES", "1e9")  # trusted: loads
    assert ember.load(path).shape == (1 << 20,)


class _ShortStoragePickler(ser._Pickler):
    """Declares every storage as holding `numel` elements (the record written matches the declaration)."""

    numel = 0

    def persistent_id(self, obj):
        pid = super().persistent_id(obj)
        return None if pid is None else pid[:4] + (self.numel,)


def _file_with_storage_of(path, tensor, numel: int) -> None:
    buf = io.BytesIO()
    p = _ShortStoragePickler(buf, 2)
    p.numel = numel
    p.dump({"t": tensor})
    (ref,) = p.storages
    _zip_with_pickle(path, buf.getvalue(), {ref.key: ref.array.reshape(-1)[:numel].tobytes()})


@pytest.mark.parametrize(
    "make,needed",
    [
        (lambda: ember.arange(6.0), 6),  # contiguous: elements 0..5
        (lambda: ember.arange(12.0)[1::3], 11),  # offset 1, stride 3, size 4: the last element read is 10
        (lambda: ember.arange(20.0).reshape(4, 5)[1:3, 2:4], 14),  # offset 7, strides (5, 1): last is 13
        (lambda: ember.arange(12.0).reshape(3, 4).t()[:, :2], 8),  # strides (1, 4): last is 3 + 4 = 7
        (lambda: ember.arange(4.0)[3:], 4),  # one element at offset 3
    ],
    ids=["contiguous", "offset-stride", "window", "transposed", "last-element"],
)
def test_a_storage_one_element_short_of_the_tensor_is_refused_and_an_exact_one_loads(tmp_path, make, needed):
    t = make()
    assert t.storage_offset() + sum((s - 1) * st for s, st in zip(t.shape, t.stride())) == needed - 1
    exact, short = tmp_path / "exact.pt", tmp_path / "short.pt"
    _file_with_storage_of(exact, t, needed)
    _file_with_storage_of(short, t, needed - 1)
    got = ember.load(exact)["t"]
    assert got.shape == t.shape and got.stride() == t.stride() and got.storage_offset() == t.storage_offset()
    np.testing.assert_array_equal(got.numpy(), t.numpy())
    with pytest.raises(pickle.UnpicklingError, match=f"reaches element {needed - 1} of a storage holding only"):
        ember.load(short)
    # torch agrees on both files
    assert torch.equal(torch.load(exact)["t"], torch.from_numpy(t.numpy()))
    with pytest.raises(RuntimeError, match="Trying to resize storage that is not resizable"):
        torch.load(short)


class _CallsParameter:
    """Pickles as a direct call of torch.nn.Parameter, as a file written by other code may hold."""

    def __init__(self, *args) -> None:
        self.args = args

    def __reduce__(self):
        return (torch.nn.Parameter, self.args)


@pytest.mark.parametrize("args", [(), (torch.ones(2, 3),)], ids=["no-data", "data"])
def test_a_direct_parameter_call_in_a_file_makes_a_parameter_that_requires_grad(args):
    buf = io.BytesIO()
    torch.save({"p": _CallsParameter(*args)}, buf)
    t = torch.load(io.BytesIO(buf.getvalue()), weights_only=True)["p"]
    e = ember.load(io.BytesIO(buf.getvalue()))["p"]
    assert isinstance(e, ember.nn.Parameter) and isinstance(t, torch.nn.Parameter)
    assert e.requires_grad and t.requires_grad
    assert e.dtype == ember.float32 and tuple(e.shape) == tuple(t.shape)
    np.testing.assert_array_equal(e.detach().numpy(), t.detach().numpy())
