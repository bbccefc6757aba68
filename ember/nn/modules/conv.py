"""Convolution layers: Conv1d and Conv2d (torch.nn's constructor arguments, initialisation and repr)."""

from __future__ import annotations

from ... import _creation
from ..._tensor import Tensor
from ...ops.conv import pair
from .. import functional as F
from ..parameter import Parameter
from .linear import _factory_dtype, reset_affine
from .module import Module

__all__ = ["Conv1d", "Conv2d", "ConvTranspose1d", "ConvTranspose2d"]

_PADDING_MODES = ("zeros", "reflect", "replicate", "circular")


class _ConvNd(Module):
    """What Conv1d and Conv2d share: argument checks, parameters, torch's default initialisation, repr."""

    _spatial = 2
    _transposed = False

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size,
        stride=1,
        padding=0,
        dilation=1,
        groups: int = 1,
        bias: bool = True,
        padding_mode: str = "zeros",
        device=None,
        dtype=None,
    ) -> None:
        super().__init__()
        n = self._spatial
        if groups <= 0:
            raise ValueError("groups must be a positive integer")
        if in_channels % groups != 0:
            raise ValueError("in_channels must be divisible by groups")
        if out_channels % groups != 0:
            raise ValueError("out_channels must be divisible by groups")
        if padding_mode not in _PADDING_MODES:
            raise ValueError(
                f"padding_mode must be one of {list(_PADDING_MODES)}, but got padding_mode='{padding_mode}'"
            )
        self.kernel_size = pair(kernel_size, "kernel_size", n)
        self.stride = pair(stride, "stride", n)
        self.dilation = pair(dilation, "dilation", n)
        if isinstance(padding, str):
            if padding not in ("same", "valid"):
                raise ValueError(f"Invalid padding string '{padding}', should be one of {{'valid', 'same'}}")
            if padding == "same" and any(s != 1 for s in self.stride):
                raise ValueError("padding='same' is not supported for strided convolutions")
            self.padding = padding
        else:
            self.padding = pair(padding, "padding", n)
        self.in_channels, self.out_channels, self.groups = in_channels, out_channels, groups
        if isinstance(self.padding, str):
            # 'same' with another mode: torch pads explicitly, the larger half after
            amounts = []
            for d in reversed(range(n)):
                total = self.dilation[d] * (self.kernel_size[d] - 1) if self.padding == "same" else 0
                amounts += [total // 2, total - total // 2]
            self._reversed_padding_repeated_twice = tuple(amounts)
        else:
            self._reversed_padding_repeated_twice = tuple(p for p in reversed(self.padding) for _ in range(2))
        self.output_padding = (0,) * n
        self.transposed = self._transposed
        self.padding_mode = padding_mode
        d = _factory_dtype(dtype)
        if self.transposed:
            shape = (in_channels, out_channels // groups, *self.kernel_size)
        else:
            shape = (out_channels, in_channels // groups, *self.kernel_size)
        self.weight = Parameter(_creation.empty(*shape, dtype=d, device=device))
        if bias:
            self.bias = Parameter(_creation.empty(out_channels, dtype=d, device=device))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """torch's default: kaiming_uniform_(a=sqrt(5)) weights, U(-1/sqrt(fan_in), 1/sqrt(fan_in)) bias."""
        reset_affine(self.weight, self.bias)

    def extra_repr(self) -> str:
        n = self._spatial
        text = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
        if self.padding != (0,) * n:
            text += f", padding={self.padding}"
        if self.output_padding != (0,) * n:
            text += f", output_padding={self.output_padding}"
        if self.dilation != (1,) * n:
            text += f", dilation={self.dilation}"
        if self.groups != 1:
            text += f", groups={self.groups}"
        if self.bias is None:
            text += ", bias=False"
        if self.padding_mode != "zeros":
            text += f", padding_mode={self.padding_mode}"
        return text

    def _check_input(self, input: Tensor) -> None:
        """A wrong channel count names this layer, what it expects and what it got."""
        shape = tuple(input.shape)
        n = self._spatial
        if len(shape) not in (n + 1, n + 2):
            raise RuntimeError(
                f"{self!r}: expected a {n + 2}-D input (N, C, {'L' if n == 1 else 'H, W'}) or an unbatched "
                f"{n + 1}-D one, but got an input of shape {list(shape)}"
            )
        channels = shape[-n - 1]
        if channels != self.in_channels:
            raise RuntimeError(
                f"Given groups={self.groups}, weight of size {list(self.weight.shape)}, expected input{list(shape)} "
                f"to have {self.in_channels} channels, but got {channels} channels instead\n"
                f"{self!r} expects {self.in_channels} input channels (dim {len(shape) - n - 1}), but the input of "
                f"shape {list(shape)} has {channels}."
            )

    def forward(self, input: Tensor) -> Tensor:
        """Convolve input with the layer's weight and add its bias."""
        self._check_input(input)
        input, padding = self._padded(input)
        convolve = F.conv1d if self._spatial == 1 else F.conv2d
        return convolve(input, self.weight, self.bias, self.stride, padding, self.dilation, self.groups)

    def _padded(self, input: Tensor) -> tuple:
        """input and the padding left for the convolution: a padding_mode other than zeros pads first."""
        if self.padding_mode == "zeros":
            return input, self.padding
        return F.pad(input, self._reversed_padding_repeated_twice, mode=self.padding_mode), 0


class Conv1d(_ConvNd):
    """1-D convolution over (N, C, L) input: weight (out_channels, in_channels/groups, kernel_size)."""

    _spatial = 1


class Conv2d(_ConvNd):
    """2-D convolution over (N, C, H, W) input: weight (out_channels, in_channels/groups, kh, kw)."""

    _spatial = 2


class _ConvTransposeNd(_ConvNd):
    """What ConvTranspose1d and ConvTranspose2d share: output_padding, and output_size= in forward."""

    _transposed = True

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size,
        stride=1,
        padding=0,
        output_padding=0,
        groups: int = 1,
        bias: bool = True,
        dilation=1,
        padding_mode: str = "zeros",
        device=None,
        dtype=None,
    ) -> None:
        if isinstance(padding, str):
            raise ValueError(f"padding='{padding}' is not supported by {type(self).__name__}")
        if padding_mode != "zeros":
            raise ValueError(f'Only "zeros" padding mode is supported for {type(self).__name__}')
        super().__init__(
            in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias, padding_mode, device, dtype
        )
        self.output_padding = pair(output_padding, "output_padding", self._spatial)

    def forward(self, input: Tensor, output_size=None) -> Tensor:
        """The transposed convolution of input (output_size picks among the sizes a stride allows)."""
        transposed = F.conv_transpose1d if self._spatial == 1 else F.conv_transpose2d
        return transposed(
            input,
            self.weight,
            self.bias,
            self.stride,
            self.padding,
            self._output_padding(input, output_size),
            self.groups,
            self.dilation,
        )

    def _output_padding(self, input: Tensor, output_size) -> tuple:
        """The output_padding that gives output_size (torch's rule), or the layer's own."""
        if output_size is None:
            return self.output_padding
        n = self._spatial
        sizes = [int(s) for s in output_size][-n:]
        if len(sizes) != n:
            raise ValueError(
                f"ConvTranspose{n}D: for {input.dim()}D input, output_size must have {n} or {n + 2} elements"
            )
        spatial = tuple(input.shape)[-n:]
        smallest = [
            (spatial[d] - 1) * self.stride[d] - 2 * self.padding[d] + self.dilation[d] * (self.kernel_size[d] - 1) + 1
            for d in range(n)
        ]
        largest = [smallest[d] + self.stride[d] - 1 for d in range(n)]
        if any(not smallest[d] <= sizes[d] <= largest[d] for d in range(n)):
            raise ValueError(
                f"requested an output size of {tuple(sizes)}, but valid sizes range from {smallest} to "
                f"{largest} (for an input of torch.Size({list(spatial)}))"
            )
        return tuple(sizes[d] - smallest[d] for d in range(n))


class ConvTranspose1d(_ConvTransposeNd):
    """Transposed 1-D convolution (the adjoint of Conv1d): weight (in_channels, out_channels/groups, k)."""

    _spatial = 1


class ConvTranspose2d(_ConvTransposeNd):
    """Transposed 2-D convolution (the adjoint of Conv2d): weight (in_channels, out_channels/groups, kh, kw)."""

    _spatial = 2
