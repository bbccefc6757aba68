"""RMSprop: divide the gradient by a running root-mean-square of recent gradients."""

from __future__ import annotations

import numpy as np

from . import _kernels as K
from .optimizer import Optimizer, _scalar, check_lr, check_non_negative

__all__ = ["RMSprop"]


class RMSprop(Optimizer):
    """RMSprop (optionally centered, with momentum), as torch.optim.RMSprop."""

    def __init__(
        self,
        params,
        lr: float = 1e-2,
        alpha: float = 0.99,
        eps: float = 1e-8,
        weight_decay: float = 0,
        momentum: float = 0,
        centered: bool = False,
        capturable: bool = False,
        foreach: bool | None = None,
        maximize: bool = False,
        differentiable: bool = False,
    ) -> None:
        check_lr(lr)
        check_non_negative("epsilon value", eps)
        check_non_negative("momentum value", momentum)
        check_non_negative("weight_decay value", weight_decay)
        check_non_negative("alpha value", alpha)
        defaults = {
            "lr": lr,
            "momentum": momentum,
            "alpha": alpha,
            "eps": eps,
            "centered": centered,
            "weight_decay": weight_decay,
            "capturable": capturable,
            "foreach": foreach,
            "maximize": maximize,
            "differentiable": differentiable,
        }
        super().__init__(params, defaults)

    def step(self, closure=None):
        """Update every parameter that has a gradient; returns the closure's loss if given."""
        loss = self._closure_loss(closure)
        for group in self.param_groups:
            lr = _scalar(group["lr"])
            alpha = group["alpha"]
            eps = group["eps"]
            momentum = group["momentum"]
            centered = group["centered"]
            for p in group["params"]:
                if p._grad is None:
                    continue
                state = self.state[p]
                if len(state) == 0:
                    state["step"] = K.step_tensor()
                    state["square_avg"] = K.zeros_like(p)
                    if momentum > 0:
                        state["momentum_buffer"] = K.zeros_like(p)
                    if centered:
                        state["grad_avg"] = K.zeros_like(p)
                a = p._data
                K.bump_step(state["step"])
                g = K.effective_grad(self, p, group["maximize"], group["weight_decay"])
                tmp = self._buffer(p, 1)
                avg = self._buffer(p, 2)
                sq = state["square_avg"]._data
                K.scale(sq, alpha)
                K.addcmul(sq, g, g, 1 - alpha, tmp)
                if centered:
                    ga = state["grad_avg"]._data
                    K.lerp(ga, g, 1 - alpha, tmp)
                    np.multiply(ga, a.dtype.type(-1), out=tmp)
                    np.multiply(tmp, ga, out=tmp)
                    np.add(sq, tmp, out=avg)
                    np.sqrt(avg, out=avg)
                else:
                    np.sqrt(sq, out=avg)
                np.add(avg, a.dtype.type(eps), out=avg)
                if momentum > 0:
                    buf = state["momentum_buffer"]._data
                    K.scale(buf, momentum)
                    K.addcdiv(buf, g, avg, 1, tmp)
                    K.add_scaled(a, buf, -lr)
                else:
                    K.addcdiv(a, g, avg, -lr, tmp)
                p._version.value += 1
        return loss
