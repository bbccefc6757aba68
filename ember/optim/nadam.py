"""NAdam: Adam with Nesterov momentum and the momentum-decay schedule of Dozat (2016)."""

from __future__ import annotations

import numpy as np

from . import _kernels as K
from .optimizer import Optimizer, _scalar, check_betas, check_lr, check_non_negative

__all__ = ["NAdam"]


class NAdam(Optimizer):
    """NAdam, as torch.optim.NAdam."""

    def __init__(
        self,
        params,
        lr: float = 2e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0,
        momentum_decay: float = 4e-3,
        decoupled_weight_decay: bool = False,
        *,
        foreach: bool | None = None,
        maximize: bool = False,
        capturable: bool = False,
        differentiable: bool = False,
    ) -> None:
        check_lr(lr)
        check_non_negative("epsilon value", eps)
        check_betas(betas)
        check_non_negative("weight_decay value", weight_decay)
        check_non_negative("momentum_decay value", momentum_decay)
        defaults = {
            "lr": lr,
            "betas": betas,
            "eps": eps,
            "weight_decay": weight_decay,
            "momentum_decay": momentum_decay,
            "decoupled_weight_decay": decoupled_weight_decay,
            "maximize": maximize,
            "foreach": foreach,
            "capturable": capturable,
            "differentiable": differentiable,
        }
        super().__init__(params, defaults)

    def step(self, closure=None):
        """Update every parameter that has a gradient; returns the closure's loss if given."""
        loss = self._closure_loss(closure)
        for group in self.param_groups:
            lr = _scalar(group["lr"])
            beta1, beta2 = group["betas"]
            eps = group["eps"]
            wd = group["weight_decay"]
            momentum_decay = group["momentum_decay"]
            for p in group["params"]:
                if p._grad is None:
                    continue
                state = self.state[p]
                if len(state) == 0:
                    state["step"] = K.step_tensor()
                    state["mu_product"] = K.step_tensor(1.0)
                    state["exp_avg"] = K.zeros_like(p)
                    state["exp_avg_sq"] = K.zeros_like(p)
                a = p._data
                step = K.bump_step(state["step"])
                bias_correction2 = 1 - beta2**step
                if wd != 0 and group["decoupled_weight_decay"]:
                    K.scale(a, 1 - lr * wd)
                    g = K.effective_grad(self, p, group["maximize"], 0)
                else:
                    g = K.effective_grad(self, p, group["maximize"], wd)
                mu = beta1 * (1.0 - 0.5 * (0.96 ** (step * momentum_decay)))
                mu_next = beta1 * (1.0 - 0.5 * (0.96 ** ((step + 1) * momentum_decay)))
                mp = state["mu_product"]._data
                np.multiply(mp, mp.dtype.type(mu), out=mp)
                mu_product = float(mp)
                tmp = self._buffer(p, 1)
                denom = self._buffer(p, 2)
                m = state["exp_avg"]._data
                v = state["exp_avg_sq"]._data
                K.lerp(m, g, 1 - beta1, tmp)
                K.scale(v, beta2)
                K.addcmul(v, g, g, 1 - beta2, tmp)
                np.divide(v, a.dtype.type(bias_correction2), out=denom)
                np.sqrt(denom, out=denom)
                mu_product_next = mu_product * mu_next
                np.add(denom, a.dtype.type(eps), out=denom)
                K.addcdiv(a, g, denom, -lr * (1.0 - mu) / (1.0 - mu_product), tmp)
                K.addcdiv(a, m, denom, (-lr * mu_next) / (1.0 - mu_product_next), tmp)
                p._version.value += 1
        return loss
