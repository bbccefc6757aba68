"""torch.optim.swa_utils (stochastic weight averaging): not implemented by ember; each name raises when used."""

from __future__ import annotations

from ._unsupported import unsupported_class, unsupported_function

_ADVICE = "average the weights by hand (e.g. keep a copy and lerp_ it towards the model after each step)"

AveragedModel = unsupported_class("torch.optim.swa_utils.AveragedModel", _ADVICE)
SWALR = unsupported_class("torch.optim.swa_utils.SWALR", _ADVICE)
update_bn = unsupported_function("torch.optim.swa_utils.update_bn", _ADVICE)
get_ema_multi_avg_fn = unsupported_function("torch.optim.swa_utils.get_ema_multi_avg_fn", _ADVICE)
get_swa_multi_avg_fn = unsupported_function("torch.optim.swa_utils.get_swa_multi_avg_fn", _ADVICE)
get_ema_avg_fn = unsupported_function("torch.optim.swa_utils.get_ema_avg_fn", _ADVICE)
get_swa_avg_fn = unsupported_function("torch.optim.swa_utils.get_swa_avg_fn", _ADVICE)

__all__ = [
    "SWALR",
    "AveragedModel",
    "get_ema_avg_fn",
    "get_ema_multi_avg_fn",
    "get_swa_avg_fn",
    "get_swa_multi_avg_fn",
    "update_bn",
]
