"""Recurrent layers: RNN, LSTM, GRU and their single-step cells, composed from tensor ops.

Every layer runs on a time-major stack of rows: a padded (T, B, *) input becomes T blocks of B rows, a
PackedSequence keeps its blocks of batch_sizes[t] rows. The input projection of a layer and direction is
one matrix product over all blocks; each step then adds one product with the hidden state. Autograd
records the steps, so gradients need no code here.
"""

from __future__ import annotations

import math
import numbers

from ... import _creation
from ..._tensor import Tensor
from ...ops import shape as _shape
from .. import functional as F
from .. import init
from ..parameter import Parameter
from .linear import _factory_dtype
from .module import Module

__all__ = ["RNNBase", "RNN", "LSTM", "GRU", "RNNCellBase", "RNNCell", "LSTMCell", "GRUCell"]

_GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}


# ---------------------------------------------------------------------------- one step of each cell
# xp is the input projection of the step's rows; for RNN and LSTM it already holds both biases, for GRU
# only b_ih (the hidden bias of the n gate sits inside r * (W_hn h + b_hn)).


def _rnn_step(xp: Tensor, h: Tensor, w_hh: Tensor, relu: bool) -> Tensor:
    pre = xp.addmm(h, w_hh.t())
    return pre.relu() if relu else pre.tanh()


def _lstm_step(xp: Tensor, h: Tensor, c: Tensor, w_hh: Tensor, w_hr: Tensor | None) -> tuple[Tensor, Tensor]:
    gates = xp.addmm(h, w_hh.t())
    n = gates.shape[1] // 4
    i = gates.narrow(1, 0, n).sigmoid()
    f = gates.narrow(1, n, n).sigmoid()
    g = gates.narrow(1, 2 * n, n).tanh()
    o = gates.narrow(1, 3 * n, n).sigmoid()
    c = f * c + i * g
    h = o * c.tanh()
    if w_hr is not None:
        h = h.mm(w_hr.t())
    return h, c


def _gru_step(xp: Tensor, h: Tensor, w_hh: Tensor, b_hh: Tensor | None) -> Tensor:
    gh = F.linear(h, w_hh, b_hh)
    n = gh.shape[1] // 3
    rz = (xp.narrow(1, 0, 2 * n) + gh.narrow(1, 0, 2 * n)).sigmoid()
    r, z = rz.narrow(1, 0, n), rz.narrow(1, n, n)
    cand = (xp.narrow(1, 2 * n, n) + r * gh.narrow(1, 2 * n, n)).tanh()
    return cand + z * (h - cand)


def _split_rows(x: Tensor, sizes: list[int]) -> list[Tensor]:
    """x cut along dim 0 into blocks of the given sizes, by repeated halving: the backward pass then
    writes each block's gradient into ever smaller buffers (log T full passes instead of T)."""
    if len(sizes) <= 2:
        return list(_shape.split(x, sizes, 0)) if len(sizes) == 2 else [x]
    half = len(sizes) // 2
    rows = sum(sizes[:half])
    total = x.shape[0]
    return _split_rows(x.narrow(0, 0, rows), sizes[:half]) + _split_rows(x.narrow(0, rows, total - rows), sizes[half:])


def _no_extra_arguments(cls: str, kwargs: dict) -> None:
    """RNN and GRU take no proj_size (torch's ValueError) and no other keyword beyond their own."""
    if "proj_size" in kwargs:
        raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
    if kwargs:
        raise TypeError(f"{cls}.__init__() got an unexpected keyword argument '{next(iter(kwargs))}'")


def _check_size(name: str, value, allow_zero: bool = False) -> int:
    if not isinstance(value, int):  # a bool is an int to torch too
        raise TypeError(f"{name} should be of type int, got: {type(value).__name__}")
    if value < 0 or (value == 0 and not allow_zero):
        raise ValueError(f"{name} must be greater than zero")
    return value


# ---------------------------------------------------------------------------- multi-layer layers
class RNNBase(Module):
    """The shared machinery of RNN, LSTM and GRU: parameters, checks and the time loop."""

    def __init__(
        self,
        mode: str,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        proj_size: int = 0,
        device=None,
        dtype=None,
    ) -> None:
        super().__init__()
        if mode not in _GATES:
            raise ValueError(f"Unrecognized RNN mode: {mode}")
        if not isinstance(dropout, numbers.Number) or isinstance(dropout, bool) or not 0 <= dropout <= 1:
            raise ValueError(
                "dropout should be a number in range [0, 1] representing the probability of an element being zeroed"
            )
        if dropout > 0 and num_layers == 1:
            from ..._warn import warn_user

            warn_user(
                "dropout option adds dropout after all but last recurrent layer, so non-zero dropout expects "
                f"num_layers greater than 1, but got dropout={dropout} and num_layers={num_layers}"
            )
        _check_size("input_size", input_size)
        _check_size("hidden_size", hidden_size)
        _check_size("num_layers", num_layers)
        if not isinstance(proj_size, int) or proj_size < 0:
            raise ValueError("proj_size should be a positive integer or zero to disable projections")
        if proj_size >= hidden_size:
            raise ValueError("proj_size has to be smaller than hidden_size")
        if proj_size and mode != "LSTM":
            raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
        self.mode = mode
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.bias = bias
        self.batch_first = batch_first
        self.dropout = float(dropout)
        self.bidirectional = bidirectional
        self.proj_size = proj_size
        d = _factory_dtype(dtype)
        gate_size = _GATES[mode] * hidden_size
        real_hidden = proj_size if proj_size > 0 else hidden_size
        directions = 2 if bidirectional else 1
        self._flat_weights_names: list[str] = []
        self._all_weights: list[list[str]] = []
        for layer in range(num_layers):
            layer_in = input_size if layer == 0 else real_hidden * directions
            for direction in range(directions):
                suffix = f"_l{layer}" + ("_reverse" if direction == 1 else "")
                shapes = [("weight_ih", (gate_size, layer_in)), ("weight_hh", (gate_size, real_hidden))]
                if bias:
                    shapes += [("bias_ih", (gate_size,)), ("bias_hh", (gate_size,))]
                if proj_size > 0:
                    shapes.append(("weight_hr", (proj_size, hidden_size)))
                names = []
                for stem, shape in shapes:
                    name = stem + suffix
                    setattr(self, name, Parameter(_creation.empty(*shape, dtype=d, device=device)))
                    names.append(name)
                self._flat_weights_names.extend(names)
                self._all_weights.append(names)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """torch's default: every parameter, in registration order, from U(-1/sqrt(hidden), 1/sqrt(hidden))."""
        stdv = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for weight in self.parameters():
            init.uniform_(weight, -stdv, stdv)

    def flatten_parameters(self) -> None:
        """Nothing to do: ember keeps each parameter in its own array (kept for torch's API)."""

    @property
    def _flat_weights(self) -> list:
        return [getattr(self, n) for n in self._flat_weights_names]

    def __getstate__(self) -> dict:
        # torch's forward reads the parameter list _flat_weights from the instance, so a pickle carries it
        state = self.__dict__.copy()
        state["_flat_weights"] = self._flat_weights
        return state

    def __setstate__(self, state: dict) -> None:
        state = dict(state)
        state.pop("_flat_weights", None)  # recomputed from the parameters on every read
        super().__setstate__(state)

    @property
    def all_weights(self) -> list[list[Parameter]]:
        """The parameters grouped per layer and direction, as torch lists them."""
        return [[getattr(self, n) for n in names] for names in self._all_weights]

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if self.proj_size != 0:
            s += f", proj_size={self.proj_size}"
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        if self.batch_first is not False:
            s += f", batch_first={self.batch_first}"
        if self.dropout != 0:
            s += f", dropout={self.dropout}"
        if self.bidirectional is not False:
            s += f", bidirectional={self.bidirectional}"
        return s

    # ---- checks, worded as torch's
    def _name(self) -> str:
        return type(self).__name__

    def _check_input(self, input: Tensor, batch_sizes) -> None:
        weight = self.weight_ih_l0
        if input.dtype != weight.dtype:
            raise ValueError(
                f"RNN input dtype ({input.dtype}) does not match weight dtype ({weight.dtype}). Convert input: "
                f"input.to({weight.dtype}), or convert model: model.to({input.dtype})"
            )
        expected = 2 if batch_sizes is not None else 3
        if input.dim() != expected:
            raise RuntimeError(f"input must have {expected} dimensions, got {input.dim()}")
        if self.input_size != input.size(-1):
            raise RuntimeError(
                f"input.size(-1) must be equal to input_size. Expected {self.input_size}, got {input.size(-1)}"
            )

    @staticmethod
    def _check_hidden(hx: Tensor, expected: tuple, what: str = "hidden") -> None:
        if tuple(hx.shape) != expected:
            raise RuntimeError(f"Expected {what} size {expected}, got {list(hx.shape)}")

    def _zeros(self, input: Tensor, expected: tuple) -> Tensor:
        return _creation.zeros(*expected, dtype=input.dtype, device=input.device)

    # ---- the time loop
    def _layer_params(self, layer: int, direction: int) -> dict:
        suffix = f"_l{layer}" + ("_reverse" if direction == 1 else "")
        p = self._parameters
        get = lambda stem: p.get(stem + suffix)  # noqa: E731
        return {
            "w_ih": get("weight_ih"),
            "w_hh": get("weight_hh"),
            "b_ih": get("bias_ih"),
            "b_hh": get("bias_hh"),
            "w_hr": get("weight_hr"),
        }

    def _direction(self, x: Tensor, sizes: list[int], state: tuple, params: dict, reverse: bool) -> tuple:
        """One layer in one direction over the rows x (blocks of sizes): the outputs' rows and final state."""
        gru = self.mode == "GRU"
        in_bias = params["b_ih"]
        if in_bias is not None and not gru:
            in_bias = in_bias + params["b_hh"]
        xp = F.linear(x, params["w_ih"], in_bias)
        steps = _split_rows(xp, sizes)
        full = state
        T = len(sizes)
        outs: list = [None] * T
        if not reverse:
            finished: list[tuple] = []
            for t in range(T):
                bs = sizes[t]
                if bs < state[0].shape[0]:  # the sequences past their end keep their last state
                    finished.append(tuple(s.narrow(0, bs, s.shape[0] - bs) for s in state))
                    state = tuple(s.narrow(0, 0, bs) for s in state)
                state = self._step(steps[t], state, params, gru)
                outs[t] = state[0]
            if finished:
                finished.append(state)
                state = tuple(_shape.cat([f[k] for f in reversed(finished)], 0) for k in range(len(state)))
        else:
            if T and sizes[-1] < state[0].shape[0]:
                state = tuple(s.narrow(0, 0, sizes[-1]) for s in state)
            for t in range(T - 1, -1, -1):
                bs, have = sizes[t], state[0].shape[0]
                if bs > have:  # sequences that start (from their end) at this step join with their h0
                    state = tuple(_shape.cat([s, f.narrow(0, have, bs - have)], 0) for s, f in zip(state, full))
                state = self._step(steps[t], state, params, gru)
                outs[t] = state[0]
        return _shape.cat(outs, 0), state

    def _step(self, xp: Tensor, state: tuple, params: dict, gru: bool) -> tuple:
        if self.mode == "LSTM":
            return _lstm_step(xp, state[0], state[1], params["w_hh"], params["w_hr"])
        if gru:
            return (_gru_step(xp, state[0], params["w_hh"], params["b_hh"]),)
        return (_rnn_step(xp, state[0], params["w_hh"], self.mode == "RNN_RELU"),)

    def _run(self, x: Tensor, sizes: list[int], hidden: tuple) -> tuple[Tensor, tuple]:
        """All layers over the rows x; hidden holds (L*D, B, *) state tensors. Returns rows and final states."""
        directions = 2 if self.bidirectional else 1
        per_state = [h.unbind(0) for h in hidden]
        finals: list[list[Tensor]] = [[] for _ in hidden]
        for layer in range(self.num_layers):
            if layer > 0 and self.dropout > 0 and self.training:
                x = F.dropout(x, self.dropout, True)
            outs = []
            for direction in range(directions):
                k = layer * directions + direction
                out, state = self._direction(
                    x,
                    sizes,
                    tuple(s[k] for s in per_state),
                    self._layer_params(layer, direction),
                    reverse=direction == 1,
                )
                outs.append(out)
                for i, s in enumerate(state):
                    finals[i].append(s)
            x = outs[0] if directions == 1 else _shape.cat(outs, 1)
        return x, tuple(_shape.stack(f, 0) for f in finals)

    def _forward(self, input, hx):
        from ..utils.rnn import PackedSequence

        lstm = self.mode == "LSTM"
        packed = isinstance(input, PackedSequence)
        if packed:
            data, batch_sizes, sorted_indices, unsorted_indices = input
            sizes = [int(b) for b in batch_sizes.tolist()]
            self._check_input(data, batch_sizes)
            unbatched = False
        else:
            if input.dim() not in (2, 3):
                tail = " tensor" if self.mode.startswith("RNN") else ""
                raise ValueError(f"{self._name()}: Expected input to be 2D or 3D, got {input.dim()}D{tail} instead")
            unbatched = input.dim() == 2
            if hx is not None:
                dims = [h.dim() for h in hx] if lstm else [hx.dim()]
                want = 2 if unbatched else 3
                if any(n != want for n in dims):
                    kind = "unbatched 2-D" if unbatched else "batched 3-D"
                    if lstm:
                        raise RuntimeError(
                            f"For {kind} input, hx and cx should also be {want}-D but got "
                            f"({dims[0]}-D, {dims[1]}-D) tensors"
                        )
                    raise RuntimeError(f"For {kind} input, hx should also be {want}-D but got {dims[0]}-D tensor")
            if unbatched:
                input = input.unsqueeze(1)
                if hx is not None:
                    hx = tuple(h.unsqueeze(1) for h in hx) if lstm else hx.unsqueeze(1)
            elif self.batch_first:
                input = input.transpose(0, 1)
            batch_sizes, sorted_indices, unsorted_indices = None, None, None
            self._check_input(input, None)
            T, B = input.shape[0], input.shape[1]
            if T == 0:
                raise RuntimeError("Expected sequence length to be larger than 0 in RNN")
            sizes = [B] * T
            data = input.reshape(T * B, input.shape[2])
        if hx is not None and sorted_indices is not None:
            hx = tuple(h.index_select(1, sorted_indices) for h in hx) if lstm else hx.index_select(1, sorted_indices)
        batch = sizes[0] if packed else input.shape[1]
        directions = 2 if self.bidirectional else 1
        expected = (self.num_layers * directions, batch, self.proj_size or self.hidden_size)
        if lstm:
            expected_c = expected[:2] + (self.hidden_size,)
            if hx is None:
                hidden = (self._zeros(data, expected), self._zeros(data, expected_c))
            else:
                self._check_hidden(hx[0], expected, "hidden[0]")
                self._check_hidden(hx[1], expected_c, "hidden[1]")
                hidden = tuple(hx)
        else:
            if hx is None:
                hidden = (self._zeros(data, expected),)
            else:
                self._check_hidden(hx, expected)
                hidden = (hx,)
        out, finals = self._run(data, sizes, hidden)
        if unsorted_indices is not None:
            finals = tuple(f.index_select(1, unsorted_indices) for f in finals)
        if packed:
            output = PackedSequence(out, batch_sizes, sorted_indices, unsorted_indices)
        else:
            output = out.reshape(len(sizes), input.shape[1], out.shape[1])
            if unbatched:
                output = output.squeeze(1)
                finals = tuple(f.squeeze(1) for f in finals)
            elif self.batch_first:
                output = output.transpose(0, 1)
        return output, (finals if lstm else finals[0])


class RNN(RNNBase):
    """Elman RNN: h_t = tanh(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh) (or relu), stacked and optionally bidirectional."""

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        nonlinearity: str = "tanh",
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        device=None,
        dtype=None,
        **kwargs,
    ) -> None:
        _no_extra_arguments("RNN", kwargs)
        if nonlinearity == "tanh":
            mode = "RNN_TANH"
        elif nonlinearity == "relu":
            mode = "RNN_RELU"
        else:
            raise ValueError(f"Unknown nonlinearity '{nonlinearity}'. Select from 'tanh' or 'relu'.")
        self.nonlinearity = nonlinearity
        super().__init__(
            mode, input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional, 0, device, dtype
        )
        self.nonlinearity = nonlinearity

    def forward(self, input, hx: Tensor | None = None):
        """(output, h_n) for a (T, B, H_in) / (B, T, H_in) / (T, H_in) input or a PackedSequence."""
        return self._forward(input, hx)


class LSTM(RNNBase):
    """Long short-term memory, gates (i, f, g, o) as torch orders them, with an optional projection (proj_size)."""

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        proj_size: int = 0,
        device=None,
        dtype=None,
    ) -> None:
        super().__init__(
            "LSTM", input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional, proj_size,
            device, dtype,
        )  # fmt: skip

    def forward(self, input, hx: tuple[Tensor, Tensor] | None = None):
        """(output, (h_n, c_n)) for a (T, B, H_in) / (B, T, H_in) / (T, H_in) input or a PackedSequence."""
        return self._forward(input, hx)


class GRU(RNNBase):
    """Gated recurrent unit, gates (r, z, n) with n = tanh(W_in x + b_in + r * (W_hn h + b_hn))."""

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        device=None,
        dtype=None,
        **kwargs,
    ) -> None:
        _no_extra_arguments("GRU", kwargs)
        super().__init__(
            "GRU", input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional, 0, device, dtype
        )

    def forward(self, input, hx: Tensor | None = None):
        """(output, h_n) for a (T, B, H_in) / (B, T, H_in) / (T, H_in) input or a PackedSequence."""
        return self._forward(input, hx)


# ---------------------------------------------------------------------------- cells
class RNNCellBase(Module):
    """The shared parameters and checks of RNNCell, LSTMCell and GRUCell."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool, num_chunks: int, device=None, dtype=None) -> None:
        super().__init__()
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.bias = bias
        d = _factory_dtype(dtype)
        self.weight_ih = Parameter(_creation.empty(num_chunks * hidden_size, input_size, dtype=d, device=device))
        self.weight_hh = Parameter(_creation.empty(num_chunks * hidden_size, hidden_size, dtype=d, device=device))
        if bias:
            self.bias_ih = Parameter(_creation.empty(num_chunks * hidden_size, dtype=d, device=device))
            self.bias_hh = Parameter(_creation.empty(num_chunks * hidden_size, dtype=d, device=device))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """torch's default: every parameter from U(-1/sqrt(hidden), 1/sqrt(hidden)), in registration order."""
        stdv = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for weight in self.parameters():
            init.uniform_(weight, -stdv, stdv)

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        if getattr(self, "nonlinearity", "tanh") != "tanh":
            s += f", nonlinearity={self.nonlinearity}"
        return s

    def _prepare(self, input: Tensor, hx: tuple | None) -> tuple[Tensor, tuple, bool]:
        """Checks as torch words them; returns the 2-D input, 2-D states (zeros if absent) and unbatched."""
        if input.dim() not in (1, 2):
            raise ValueError(f"{type(self).__name__}: Expected input to be 1D or 2D, got {input.dim()}D instead")
        if hx is not None:
            for h in hx:
                if h.dim() not in (1, 2):
                    raise ValueError(f"{type(self).__name__}: Expected hidden to be 1D or 2D, got {h.dim()}D instead")
        unbatched = input.dim() == 1
        if unbatched:
            input = input.unsqueeze(0)
            if hx is not None:
                hx = tuple(h.unsqueeze(0) for h in hx)
        if input.size(1) != self.input_size:
            raise RuntimeError(f"input has inconsistent input_size: got {input.size(1)} expected {self.input_size}")
        if hx is None:
            hx = (_creation.zeros(input.size(0), self.hidden_size, dtype=input.dtype, device=input.device),)
        for k, h in enumerate(hx):
            if input.size(0) != h.size(0):
                raise RuntimeError(f"Input batch size {input.size(0)} doesn't match hidden{k} batch size {h.size(0)}")
            if h.size(1) != self.hidden_size:
                raise RuntimeError(
                    f"hidden{k} has inconsistent hidden_size: got {h.size(1)}, expected {self.hidden_size}"
                )
        return input, hx, unbatched

    def _projection(self, input: Tensor, fold_bias: bool) -> Tensor:
        b = self.bias_ih
        if b is not None and fold_bias:
            b = b + self.bias_hh
        return F.linear(input, self.weight_ih, b)


class RNNCell(RNNCellBase):
    """One step of an Elman RNN: h' = tanh(W_ih x + b_ih + W_hh h + b_hh) (or relu)."""

    def __init__(
        self, input_size: int, hidden_size: int, bias: bool = True, nonlinearity: str = "tanh", device=None, dtype=None
    ) -> None:
        super().__init__(input_size, hidden_size, bias, 1, device, dtype)
        self.nonlinearity = nonlinearity

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:
        """The next hidden state, (B, H) or (H,) for unbatched input."""
        x, (h,), unbatched = self._prepare(input, None if hx is None else (hx,))
        if self.nonlinearity not in ("tanh", "relu"):
            raise RuntimeError(f"Unknown nonlinearity: {self.nonlinearity}")
        out = _rnn_step(self._projection(x, True), h, self.weight_hh, self.nonlinearity == "relu")
        return out.squeeze(0) if unbatched else out


class LSTMCell(RNNCellBase):
    """One LSTM step: returns (h', c') from input and (h, c)."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, device=None, dtype=None) -> None:
        super().__init__(input_size, hidden_size, bias, 4, device, dtype)

    def forward(self, input: Tensor, hx: tuple[Tensor, Tensor] | None = None) -> tuple[Tensor, Tensor]:
        if hx is not None and len(hx) != 2:
            raise RuntimeError("lstm_cell expects two hidden states")
        """(h', c'), each (B, H) or (H,) for unbatched input."""
        x, state, unbatched = self._prepare(input, None if hx is None else tuple(hx))
        h, c = (state[0], state[0]) if len(state) == 1 else state
        h, c = _lstm_step(self._projection(x, True), h, c, self.weight_hh, None)
        return (h.squeeze(0), c.squeeze(0)) if unbatched else (h, c)


class GRUCell(RNNCellBase):
    """One GRU step: h' = (1 - z) * n + z * h with torch's gates (r, z, n)."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, device=None, dtype=None) -> None:
        super().__init__(input_size, hidden_size, bias, 3, device, dtype)

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:
        """The next hidden state, (B, H) or (H,) for unbatched input."""
        x, (h,), unbatched = self._prepare(input, None if hx is None else (hx,))
        out = _gru_step(self._projection(x, False), h, self.weight_hh, self.bias_hh)
        return out.squeeze(0) if unbatched else out
