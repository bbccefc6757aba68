"""Whole objects in checkpoints: torch.save(model) / torch.load(f, weights_only=False), against torch."""

from __future__ import annotations

import inspect
import io
import pickle
import subprocess
import sys
import textwrap
import warnings
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch

import ember
import ember.nn as enn
import ember.serialization as ser

REPO = Path(__file__).resolve().parents[1]


class TiedNet(enn.Module):
    """A custom module: a shared (tied) weight, a buffer, nested containers and plain attributes."""

    def __init__(self) -> None:
        super().__init__()
        self.embed = enn.Linear(4, 3, bias=False)
        self.blocks = enn.ModuleList([enn.Sequential(enn.Linear(3, 3), enn.Tanh()) for _ in range(2)])
        self.heads = enn.ModuleDict({"a": enn.Linear(3, 3, bias=False)})
        self.heads["a"].weight = self.blocks[0][0].weight  # tied: one Parameter in two places
        self.register_buffer("scale", ember.tensor([2.0]))
        self.name, self.sizes = "tied", (4, 3)

    def forward(self, x):
        h = self.embed(x)
        for block in self.blocks:
            h = block(h)
        return self.heads["a"](h) * self.scale


def _torch_seq():
    torch.manual_seed(0)
    return torch.nn.Sequential(
        torch.nn.Conv2d(1, 2, 3), torch.nn.BatchNorm2d(2), torch.nn.ReLU(), torch.nn.Flatten(), torch.nn.Linear(8, 3)
    )


def _ember_seq():
    ember.manual_seed(0)
    return enn.Sequential(enn.Conv2d(1, 2, 3), enn.BatchNorm2d(2), enn.ReLU(), enn.Flatten(), enn.Linear(8, 3))


def _same_state(e_model, t_model):
    es, ts = e_model.state_dict(), t_model.state_dict()
    assert list(es) == list(ts)
    for k in es:
        np.testing.assert_array_equal(es[k].numpy(force=True), ts[k].detach().numpy(), err_msg=k)


X = np.random.default_rng(1).standard_normal((2, 1, 4, 4)).astype(np.float32)


def _no_warnings(fn):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = fn()
    assert [str(w.message) for w in caught] == []
    return out


# ---------------------------------------------------------------------------- across libraries
def test_a_whole_model_saved_by_ember_loads_in_torch(tmp_path):
    model = _ember_seq()
    model(ember.tensor(X))  # moves the batch-norm statistics
    _no_warnings(lambda: ember.save(model, tmp_path / "m.pt"))  # torch warns about neither step either
    theirs = _no_warnings(lambda: torch.load(tmp_path / "m.pt", weights_only=False))
    assert type(theirs) is torch.nn.Sequential and type(theirs[1]) is torch.nn.BatchNorm2d
    assert isinstance(theirs[0].weight, torch.nn.Parameter) and theirs[0].weight.requires_grad
    _same_state(model, theirs)
    model.eval(), theirs.eval()
    np.testing.assert_allclose(
        model(ember.tensor(X)).detach().numpy(), theirs(torch.tensor(X)).detach().numpy(), rtol=1e-5
    )
    theirs.train()
    theirs(torch.tensor(X)).sum().backward()
    theirs[0].register_forward_hook(lambda m, a, k, o: None, with_kwargs=True)  # torch's hook tables came through


def test_a_whole_model_saved_by_torch_loads_in_ember(tmp_path):
    theirs = _torch_seq()
    theirs(torch.tensor(X))
    torch.save(theirs, tmp_path / "t.pt")
    model = _no_warnings(lambda: ember.load(tmp_path / "t.pt", weights_only=False))
    assert type(model) is enn.Sequential and type(model[1]) is enn.BatchNorm2d
    assert repr(model) == repr(theirs)
    for p in model.parameters():
        assert type(p) is enn.Parameter and p.requires_grad
    _same_state(model, theirs)
    np.testing.assert_allclose(
        model(ember.tensor(X)).detach().numpy(), theirs(torch.tensor(X)).detach().numpy(), rtol=1e-5
    )
    model(ember.tensor(X)).sum().backward()
    assert model[0].weight.grad is not None
    handle = model[0].register_forward_pre_hook(lambda m, a, k: None, with_kwargs=True)  # the tables stay usable
    model(ember.tensor(X))
    handle.remove()
    ember.save(model, tmp_path / "again.pt")  # and back to torch once more
    _same_state(model, torch.load(tmp_path / "again.pt", weights_only=False))


def test_an_optimizer_moves_between_the_libraries(tmp_path):
    theirs = torch.nn.Linear(3, 2)
    t_opt = torch.optim.Adam(theirs.parameters(), lr=0.1)
    theirs(torch.ones(1, 3)).sum().backward()
    t_opt.step()
    torch.save({"model": theirs, "opt": t_opt}, tmp_path / "t.pt")
    ck = ember.load(tmp_path / "t.pt", weights_only=False)
    model, opt = ck["model"], ck["opt"]
    assert type(opt) is ember.optim.Adam
    assert opt.param_groups[0]["params"][0] is model.weight  # shared objects stay shared
    for p in (model.weight, model.bias):
        np.testing.assert_array_equal(
            opt.state[p]["exp_avg"].numpy(), t_opt.state[getattr(theirs, _name(model, p))]["exp_avg"].numpy()
        )
    for lib, m, o in ((ember, model, opt), (torch, theirs, t_opt)):  # one more step each
        o.zero_grad()
        m(lib.tensor([[1.0, 2.0, 3.0]])).sum().backward()
        o.step()
    np.testing.assert_allclose(model.weight.detach().numpy(), theirs.weight.detach().numpy(), rtol=1e-6)
    ember.save(ck, tmp_path / "e.pt")
    back = torch.load(tmp_path / "e.pt", weights_only=False)
    assert type(back["opt"]) is torch.optim.Adam and back["opt"].param_groups[0]["params"][0] is back["model"].weight
    back["opt"].step()  # torch's step function was patched back in on load


def _name(model, param):
    return next(n for n, p in model.named_parameters() if p is param)


# ---------------------------------------------------------------------------- round trips in ember
def test_a_custom_module_round_trips_with_tied_weights_and_buffers(tmp_path):
    ember.manual_seed(3)
    model = TiedNet()
    x = ember.randn(5, 4)
    ember.save(model, tmp_path / "m.pt")
    back = ember.load(tmp_path / "m.pt", weights_only=False)
    assert type(back) is TiedNet and back.name == "tied" and back.sizes == (4, 3)
    assert back.heads["a"].weight is back.blocks[0][0].weight
    assert set(back.state_dict()) == set(model.state_dict())
    for k, v in model.state_dict().items():
        np.testing.assert_array_equal(back.state_dict()[k].numpy(), v.numpy())
    np.testing.assert_array_equal(back(x).detach().numpy(), model(x).detach().numpy())
    back(x).sum().backward()
    assert back.embed.weight.grad is not None and back.scale.grad is None


def test_nested_containers_of_modules_and_optimizers_round_trip(tmp_path):
    model = enn.Sequential(enn.Linear(2, 2), enn.ReLU())
    opt = ember.optim.SGD(model.parameters(), lr=0.5, momentum=0.9)
    model(ember.ones(1, 2)).sum().backward()
    opt.step()
    ck = {"epoch": 3, "parts": [model, (opt, {"again": model})]}
    ember.save(ck, tmp_path / "c.pt")
    back = ember.load(tmp_path / "c.pt", weights_only=False)
    m2, (o2, inner) = back["parts"]
    assert inner["again"] is m2 and back["epoch"] == 3
    assert o2.param_groups[0]["params"][0] is m2[0].weight
    np.testing.assert_array_equal(
        o2.state[m2[0].weight]["momentum_buffer"].numpy(), opt.state[model[0].weight]["momentum_buffer"].numpy()
    )
    for m, o in ((model, opt), (m2, o2)):
        o.zero_grad()
        m(ember.ones(1, 2)).sum().backward()
        o.step()
    np.testing.assert_array_equal(m2[0].weight.detach().numpy(), model[0].weight.detach().numpy())


# ---------------------------------------------------------------------------- the default refuses
def test_the_default_load_refuses_a_whole_model_in_both_directions(tmp_path):
    ember.save(_ember_seq(), tmp_path / "e.pt")
    torch.save(_torch_seq(), tmp_path / "t.pt")
    for path in ("e.pt", "t.pt"):
        with pytest.raises(pickle.UnpicklingError) as mine:
            ember.load(tmp_path / path)
        with pytest.raises(pickle.UnpicklingError) as theirs:
            torch.load(tmp_path / path)
        name = "torch.nn.modules.container.Sequential"  # torch's name, whichever library wrote the file
        assert name in str(theirs.value) and name in str(mine.value)
        text = str(mine.value)
        assert text.startswith("Weights only load failed") and theirs.value.args[0].startswith(
            "Weights only load failed"
        )
        assert "weights_only=False" in text and "arbitrary code" in text and "add_safe_globals" in text
        assert "\n" not in text
        with pytest.raises(pickle.UnpicklingError, match="Weights only load failed"):
            ember.load(tmp_path / path, weights_only=True)


def test_safe_globals_allow_chosen_classes_in_a_weights_only_load(tmp_path):
    torch.save(_torch_seq(), tmp_path / "t.pt")
    classes = [enn.Sequential, enn.Conv2d, enn.BatchNorm2d, enn.ReLU, enn.Flatten, enn.Linear]
    t_classes = [getattr(torch.nn, c.__name__) for c in classes]
    with ser.safe_globals(classes), torch.serialization.safe_globals(t_classes):
        model = ember.load(tmp_path / "t.pt")
        theirs = torch.load(tmp_path / "t.pt")
        assert set(ser.get_safe_globals()) == set(classes)
    _same_state(model, theirs)
    assert ser.get_safe_globals() == []
    with pytest.raises(pickle.UnpicklingError, match="Weights only load failed"):
        ember.load(tmp_path / "t.pt")
    ser.add_safe_globals(classes[:1])
    try:
        with pytest.raises(pickle.UnpicklingError, match="torch.nn.modules.conv.Conv2d"):
            ember.load(tmp_path / "t.pt")  # the next class the file names is still refused
    finally:
        ser.clear_safe_globals()
    assert ser.get_safe_globals() == []
    with pytest.raises(TypeError, match="safe globals must be classes or functions, got int"):
        ser.add_safe_globals([3])


# ---------------------------------------------------------------------------- weights_only=False keeps the file checks
def test_weights_only_false_still_refuses_damaged_files_in_one_line(tmp_path, monkeypatch):
    ember.save(TiedNet(), tmp_path / "m.pt")
    data = (tmp_path / "m.pt").read_bytes()
    (tmp_path / "cut.pt").write_bytes(data[: len(data) // 2])
    with pytest.raises(RuntimeError) as info:
        ember.load(tmp_path / "cut.pt", weights_only=False)
    assert "\n" not in str(info.value) and "truncated" in str(info.value)
    flipped = bytearray(data)
    at = data.index(b"torch.nn.modules") + 3
    flipped[at] ^= 1  # a byte of the pickle changed: the zip's checksum catches it before anything is imported
    (tmp_path / "flip.pt").write_bytes(bytes(flipped))
    with pytest.raises(RuntimeError) as info:
        ember.load(tmp_path / "flip.pt", weights_only=False)
    assert "\n" not in str(info.value)
    monkeypatch.setenv("EMBER_MAX_FILE_BYTES", "100")  # the size limits apply too
    with pytest.raises(RuntimeError, match="limit"):
        ember.load(tmp_path / "m.pt", weights_only=False)


def test_weights_only_false_names_classes_it_cannot_find(tmp_path):
    torch.save({"attention": torch.nn.MultiheadAttention(4, 2)}, tmp_path / "t.pt")
    with pytest.raises(
        pickle.UnpicklingError, match="torch.nn.modules.activation.MultiheadAttention, which ember does not implement"
    ):
        ember.load(tmp_path / "t.pt", weights_only=False)
    pkl = b"\x80\x02cno_such_module_anywhere\nThing\n)\x81."
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("archive/data.pkl", pkl)
    buf.seek(0)
    with pytest.raises(pickle.UnpicklingError, match="cannot find 'no_such_module_anywhere.Thing'"):
        ember.load(buf, weights_only=False)


# ---------------------------------------------------------------------------- torch's environment switches
def _outcome(load, path):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            out = type(load(path)).__name__
        except Exception as e:  # noqa: BLE001 - the outcome is compared
            out = type(e).__name__
    return out, [w.category.__name__ for w in caught]


@pytest.mark.parametrize(
    "env,kwargs",
    [
        ({"TORCH_FORCE_WEIGHTS_ONLY_LOAD": "1"}, {"weights_only": False}),
        ({"TORCH_FORCE_WEIGHTS_ONLY_LOAD": "true"}, {}),
        ({"TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD": "1"}, {}),
        ({"TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD": "YES"}, {"weights_only": True}),
        ({"TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD": "0"}, {}),
        ({"TORCH_FORCE_WEIGHTS_ONLY_LOAD": "1", "TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD": "1"}, {}),
    ],
)
def test_torchs_environment_switches(tmp_path, monkeypatch, env, kwargs):
    torch.save(torch.nn.Linear(1, 1), tmp_path / "t.pt")
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    mine = _outcome(lambda p: ember.load(p, **kwargs), tmp_path / "t.pt")
    theirs = _outcome(lambda p: torch.load(p, **kwargs), tmp_path / "t.pt")
    assert mine == (theirs[0], theirs[1]), (mine, theirs)


def test_the_forced_unsafe_load_warns_at_the_callers_line(tmp_path, monkeypatch):
    torch.save(torch.nn.Linear(1, 1), tmp_path / "t.pt")
    monkeypatch.setenv("TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD", "1")
    with pytest.warns(UserWarning, match="TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD") as caught:
        ember.load(tmp_path / "t.pt")
    assert caught[0].filename == __file__


# ---------------------------------------------------------------------------- class names
def _public_classes():
    for ns, tns in ((enn, torch.nn), (ember.optim, torch.optim)):
        for n in dir(ns):
            c = getattr(ns, n)
            if inspect.isclass(c) and c.__module__.startswith("ember.") and "_unsupported" not in c.__module__:
                tc = getattr(tns, n, None)
                if inspect.isclass(tc) and tc is not torch.Tensor:
                    yield c, tc


def test_ember_classes_are_written_under_torchs_names_and_read_back():
    pairs = list(_public_classes())
    assert len(pairs) > 80
    for cls, tcls in pairs:
        module, name = ser.torch_name(cls.__module__, cls.__qualname__, cls)
        assert (module, name) == (tcls.__module__, tcls.__qualname__), cls
        assert pickle.loads(pickle.dumps(tcls)) is tcls
        assert ser._ember_global(module, name) is cls
    # a function of a private ember module is written under its public torch name
    assert ser.torch_name(ember.relu.__module__, "relu", ember.relu) == ("torch", "relu")


# ---------------------------------------------------------------------------- a tutorial's own class, both ways
MODEL_FILE = """
import torch
import torch.nn as nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(4, 8)
        self.fc2 = nn.Linear(8, 2)

    def forward(self, x):
        return self.fc2(torch.relu(self.fc1(x)))
"""


def _run(tmp_path, code: str, under_ember: bool) -> str:
    prog = ("import ember.compat; ember.compat.install()\n" if under_ember else "") + textwrap.dedent(code)
    env = {"PYTHONPATH": f"{tmp_path}:{REPO}", "PATH": "/usr/bin:/bin"}
    proc = subprocess.run(
        [sys.executable, "-c", prog], capture_output=True, text=True, cwd=tmp_path, env=env, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_a_user_class_saved_by_torch_loads_under_ember_run_and_back(tmp_path):
    (tmp_path / "netdef.py").write_text(MODEL_FILE)
    save_torch = """
        import torch
        from netdef import Net
        torch.manual_seed(0)
        model = Net()
        torch.save(model, "model.pt")
        print(model(torch.ones(1, 4)).tolist(), float(model.fc1.weight.sum()))
    """
    expected, weight_sum = _run(tmp_path, save_torch, under_ember=False).rsplit(" ", 1)
    load_ember = """
        import torch, ember
        model = torch.load("model.pt", weights_only=False)
        assert type(model).__module__ == "netdef" and isinstance(model, ember.nn.Module)
        assert isinstance(model.fc1.weight, ember.nn.Parameter)
        print(model(torch.ones(1, 4)).tolist())
        model.fc1.weight.data.mul_(2)
        torch.save(model, "again.pt")
    """
    got = _run(tmp_path, load_ember, under_ember=True)
    np.testing.assert_allclose(eval(got), eval(expected), rtol=1e-6)
    check = """
        import torch
        model = torch.load("again.pt", weights_only=False)
        assert type(model).__module__ == "netdef" and type(model.fc1) is torch.nn.Linear
        print(float(model.fc1.weight.sum()))
    """
    assert float(_run(tmp_path, check, under_ember=False)) == pytest.approx(2 * float(weight_sum), rel=1e-5)
