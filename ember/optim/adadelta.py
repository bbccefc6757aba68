"""Adadelta: step sizes from running averages of squared gradients and squared updates."""

from __future__ import annotations

import numpy as np

from . import _kernels as K
from .optimizer import Optimizer, _scalar, check_lr, check_non_negative

__all__ = ["Adadelta"]


class Adadelta(Optimizer):
    """Adadelta, as torch.optim.Adadelta."""

    def __init__(
        self,
        params,
        lr: float = 1.0,
        rho: float = 0.9,
        eps: float = 1e-6,
        weight_decay: float = 0,
        foreach: bool | None = None,
        *,
        capturable: bool = False,
        maximize: bool = False,
        differentiable: bool = False,
    ) -> None:
        check_lr(lr)
        if not 0.0 <= rho <= 1.0:
            raise ValueError(f"Invalid rho value: {rho}")
        check_non_negative("epsilon value", eps)
        check_non_negative("weight_decay value", weight_decay)
        defaults = {
            "lr": lr,
            "rho": rho,
            "eps": eps,
            "weight_decay": weight_decay,
            "maximize": maximize,
            "capturable": capturable,
            "foreach": foreach,
            "differentiable": differentiable,
        }
        super().__init__(params, defaults)

    def step(self, closure=None):
        """Update every parameter that has a gradient; returns the closure's loss if given."""
        loss = self._closure_loss(closure)
        for group in self.param_groups:
            lr = _scalar(group["lr"])
            rho = group["rho"]
            eps = group["eps"]
            for p in group["params"]:
                if p._grad is None:
                    continue
                state = self.state[p]
                if len(state) == 0:
                    state["step"] = K.step_tensor()
                    state["square_avg"] = K.zeros_like(p)
                    state["acc_delta"] = K.zeros_like(p)
                a = p._data
                e = a.dtype.type(eps)
                K.bump_step(state["step"])
                g = K.effective_grad(self, p, group["maximize"], group["weight_decay"])
                tmp = self._buffer(p, 1)
                std = self._buffer(p, 2)
                delta = self._buffer(p, 3)
                sq = state["square_avg"]._data
                acc = state["acc_delta"]._data
                K.scale(sq, rho)
                K.addcmul(sq, g, g, 1 - rho, tmp)
                np.add(sq, e, out=std)
                np.sqrt(std, out=std)
                np.add(acc, e, out=delta)
                np.sqrt(delta, out=delta)
                np.divide(delta, std, out=delta)
                np.multiply(delta, g, out=delta)
                K.scale(acc, rho)
                K.addcmul(acc, delta, delta, 1 - rho, tmp)
                K.add_scaled(a, delta, -lr)
                p._version.value += 1
        return loss
