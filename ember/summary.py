"""A model summary table in torchsummary's format (served to scripts as the `torchsummary` module)."""

from __future__ import annotations

import math
from collections import OrderedDict

import numpy as np

_RULE = "-" * 64
_DOUBLE_RULE = "=" * 64


def _row(name: str, shape: str, params: str) -> str:
    return f"{name:>20}  {shape:>25} {params:>15}"


def _shape_with_batch(t, batch_size: int) -> list:
    shape = list(t.size())
    if shape:
        shape[0] = batch_size
    return shape


def _output_shape(output, batch_size: int):
    if isinstance(output, (list, tuple)):
        return [[-1] + list(o.size())[1:] for o in output]
    return _shape_with_batch(output, batch_size)


def _collect(model, input_size, batch_size: int, dtypes) -> OrderedDict:
    """Run one forward pass with hooks on every leaf-ish module and record shapes and parameter counts."""
    import ember
    from ember import nn

    if isinstance(input_size, tuple) or (input_size and isinstance(input_size[0], int)):
        input_size = [tuple(input_size)]
    if dtypes is None:
        dtypes = [ember.float32] * len(input_size)
    layers: OrderedDict = OrderedDict()
    handles = []

    def hook(module, inputs, output):
        key = f"{type(module).__name__}-{len(layers) + 1}"
        info = OrderedDict()
        info["input_shape"] = _shape_with_batch(inputs[0], batch_size) if inputs else []
        info["output_shape"] = _output_shape(output, batch_size)
        count = 0
        weight = getattr(module, "weight", None)
        if weight is not None and hasattr(weight, "size"):
            count += math.prod(weight.size())
            info["trainable"] = bool(weight.requires_grad)
        bias = getattr(module, "bias", None)
        if bias is not None and hasattr(bias, "size"):
            count += math.prod(bias.size())
        info["nb_params"] = count
        layers[key] = info

    for module in model.modules():
        if module is model or isinstance(module, (nn.Sequential, nn.ModuleList)):
            continue
        handles.append(module.register_forward_hook(hook))
    # A batch of two, as torchsummary uses, so BatchNorm layers can run in training mode.
    inputs = [ember.rand(2, *size).to(d) for size, d in zip(input_size, dtypes)]
    try:
        model(*inputs)
    finally:
        for h in handles:
            h.remove()
    layers["__input_size__"] = input_size
    return layers


def summary_string(model, input_size, batch_size: int = -1, device="cpu", dtypes=None):
    """The summary table as a string, and (total params, trainable params)."""
    from ._device import check_device

    if str(device).lower() not in ("cuda", "cpu"):
        check_device(device)
    layers = _collect(model, input_size, batch_size, dtypes)
    input_size = layers.pop("__input_size__")
    lines = [_RULE, _row("Layer (type)", "Output Shape", "Param #"), _DOUBLE_RULE]
    total_params = trainable = 0
    total_output = 0
    for name, info in layers.items():
        lines.append(_row(name, str(info["output_shape"]), f"{info['nb_params']:,}"))
        total_params += info["nb_params"]
        total_output += np.prod(np.asarray(info["output_shape"]).ravel())
        if info.get("trainable"):
            trainable += info["nb_params"]
    mb = 1024.0**2
    input_mb = abs(np.prod([d for size in input_size for d in size]) * batch_size * 4.0 / mb)
    output_mb = abs(2.0 * total_output * 4.0 / mb)  # activations and their gradients
    params_mb = abs(total_params * 4.0 / mb)
    lines += [
        _DOUBLE_RULE,
        f"Total params: {total_params:,}",
        f"Trainable params: {trainable:,}",
        f"Non-trainable params: {total_params - trainable:,}",
        _RULE,
        "Input size (MB): %0.2f" % input_mb,
        "Forward/backward pass size (MB): %0.2f" % output_mb,
        "Params size (MB): %0.2f" % params_mb,
        "Estimated Total Size (MB): %0.2f" % (input_mb + output_mb + params_mb),
        _RULE,
    ]
    return "\n".join(lines) + "\n", (total_params, trainable)


def summary(model, input_size, batch_size: int = -1, device="cuda", dtypes=None) -> None:
    """Print torchsummary's table: each layer's output shape and parameter count, totals and sizes."""
    text, _ = summary_string(model, input_size, batch_size, "cpu" if str(device) == "cuda" else device, dtypes)
    print(text, end="")
