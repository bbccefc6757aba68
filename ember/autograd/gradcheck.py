"""torch.autograd.gradcheck and gradgradcheck: a function's gradients against finite differences.

For every input that requires grad and every output, the Jacobian is built twice: numerically, by central
differences (f(x + eps) - f(x - eps)) / (2 eps) one input element at a time, and analytically, one row per
output element through autograd.grad. They must agree within atol + rtol * |numerical|."""

from __future__ import annotations

import warnings

import numpy as np

from .._tensor import Tensor


class GradcheckError(RuntimeError):
    """The analytical and numerical Jacobians disagree (or a gradient is missing)."""


def _as_tuple(x) -> tuple:
    return tuple(x) if isinstance(x, (tuple, list)) else (x,)


def _differentiable(inputs: tuple) -> list[int]:
    return [i for i, t in enumerate(inputs) if isinstance(t, Tensor) and t.requires_grad]


def _outputs(func, inputs: tuple) -> list[Tensor]:
    return [o for o in _as_tuple(func(*inputs)) if isinstance(o, Tensor) and o.is_floating_point()]


def _numerical(func, inputs: tuple, i: int, out_index: int, eps: float) -> np.ndarray:
    """d outputs[out_index] / d inputs[i] as (numel out, numel in), by central differences, each element of
    the input's own array perturbed in place (any layout)."""
    data = inputs[i]._data
    columns = []
    # with gradients on: func may itself differentiate (gradgradcheck's first derivatives do)
    for index in np.ndindex(data.shape):
        keep = data[index]
        data[index] = keep + eps
        plus = _outputs(func, inputs)[out_index]._data.astype(np.float64).reshape(-1)
        data[index] = keep - eps
        minus = _outputs(func, inputs)[out_index]._data.astype(np.float64).reshape(-1)
        data[index] = keep
        columns.append((plus - minus) / (2 * eps))
    if not columns:
        return np.zeros((_outputs(func, inputs)[out_index].numel(), 0))
    return np.stack(columns, axis=1)


def _analytical(func, inputs: tuple, wanted: list[int], out_index: int) -> list[np.ndarray]:
    """d outputs[out_index] / d inputs[i] for each wanted i, one output element at a time through autograd."""
    from .. import zeros_like
    from . import grad

    out = _outputs(func, inputs)[out_index]
    rows: list[list[np.ndarray]] = [[] for _ in wanted]
    for k in range(out.numel()):
        seed = zeros_like(out)
        seed.view(-1)[k] = 1.0
        grads = grad(out, [inputs[i] for i in wanted], seed, retain_graph=True, allow_unused=True)
        for r, (i, g) in enumerate(zip(wanted, grads)):
            size = inputs[i].numel()
            rows[r].append(np.zeros(size) if g is None else g._data.astype(np.float64).reshape(-1))
    return [np.stack(r) if r else np.zeros((0, inputs[i].numel())) for r, i in zip(rows, wanted)]


def _show(a: np.ndarray) -> str:
    from .. import tensor

    return repr(tensor(a))


def gradcheck(
    func,
    inputs,
    *,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    raise_exception: bool = True,
    nondet_tol: float = 0.0,
    check_undefined_grad: bool = True,
    check_grad_dtypes: bool = False,
    check_batched_grad: bool = False,
    check_batched_forward_grad: bool = False,
    check_forward_ad: bool = False,
    check_backward_ad: bool = True,
    fast_mode: bool = False,
    masked=None,
) -> bool:
    """True when func's gradients match finite differences for every differentiable input; else raises
    GradcheckError (or returns False with raise_exception=False). fast_mode checks the full Jacobian too."""
    for flag, name in ((check_batched_grad, "check_batched_grad"), (check_batched_forward_grad, "check_batched_forward_grad"),
                       (check_forward_ad, "check_forward_ad")):  # fmt: skip
        if flag:
            raise NotImplementedError(f"ember does not implement torch.autograd.gradcheck({name}=True)")
    inputs = _as_tuple(inputs)
    wanted = _differentiable(inputs)
    if not wanted:
        raise ValueError(
            "gradcheck expects at least one input tensor to require gradient, but none of the them have requires_grad=True."
        )
    for i in wanted:
        if inputs[i].dtype.is_floating_point and inputs[i]._data.dtype != np.float64:
            warnings.warn(
                f"Input #{i} requires gradient and is not a double precision floating point or complex. This check "
                "will likely fail if all the inputs are not of double precision floating point or complex. ",
                UserWarning,
                stacklevel=2,
            )
    try:
        if check_backward_ad:
            for o in range(len(_outputs(func, inputs))):
                analytical = _analytical(func, inputs, wanted, o)
                for i, a in zip(wanted, analytical):
                    n = _numerical(func, inputs, i, o, eps)
                    if n.shape != a.shape or not np.allclose(a, n, rtol=rtol, atol=atol):
                        raise GradcheckError(
                            f"Jacobian mismatch for output {o} with respect to input {i},\n"
                            f"numerical:{_show(n)}\nanalytical:{_show(a)}\n"
                        )
    except GradcheckError:
        if raise_exception:
            raise
        return False
    return True


def gradgradcheck(
    func,
    inputs,
    grad_outputs=None,
    *,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    gen_non_contig_grad_outputs: bool = False,
    raise_exception: bool = True,
    nondet_tol: float = 0.0,
    check_undefined_grad: bool = True,
    check_grad_dtypes: bool = False,
    check_batched_grad: bool = False,
    check_fwd_over_rev: bool = False,
    check_rev_over_rev: bool = True,
    fast_mode: bool = False,
    masked: bool = False,
) -> bool:
    """gradcheck of func's first derivatives: the gradients (taken with create_graph=True for random, or the
    given, grad_outputs) are themselves checked against finite differences, in the inputs and grad_outputs."""
    from .. import randn_like
    from . import grad

    if check_fwd_over_rev:
        raise NotImplementedError("ember does not implement torch.autograd.gradgradcheck(check_fwd_over_rev=True)")
    inputs = _as_tuple(inputs)
    wanted = _differentiable(inputs)
    outputs = _outputs(func, inputs)
    if grad_outputs is None:
        grad_outputs = tuple(randn_like(o, dtype=o.dtype).requires_grad_() for o in outputs)
    grad_outputs = _as_tuple(grad_outputs)
    n = len(inputs)

    def first_derivatives(*args):
        xs, gs = args[:n], args[n:]
        outs = _outputs(func, xs)
        found = grad(outs, [xs[i] for i in wanted], gs, create_graph=True, allow_unused=True)
        return tuple(g for g in found if g is not None)

    return gradcheck(
        first_derivatives, inputs + grad_outputs, eps=eps, atol=atol, rtol=rtol, raise_exception=raise_exception
    )
