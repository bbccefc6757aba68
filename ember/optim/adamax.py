"""Adamax: Adam with the infinity norm of past gradients in place of the second moment."""

from __future__ import annotations

import numpy as np

from . import _kernels as K
from .optimizer import Optimizer, _scalar, check_betas, check_lr, check_non_negative

__all__ = ["Adamax"]


class Adamax(Optimizer):
    """Adamax, as torch.optim.Adamax."""

    def __init__(
        self,
        params,
        lr: float = 2e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0,
        foreach: bool | None = None,
        *,
        maximize: bool = False,
        differentiable: bool = False,
        capturable: bool = False,
    ) -> None:
        check_lr(lr)
        check_non_negative("epsilon value", eps)
        check_betas(betas)
        check_non_negative("weight_decay value", weight_decay)
        defaults = {
            "lr": lr,
            "betas": betas,
            "eps": eps,
            "weight_decay": weight_decay,
            "foreach": foreach,
            "maximize": maximize,
            "differentiable": differentiable,
            "capturable": capturable,
        }
        super().__init__(params, defaults)

    def step(self, closure=None):
        """Update every parameter that has a gradient; returns the closure's loss if given."""
        loss = self._closure_loss(closure)
        for group in self.param_groups:
            lr = _scalar(group["lr"])
            beta1, beta2 = group["betas"]
            eps = group["eps"]
            for p in group["params"]:
                if p._grad is None:
                    continue
                state = self.state[p]
                if len(state) == 0:
                    state["step"] = K.step_tensor()
                    state["exp_avg"] = K.zeros_like(p)
                    state["exp_inf"] = K.zeros_like(p)
                a = p._data
                step = K.bump_step(state["step"])
                g = K.effective_grad(self, p, group["maximize"], group["weight_decay"])
                tmp = self._buffer(p, 1)
                m = state["exp_avg"]._data
                u = state["exp_inf"]._data
                K.lerp(m, g, 1 - beta1, tmp)
                K.scale(u, beta2)
                np.abs(g, out=tmp)
                np.add(tmp, a.dtype.type(eps), out=tmp)
                np.maximum(u, tmp, out=u)
                clr = lr / (1 - beta1**step)
                K.addcdiv(a, m, u, -clr, tmp)
                p._version.value += 1
        return loss
