"""Linear layers: Identity, Linear, Bilinear."""

from __future__ import annotations

import math

from ... import _creation
from ..._tensor import Tensor
from .. import functional as F
from .. import init
from ..parameter import Parameter
from .module import Module

__all__ = ["Identity", "Linear", "Bilinear"]


class Identity(Module):
    """Returns its input unchanged; accepts and ignores any constructor arguments."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__()

    def forward(self, input: Tensor) -> Tensor:
        """input itself."""
        return input


def _factory_dtype(dtype):
    from ... import _dtype as dt

    return dt.to_dtype(dtype) if dtype is not None else dt.get_default_dtype()


def reset_affine(weight, bias) -> None:
    """torch's default start for a layer computing W x + b: kaiming_uniform_(a=sqrt(5)) for the weight and
    U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for the bias, fan_in being each output's number of inputs."""
    init.kaiming_uniform_(weight, a=math.sqrt(5))
    if bias is not None:
        fan_in = math.prod(weight.shape[1:])
        bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
        init.uniform_(bias, -bound, bound)


class Linear(Module):
    """y = x W^T + b, with weight (out_features, in_features)."""

    def __init__(self, in_features: int, out_features: int, bias: bool = True, device=None, dtype=None) -> None:
        super().__init__()
        self.in_features = in_features
        self.out_features = out_features
        d = _factory_dtype(dtype)
        self.weight = Parameter(_creation.empty(out_features, in_features, dtype=d, device=device))
        if bias:
            self.bias = Parameter(_creation.empty(out_features, dtype=d, device=device))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """torch's default: kaiming_uniform_(a=sqrt(5)) weights, U(-1/sqrt(fan_in), 1/sqrt(fan_in)) bias."""
        reset_affine(self.weight, self.bias)

    def forward(self, input: Tensor) -> Tensor:
        """Apply the affine map to the last dimension of input."""
        shape = input._data.shape if isinstance(input, Tensor) else input.shape
        if not shape or shape[-1] != self.in_features:
            self._raise_bad_input(input)
        params = self._parameters
        # Straight from the registry when they are there: attribute access would go through __getattr__.
        weight = params["weight"] if "weight" in params else self.weight
        bias = params["bias"] if "bias" in params else self.bias
        return F.linear(input, weight, bias)

    def _raise_bad_input(self, input: Tensor) -> None:
        shape = list(input.shape)
        if input.ndim == 0:
            raise RuntimeError(f"{self!r}: both arguments to linear need to be at least 1D, but got a 0-D input")
        rows = 1 if input.ndim == 1 else math.prod(shape[:-1]) if input.ndim > 2 else shape[0]
        text = (
            f"mat1 and mat2 shapes cannot be multiplied ({rows}x{shape[-1]} and "
            f"{self.in_features}x{self.out_features})\n"
            f"{self!r} expects inputs whose last dimension has {self.in_features} features, "
            f"but got an input of shape {shape} (last dimension {shape[-1]})."
        )
        if input.ndim > 2 and math.prod(shape[1:]) == self.in_features:
            text += (
                f" The input looks like an unflattened batch: flatten it first with x.view(x.size(0), -1) "
                f"(or put nn.Flatten() before this layer) to get shape [{shape[0]}, {self.in_features}]."
            )
        else:
            text += (
                " Check the layer's in_features, or flatten image batches with x.view(x.size(0), -1) / nn.Flatten()."
            )
        raise RuntimeError(text)

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"


class Bilinear(Module):
    """y = x1^T A x2 + b, with weight (out_features, in1_features, in2_features)."""

    def __init__(
        self, in1_features: int, in2_features: int, out_features: int, bias: bool = True, device=None, dtype=None
    ) -> None:
        super().__init__()
        self.in1_features, self.in2_features, self.out_features = in1_features, in2_features, out_features
        d = _factory_dtype(dtype)
        self.weight = Parameter(_creation.empty(out_features, in1_features, in2_features, dtype=d))
        if bias:
            self.bias = Parameter(_creation.empty(out_features, dtype=d))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """U(-1/sqrt(in1_features), 1/sqrt(in1_features)) for weight and bias."""
        bound = 1 / math.sqrt(self.weight.shape[1])
        init.uniform_(self.weight, -bound, bound)
        if self.bias is not None:
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input1: Tensor, input2: Tensor) -> Tensor:
        """The bilinear form of the two inputs."""
        return F.bilinear(input1, input2, self.weight, self.bias)

    def extra_repr(self) -> str:
        return (
            f"in1_features={self.in1_features}, in2_features={self.in2_features}, "
            f"out_features={self.out_features}, bias={self.bias is not None}"
        )
