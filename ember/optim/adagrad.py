"""Adagrad: per-coordinate learning rates scaled by the accumulated squared gradients."""

from __future__ import annotations

import numpy as np

from .._tensor import Tensor
from . import _kernels as K
from .optimizer import Optimizer, _scalar, check_lr, check_non_negative

__all__ = ["Adagrad"]


class Adagrad(Optimizer):
    """Adagrad, as torch.optim.Adagrad (state is created for every parameter at construction)."""

    def __init__(
        self,
        params,
        lr: float = 1e-2,
        lr_decay: float = 0,
        weight_decay: float = 0,
        initial_accumulator_value: float = 0,
        eps: float = 1e-10,
        foreach: bool | None = None,
        *,
        maximize: bool = False,
        differentiable: bool = False,
        fused: bool | None = None,
    ) -> None:
        check_lr(lr)
        check_non_negative("lr_decay value", lr_decay)
        check_non_negative("weight_decay value", weight_decay)
        check_non_negative("initial_accumulator_value value", initial_accumulator_value)
        check_non_negative("epsilon value", eps)
        defaults = {
            "lr": lr,
            "lr_decay": lr_decay,
            "eps": eps,
            "weight_decay": weight_decay,
            "initial_accumulator_value": initial_accumulator_value,
            "foreach": foreach,
            "maximize": maximize,
            "differentiable": differentiable,
            "fused": fused,
        }
        super().__init__(params, defaults)
        for group in self.param_groups:
            for p in group["params"]:
                self._init_state(p)

    def _init_state(self, p: Tensor) -> dict:
        state = self.state[p]
        state["step"] = K.step_tensor()
        state["sum"] = Tensor._wrap(np.full_like(p._data, self.defaults["initial_accumulator_value"]))
        return state

    def step(self, closure=None):
        """Update every parameter that has a gradient; returns the closure's loss if given."""
        loss = self._closure_loss(closure)
        for group in self.param_groups:
            lr = _scalar(group["lr"])
            lr_decay = group["lr_decay"]
            eps = group["eps"]
            for p in group["params"]:
                if p._grad is None:
                    continue
                state = self.state[p]
                if len(state) == 0:
                    state = self._init_state(p)
                a = p._data
                step = K.bump_step(state["step"])
                g = K.effective_grad(self, p, group["maximize"], group["weight_decay"])
                clr = lr / (1 + (step - 1) * lr_decay)
                tmp = self._buffer(p, 1)
                std = self._buffer(p, 2)
                s = state["sum"]._data
                K.addcmul(s, g, g, 1, tmp)
                np.sqrt(s, out=std)
                np.add(std, a.dtype.type(eps), out=std)
                K.addcdiv(a, g, std, -clr, tmp)
                p._version.value += 1
        return loss
