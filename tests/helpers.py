"""Shared test helpers: run one call on ember and on torch and compare, and finite-difference checks."""

from __future__ import annotations

import os
import warnings

import numpy as np
import pytest
import torch

import ember


def in_ci() -> bool:
    """Whether the suite runs under CI (the CI variable set, as .ci/run and CI services do)."""
    return bool(os.environ.get("CI"))


def unavailable(reason: str, ci_requirement: str) -> None:
    """Skip a test whose prerequisite is missing, saying so in the warnings summary of every run; under CI,
    fail it instead, since CI provides the prerequisite (ci_requirement says what CI must install)."""
    if in_ci():
        pytest.fail(f"{reason}; {ci_requirement}")
    warnings.warn(f"skipped: {reason}", UserWarning, stacklevel=2)
    pytest.skip(reason)


def to_np(x):
    """An ndarray from an ember tensor, a torch tensor, or plain data."""
    if isinstance(x, ember.Tensor):
        return np.array(x.detach()._data)
    if isinstance(x, torch.Tensor):
        return x.detach().cpu().numpy(force=True)  # force: torch returns ZeroTensor grads for some ops
    return np.asarray(x)


def assert_same_bits(a, b, context="") -> None:
    """a and b (ember or torch tensors, or arrays) have the same shape, dtype and bit pattern: NaN payloads and
    the sign of zero included, where assert_array_equal would call them equal."""
    a, b = to_np(a), to_np(b)
    assert a.shape == b.shape and a.dtype == b.dtype, (context, a.shape, a.dtype, b.shape, b.dtype)
    assert a.tobytes() == b.tobytes(), f"{context}: {a} vs {b}"


def _make_pair(arr, requires_grad: bool):
    arr = np.asarray(arr)
    e = ember.tensor(arr.copy())
    t = torch.tensor(arr.copy())
    if requires_grad and arr.dtype.kind == "f":
        e.requires_grad_(True)
        t.requires_grad_(True)
    return e, t


def _flatten(out):
    if isinstance(out, (tuple, list)):
        res = []
        for o in out:
            res.extend(_flatten(o))
        return res
    return [out]


def assert_same(e_out, t_out, atol=1e-5, rtol=1e-5, check_dtype=True) -> None:
    """ember and torch results agree in type, shape, dtype and values, compared recursively: tensors (within
    atol/rtol), Python numbers (the same type: bool, int or float), None, strings, sizes, dtypes, devices,
    tuples (torch's named results included), lists and dicts; anything else by type name and printed value."""
    _assert_same_value(e_out, t_out, atol, rtol, check_dtype, "result")


def _assert_same_value(e, t, atol, rtol, check_dtype, where) -> None:
    if isinstance(t, torch.Tensor):
        assert isinstance(e, ember.Tensor), f"{where}: expected a Tensor, got {type(e)}"
        assert tuple(e.shape) == tuple(t.shape), f"{where}: shape {tuple(e.shape)} vs torch {tuple(t.shape)}"
        if check_dtype:
            assert str(e.dtype) == str(t.dtype), f"{where}: dtype {e.dtype} vs torch {t.dtype}"
        np.testing.assert_allclose(
            to_np(e).astype(np.float64),
            to_np(t).astype(np.float64),
            atol=atol,
            rtol=rtol,
            equal_nan=True,
            err_msg=where,
        )
    elif t is None or isinstance(t, (bool, str)):
        assert type(e) is type(t) and e == t, f"{where}: {e!r} vs torch {t!r}"
    elif isinstance(t, (int, float)):
        assert type(e) is type(t), f"{where}: {type(e).__name__} {e!r} vs torch {type(t).__name__} {t!r}"
        same = e == t or (np.isnan(t) and np.isnan(e)) if isinstance(t, float) else e == t
        assert same or (isinstance(t, float) and np.isclose(e, t, atol=atol, rtol=rtol)), f"{where}: {e} vs torch {t}"
    elif isinstance(t, torch.Size):
        assert isinstance(e, ember.Size) and tuple(e) == tuple(t), f"{where}: {e!r} vs torch {t!r}"
    elif isinstance(t, torch.dtype):
        assert isinstance(e, ember.dtype) and str(e) == str(t), f"{where}: {e!r} vs torch {t!r}"
    elif isinstance(t, torch.device):
        assert isinstance(e, ember.device) and str(e) == str(t), f"{where}: {e!r} vs torch {t!r}"
    elif isinstance(t, (tuple, list)):
        kind = tuple if isinstance(t, tuple) else list
        assert isinstance(e, kind), f"{where}: {type(e).__name__} vs torch {type(t).__name__}"
        assert len(e) == len(t), f"{where}: {len(e)} items vs torch {len(t)}"
        for name, i in _named_fields(t):  # torch's named results (values, indices): the same names in ember
            assert getattr(e, name, None) is e[i], f"{where}: ember's result has no field {name!r} = item {i}"
        for i, (a, b) in enumerate(zip(e, t)):
            _assert_same_value(a, b, atol, rtol, check_dtype, f"{where}[{i}]")
    elif isinstance(t, dict):
        assert isinstance(e, dict), f"{where}: {type(e).__name__} vs torch dict"
        assert list(e) == list(t), f"{where}: keys {list(e)} vs torch {list(t)}"
        for k in t:
            _assert_same_value(e[k], t[k], atol, rtol, check_dtype, f"{where}[{k!r}]")
    else:
        assert type(e).__name__ == type(t).__name__, f"{where}: {type(e).__name__} vs torch {type(t).__name__}"
        assert e == t or str(e) == str(t), f"{where}: {e!r} vs torch {t!r}"


def _named_fields(t) -> list:
    """(name, position) of each named field of a tuple: a namedtuple's, or a torch.return_types result's."""
    if hasattr(t, "_fields"):
        return [(name, i) for i, name in enumerate(t._fields)]
    if not hasattr(type(t), "n_fields"):
        return []
    skip = {"count", "index", "n_fields", "n_sequence_fields", "n_unnamed_fields"}
    names = [n for n in dir(type(t)) if not n.startswith("_") and n not in skip]
    return [(n, next(i for i, x in enumerate(t) if x is getattr(t, n))) for n in names]


def check_op(fn, *arrays, grad=True, atol=1e-5, rtol=1e-5, check_dtype=True, seed=0, no_grad_args=()):
    """Run fn(lib, *tensors) on ember and torch with the same inputs; compare outputs and gradients.

    arrays are NumPy arrays (float ones get requires_grad unless grad=False or their index is in
    no_grad_args). The backward pass uses the same random upstream gradient in both libraries."""
    pairs = [_make_pair(a, grad and i not in no_grad_args) for i, a in enumerate(arrays)]
    e_in = [p[0] for p in pairs]
    t_in = [p[1] for p in pairs]
    e_out = fn(ember, *e_in)
    t_out = fn(torch, *t_in)
    assert_same(e_out, t_out, atol, rtol, check_dtype)
    if not grad:
        return e_out, t_out
    e_list = [o for o in _flatten(e_out) if isinstance(o, ember.Tensor) and o.requires_grad]
    t_list = [o for o in _flatten(t_out) if isinstance(o, torch.Tensor) and o.requires_grad]
    assert len(e_list) == len(t_list), "requires_grad of outputs differs from torch"
    if not t_list:
        return e_out, t_out
    rng = np.random.default_rng(seed)
    e_total = None
    t_total = None
    for e, t in zip(e_list, t_list):
        w = rng.standard_normal(tuple(t.shape)).astype(to_np(t).dtype)
        e_term = (e * ember.tensor(w)).sum()
        t_term = (t * torch.tensor(w)).sum()
        e_total = e_term if e_total is None else e_total + e_term
        t_total = t_term if t_total is None else t_total + t_term
    t_leaves = [t for t in t_in if t.requires_grad]
    e_leaves = [e for e in e_in if e.requires_grad]
    t_grads = torch.autograd.grad(t_total, t_leaves, allow_unused=True)
    e_grads = ember.autograd.grad(e_total, e_leaves, allow_unused=True)
    for i, (eg, tg) in enumerate(zip(e_grads, t_grads)):
        if tg is None:
            assert eg is None or np.allclose(to_np(eg), 0), f"grad {i}: torch has none"
            continue
        assert eg is not None, f"grad {i}: ember returned None, torch did not"
        assert tuple(eg.shape) == tuple(tg.shape), f"grad {i} shape {tuple(eg.shape)} vs {tuple(tg.shape)}"
        np.testing.assert_allclose(to_np(eg), to_np(tg), atol=atol * 10, rtol=rtol * 10, err_msg=f"grad {i}")
    return e_out, t_out


def check_raises(fn, *arrays):
    """fn raises on both libraries, with the same exception type; returns ember's exception."""
    e_in = [ember.tensor(np.asarray(a).copy()) for a in arrays]
    t_in = [torch.tensor(np.asarray(a).copy()) for a in arrays]
    t_exc = e_exc = None
    try:
        fn(torch, *t_in)
    except Exception as exc:  # noqa: BLE001 - we compare the types
        t_exc = exc
    try:
        fn(ember, *e_in)
    except Exception as exc:  # noqa: BLE001
        e_exc = exc
    assert t_exc is not None, "torch did not raise; the test case is wrong"
    assert e_exc is not None, f"ember did not raise; torch raised {type(t_exc).__name__}: {t_exc}"
    assert isinstance(e_exc, type(t_exc)) or type(t_exc) in type(e_exc).__mro__, (
        f"ember raised {type(e_exc).__name__}: {e_exc}; torch raised {type(t_exc).__name__}: {t_exc}"
    )
    return e_exc


def gradcheck(fn, *arrays, eps=1e-6, atol=1e-5, rtol=1e-4) -> None:
    """Finite-difference check of ember's gradients of sum(fn(*inputs) * w), in float64."""
    inputs = [ember.tensor(np.asarray(a, dtype=np.float64), requires_grad=True) for a in arrays]
    out = fn(*inputs)
    outs = [o for o in _flatten(out) if isinstance(o, ember.Tensor)]
    rng = np.random.default_rng(1)
    ws = [rng.standard_normal(tuple(o.shape)) for o in outs]

    def scalar(*xs):
        res = [o for o in _flatten(fn(*xs)) if isinstance(o, ember.Tensor)]
        return sum(float((to_np(o) * w).sum()) for o, w in zip(res, ws))

    total = sum((o * ember.tensor(w)).sum() for o, w in zip(outs, ws))
    grads = ember.autograd.grad(total, inputs, allow_unused=True)
    for k, (x, g) in enumerate(zip(inputs, grads)):
        base = to_np(x).copy()
        num = np.zeros_like(base)
        for idx in np.ndindex(base.shape):
            plus, minus = base.copy(), base.copy()
            plus[idx] += eps
            minus[idx] -= eps
            args_p = [ember.tensor(plus) if j == k else inputs[j].detach() for j in range(len(inputs))]
            args_m = [ember.tensor(minus) if j == k else inputs[j].detach() for j in range(len(inputs))]
            num[idx] = (scalar(*args_p) - scalar(*args_m)) / (2 * eps)
        got = np.zeros_like(base) if g is None else to_np(g)
        np.testing.assert_allclose(got, num, atol=atol, rtol=rtol, err_msg=f"input {k}")


def gradgradcheck(fn, *arrays, eps=1e-6, atol=1e-4, rtol=1e-3) -> None:
    """Finite-difference check of second derivatives: differentiates the first gradient."""

    def first_grad(*xs):
        xs = [x if x.requires_grad else x.detach().requires_grad_(True) for x in xs]
        out = fn(*xs)
        outs = [o for o in _flatten(out) if isinstance(o, ember.Tensor)]
        rng = np.random.default_rng(2)
        total = sum((o * ember.tensor(rng.standard_normal(tuple(o.shape)))).sum() for o in outs)
        gs = ember.autograd.grad(total, xs, create_graph=True, allow_unused=True)
        return tuple(g for g in gs if g is not None)

    gradcheck(first_grad, *arrays, eps=eps, atol=atol, rtol=rtol)


def raised_by_both(call) -> list:
    """The exceptions call(lib) raises with ember and with torch (each must raise)."""
    errors = []
    for lib in (ember, torch):
        try:
            call(lib)
        except Exception as e:  # noqa: BLE001 - any exception is what is compared
            errors.append(e)
        else:
            raise AssertionError(f"{lib.__name__} raised nothing")
    return errors


def assert_same_error(call) -> None:
    """call(lib) raises the same exception type with the same message in ember and in torch."""
    mine, theirs = raised_by_both(call)
    assert type(mine) is type(theirs), (mine, theirs)
    assert str(mine) == str(theirs)


def linear_op_gradcheck(fn, x) -> None:
    """For an op linear in its input (pooling, padding, resampling): the finite-difference check of its
    gradient, and of its backward's gradient with respect to the incoming gradient (what create_graph=True
    differentiates; the second derivative in the input is zero)."""
    gradcheck(fn, x)
    xt = ember.tensor(np.asarray(x, dtype=np.float64), requires_grad=True)
    out_shape = tuple(fn(xt).shape)

    def backward_of(g):
        (gx,) = ember.autograd.grad(fn(xt), xt, grad_outputs=g, create_graph=True)
        return gx

    gradcheck(backward_of, np.random.default_rng(3).standard_normal(out_shape))


def outcome_of(fn):
    """What a call gives: its values as a list, or its error's type and message (to compare ember with torch)."""
    try:
        return to_np(fn()).tolist()
    except Exception as e:  # noqa: BLE001 - the error itself is what is compared
        return f"{type(e).__name__}: {e}"
