"""Adam (and the shared Adam/AdamW update): adaptive moment estimation with optional AMSGrad."""

from __future__ import annotations

import numpy as np

from .._tensor import Tensor
from . import _kernels as K
from .optimizer import Optimizer, _scalar, check_betas, check_lr, check_non_negative

__all__ = ["Adam"]


class Adam(Optimizer):
    """Adam, as torch.optim.Adam (decoupled_weight_decay=True gives AdamW)."""

    def __init__(
        self,
        params,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0,
        amsgrad: bool = False,
        *,
        foreach: bool | None = None,
        maximize: bool = False,
        capturable: bool = False,
        differentiable: bool = False,
        fused: bool | None = None,
        decoupled_weight_decay: bool = False,
    ) -> None:
        check_lr(lr)
        check_non_negative("epsilon value", eps)
        check_betas(betas)
        check_non_negative("weight_decay value", weight_decay)
        if not (
            (isinstance(betas[0], float) and isinstance(betas[1], float))
            or (isinstance(betas[0], Tensor) and isinstance(betas[1], Tensor))
        ):
            raise ValueError("betas must be either both floats or both Tensors")
        betas = tuple(_scalar(b) for b in betas)
        defaults = {
            "lr": lr,
            "betas": betas,
            "eps": eps,
            "weight_decay": weight_decay,
            "amsgrad": amsgrad,
            "maximize": maximize,
            "foreach": foreach,
            "capturable": capturable,
            "differentiable": differentiable,
            "fused": fused,
            "decoupled_weight_decay": decoupled_weight_decay,
        }
        super().__init__(params, defaults)

    def _state_for(self, p: Tensor, amsgrad: bool) -> dict:
        state = self.state[p]
        if len(state) == 0:
            state["step"] = K.step_tensor()
            state["exp_avg"] = K.zeros_like(p)
            state["exp_avg_sq"] = K.zeros_like(p)
            if amsgrad:
                state["max_exp_avg_sq"] = K.zeros_like(p)
        return state

    def step(self, closure=None):
        """Update every parameter that has a gradient; returns the closure's loss if given."""
        loss = self._closure_loss(closure)
        for group in self.param_groups:
            lr = _scalar(group["lr"])
            beta1, beta2 = (_scalar(b) for b in group["betas"])
            eps = group["eps"]
            wd = group["weight_decay"]
            amsgrad = group["amsgrad"]
            maximize = group["maximize"]
            decoupled = group.get("decoupled_weight_decay", False)
            for p in group["params"]:
                if p._grad is None:
                    continue
                state = self._state_for(p, amsgrad)
                a = p._data
                step = K.bump_step(state["step"])
                if wd != 0 and decoupled:
                    K.scale(a, 1 - lr * wd)
                    g = K.effective_grad(self, p, maximize, 0)
                else:
                    g = K.effective_grad(self, p, maximize, wd)
                m = state["exp_avg"]._data
                v = state["exp_avg_sq"]._data
                tmp = self._buffer(p, 1)
                denom = self._buffer(p, 2)
                K.lerp(m, g, 1 - beta1, tmp)
                K.scale(v, beta2)
                K.addcmul(v, g, g, 1 - beta2, tmp)
                bias_correction1 = 1 - beta1**step
                bias_correction2 = 1 - beta2**step
                step_size = lr / bias_correction1
                bias_correction2_sqrt = bias_correction2**0.5
                src = v
                if amsgrad:
                    vmax = state["max_exp_avg_sq"]._data
                    np.maximum(vmax, v, out=vmax)
                    src = vmax
                np.sqrt(src, out=denom)
                np.divide(denom, a.dtype.type(bias_correction2_sqrt), out=denom)
                np.add(denom, a.dtype.type(eps), out=denom)
                K.addcdiv(a, m, denom, -step_size, tmp)
                p._version.value += 1
        return loss
