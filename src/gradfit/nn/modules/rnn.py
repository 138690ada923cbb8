"""Recurrent layers: ``RNN``, ``LSTM``, ``GRU`` (sequences, stacked, bidirectional) and
the one-step cells ``RNNCell``, ``LSTMCell``, ``GRUCell``.

The lecture shows the GRU's computation graph as the case where backprop by hand gets
complicated; here each layer and direction is one op (``gradfit.ops.sequence
.RecurrentLayer``) whose backward is that computation written out. The input projections
of all time steps are one matrix product made first; only the recurrent product runs per
step. PyTorch's equations and weight layouts, for input x_t and previous state h_{t-1}:

    RNN:   h_t = tanh(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh)        (or relu)
    LSTM:  i, f, g, o = sigma, sigma, tanh, sigma of the four blocks of
           W_ih x_t + b_ih + W_hh h_{t-1} + b_hh   (stacked in that order, 4H rows)
           c_t = f * c_{t-1} + i * g,  h_t = o * tanh(c_t)  (then h_t = W_hr h_t with
           ``proj_size``)
    GRU:   r_t = sigma(W_ir x_t + b_ir + W_hr h_{t-1} + b_hr)
           z_t = sigma(W_iz x_t + b_iz + W_hz h_{t-1} + b_hz)
           n_t = tanh(W_in x_t + b_in + r_t * (W_hn h_{t-1} + b_hn))
           h_t = n_t + z_t * (h_{t-1} - n_t)

All weights start as U(-1/sqrt(H), 1/sqrt(H)), drawn in ``named_parameters()`` order from
gradfit's generator, as PyTorch; the parameter names are PyTorch's (``weight_ih_l0``,
``bias_hh_l1_reverse``, ``weight_hr_l0``, ...), so state dicts load both ways.
"""

from __future__ import annotations

import math
import warnings

import numpy as np

from gradfit import _dtypes, _meta
from gradfit._arrays import unwrap, wrap
from gradfit._functional import cat, stack
from gradfit.autograd._torch_names import named
from gradfit.nn import functional as F
from gradfit.nn import init
from gradfit.nn._packed import PackedSequence, _valid_mask
from gradfit.nn.modules.module import Module
from gradfit.nn.parameter import Parameter
from gradfit.ops import elementwise, sequence
from gradfit.ops.matmul import Linear as _LinearOp
from gradfit.tensor import Tensor, _check_device

_GATES = {"LSTM": 4, "GRU": 3, "RNN_TANH": 1, "RNN_RELU": 1}


def _uniform_all(module: Module, hidden_size: int) -> None:
    stdv = 1.0 / math.sqrt(hidden_size) if hidden_size > 0 else 0
    for weight in module.parameters():
        init.uniform_(weight, -stdv, stdv)


def _check_positive(name: str, value) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        raise ValueError(f"{name} must be a positive int, got {value!r}")


def _zeros(shape, dtype, like=None) -> Tensor:
    # on ``like``'s device, as PyTorch's zero initial state is on the input's
    if like is not None and _meta.is_meta(like):
        return wrap(_meta.zeros(shape, dtype))
    return wrap(np.zeros(shape, dtype=dtype))


class RNNBase(Module):
    """The shared machinery of ``RNN``, ``LSTM`` and ``GRU`` (PyTorch's ``RNNBase``).

    Shapes: input (L, N, H_in), (N, L, H_in) with ``batch_first``, unbatched (L, H_in), or
    a ``PackedSequence``; h0 (D * num_layers, N, H_out) (unbatched: without N), zeros if
    omitted, D = 2 if bidirectional else 1, H_out = proj_size or hidden_size. Returns
    (output (L, N, D * H_out) in the input's layout or a PackedSequence, h_n like h0), and
    for the LSTM h_n is the pair (h_n, c_n), c_n (D * num_layers, N, hidden_size).
    """

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
        _check_device(device)
        if (
            not isinstance(dropout, int | float)
            or isinstance(dropout, bool)
            or not (0 <= dropout <= 1)
        ):
            raise ValueError(
                "dropout should be a number in range [0, 1] representing the probability of "
                f"an element being zeroed, got {dropout!r}"
            )
        if dropout > 0 and num_layers == 1:
            warnings.warn(
                "dropout option adds dropout after all but last recurrent layer, so non-zero "
                f"dropout expects num_layers greater than 1, but got dropout={dropout} and "
                f"num_layers={num_layers}",
                stacklevel=3,
            )
        _check_positive("input_size", input_size)
        _check_positive("hidden_size", hidden_size)
        if not isinstance(num_layers, int) or num_layers <= 0:
            raise ValueError(f"num_layers must be greater than zero, got {num_layers!r}")
        if proj_size < 0:
            raise ValueError(
                f"proj_size should be a positive integer or zero to disable projections, "
                f"got {proj_size}"
            )
        if proj_size >= hidden_size:
            raise ValueError(
                f"proj_size has to be smaller than hidden_size, got {proj_size} >= {hidden_size}"
            )
        if mode not in _GATES:
            raise ValueError(f"Unrecognized RNN mode: {mode!r}")
        if proj_size and mode != "LSTM":
            raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
        dt = _dtypes.to_dtype(dtype)
        self.mode = mode
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.bias = bias
        self.batch_first = batch_first
        self.dropout = float(dropout)
        self.bidirectional = bidirectional
        self.proj_size = proj_size
        gate_size = _GATES[mode] * hidden_size
        real_hidden = proj_size if proj_size > 0 else hidden_size
        num_directions = 2 if bidirectional else 1
        self._flat_weights_names = []
        for layer in range(num_layers):
            for direction in range(num_directions):
                layer_in = input_size if layer == 0 else real_hidden * num_directions
                sfx = "_reverse" if direction == 1 else ""
                names = [f"weight_ih_l{layer}{sfx}", f"weight_hh_l{layer}{sfx}"]
                shapes = [(gate_size, layer_in), (gate_size, real_hidden)]
                if bias:
                    names += [f"bias_ih_l{layer}{sfx}", f"bias_hh_l{layer}{sfx}"]
                    shapes += [(gate_size,), (gate_size,)]
                if proj_size > 0:
                    names.append(f"weight_hr_l{layer}{sfx}")
                    shapes.append((proj_size, hidden_size))
                for name, shape in zip(names, shapes):
                    setattr(self, name, Parameter(np.empty(shape, dtype=dt)))
                self._flat_weights_names.extend(names)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        _uniform_all(self, self.hidden_size)

    @property
    def _flat_weights(self) -> list:
        return [getattr(self, n) for n in self._flat_weights_names]

    @property
    def all_weights(self) -> list:
        per = len(self._flat_weights_names) // (self.num_layers * (1 + self.bidirectional))
        w = self._flat_weights
        return [w[i : i + per] for i in range(0, len(w), per)]

    def flatten_parameters(self) -> None:
        """PyTorch compacts cuDNN weights here; nothing to do on the CPU."""

    def _weights(self, layer: int, direction: int):
        sfx = "_reverse" if direction == 1 else ""
        p = self._parameters

        def get(name):  # weight_norm and parametrize move a weight out of _parameters
            return p[name] if name in p else getattr(self, name, None)

        return (
            get(f"weight_ih_l{layer}{sfx}"),
            get(f"weight_hh_l{layer}{sfx}"),
            get(f"bias_ih_l{layer}{sfx}"),
            get(f"bias_hh_l{layer}{sfx}"),
            get(f"weight_hr_l{layer}{sfx}"),
        )

    # ------------------------------------------------------------------ forward
    def _check_hidden(self, hx: Tensor, expected: tuple, what: str = "hidden") -> None:
        if tuple(hx.shape) != expected:
            raise RuntimeError(f"Expected {what} size {expected}, got {list(hx.shape)}")

    def forward(self, input, hx=None):  # noqa: A002
        name = type(self).__name__
        lstm = self.mode == "LSTM"
        packed = isinstance(input, PackedSequence)
        batch_sizes = mask = None
        sorted_indices = unsorted_indices = None
        if packed:
            data, bs_t, sorted_indices, unsorted_indices = input
            batch_sizes = unwrap(bs_t).astype(np.int64)
            mask = _valid_mask(batch_sizes)
            x = sequence.ScatterRows.apply(data, mask=mask)
            batched = True
            if hx is not None and sorted_indices is not None:
                order = unwrap(sorted_indices)
                hx = (hx[0][:, order], hx[1][:, order]) if lstm else hx[:, order]
        else:
            x = input
            if x.ndim not in (2, 3):
                what = "D tensor" if name == "RNN" else "D"  # PyTorch's RNN alone says tensor
                raise ValueError(
                    f"{name}: Expected input to be 2D or 3D, got {x.ndim}{what} instead"
                )
            batched = x.ndim == 3
            if lstm and isinstance(hx, Tensor):
                # PyTorch fails on hx[1] with an IndexError; say what was meant instead
                raise IndexError(
                    f"{name}: expected hx to be a tuple (h_0, c_0), got a single Tensor of "
                    f"size {list(hx.shape)}"
                )
            hs = hx if not lstm or hx is None else hx[0]
            want = 3 if batched else 2
            if hx is not None and hs.ndim != want:
                kind = "batched 3-D" if batched else "unbatched 2-D"
                if lstm:
                    raise RuntimeError(
                        f"For {kind} input, hx and cx should also be {want}-D but got "
                        f"({hx[0].ndim}-D, {hx[1].ndim}-D) tensors"
                    )
                raise RuntimeError(
                    f"For {kind} input, hx should also be {want}-D but got {hs.ndim}-D tensor"
                )
            if not batched:
                x = x.unsqueeze(1)
                if hx is not None:
                    hx = (hx[0].unsqueeze(1), hx[1].unsqueeze(1)) if lstm else hx.unsqueeze(1)
            else:
                if self.batch_first:
                    x = x.transpose(0, 1)
        w0 = unwrap(self.weight_ih_l0)
        xa = unwrap(x)
        if xa.dtype != w0.dtype:
            dx, dw = _dtypes.from_np(xa.dtype), _dtypes.from_np(w0.dtype)
            raise ValueError(
                f"{name} input dtype ({dx}) does not match weight dtype ({dw}). "
                f"Convert input: input.to({dw}), or convert model: model.to({dx})"
            )
        if xa.shape[-1] != self.input_size:
            raise RuntimeError(
                f"input.size(-1) must be equal to input_size. Expected {self.input_size}, "
                f"got {xa.shape[-1]}"
            )
        batch = xa.shape[1]
        num_directions = 2 if self.bidirectional else 1
        real_hidden = self.proj_size if self.proj_size > 0 else self.hidden_size
        h_shape = (self.num_layers * num_directions, batch, real_hidden)
        c_shape = (self.num_layers * num_directions, batch, self.hidden_size)
        if hx is None:
            h0 = _zeros(h_shape, xa.dtype, xa)
            c0 = _zeros(c_shape, xa.dtype, xa) if lstm else None
        elif lstm:
            h0, c0 = hx
            self._check_hidden(h0, h_shape, "hidden[0]")
            self._check_hidden(c0, c_shape, "hidden[1]")
        else:
            h0, c0 = hx, None
            self._check_hidden(h0, h_shape)

        output, h_n, c_n = self._run(x, h0, c0, batch_sizes, mask)

        if packed:
            output = PackedSequence(
                named(sequence.MaskedRows.apply(output, mask=mask), "CatBackward0"),
                input.batch_sizes,
                sorted_indices,
                unsorted_indices,
            )
            if unsorted_indices is not None:
                inv = unwrap(unsorted_indices)
                h_n = h_n[:, inv]
                c_n = c_n[:, inv] if lstm else None
        elif not batched:
            output = output.squeeze(1)
            h_n = h_n.squeeze(1)
            c_n = c_n.squeeze(1) if lstm else None
        elif self.batch_first:
            # PyTorch transposes the input with transpose(0, 1) and, for LSTM, the output
            # back the same way; GRU and RNN end with transpose_(0, 1)
            output = named(output.transpose(0, 1), f"TransposeBackward{int(not lstm)}")
        elif not self.bidirectional:
            # PyTorch stacks the steps' outputs; a float32 LSTM runs oneDNN's layer kernel
            fused = lstm and xa.dtype == np.float32
            output = named(output, "MkldnnRnnLayerBackward0" if fused else "StackBackward0")
        return output, ((h_n, c_n) if lstm else h_n)

    def _run(self, x: Tensor, h0: Tensor, c0, batch_sizes, mask):
        """All layers over the padded (T, N, H_in) input; returns (output, h_n, c_n)."""
        steps = x.shape[0]
        num_directions = 2 if self.bidirectional else 1
        real_hidden = self.proj_size if self.proj_size > 0 else self.hidden_size
        lstm = self.mode == "LSTM"
        layer_input = x
        h_n, c_n = [], []
        for layer in range(self.num_layers):
            outs = []
            for direction in range(num_directions):
                w_ih, w_hh, b_ih, b_hh, w_hr = self._weights(layer, direction)
                k = layer * num_directions + direction
                gi = _LinearOp.apply(layer_input, w_ih, b_ih)  # every step's W_ih x_t + b_ih
                res = sequence.RecurrentLayer.apply(
                    gi,
                    w_hh,
                    b_hh,
                    h0[k],
                    c0[k] if lstm else None,
                    w_hr,
                    mode=self.mode,
                    reverse=direction == 1,
                    batch_sizes=batch_sizes,
                )
                outs.append(res[:steps, :, :real_hidden])
                h_n.append(res[steps, :, :real_hidden])
                if lstm:
                    c_n.append(res[steps + 1])
            layer_output = outs[0] if num_directions == 1 else cat(outs, -1)
            if self.dropout and self.training and layer < self.num_layers - 1:
                if mask is None:
                    layer_output = F.dropout(layer_output, self.dropout, True)
                else:  # PyTorch drops out the packed data: draw the mask in that shape
                    dropped = F.dropout(
                        sequence.MaskedRows.apply(layer_output, mask=mask), self.dropout, True
                    )
                    layer_output = sequence.ScatterRows.apply(dropped, mask=mask)
            layer_input = layer_output
        return layer_input, stack(h_n, 0), (stack(c_n, 0) if lstm else None)

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


_RNN_ARGS = ("num_layers", "bias", "batch_first", "dropout", "bidirectional")


def _named(args: tuple, kwargs: dict, names: tuple, cls: str) -> dict:
    if len(args) > len(names):
        raise TypeError(f"{cls}: too many positional arguments ({len(args) + 2})")
    for n, v in zip(names, args):
        if n in kwargs:
            raise TypeError(f"{cls}: got multiple values for argument {n!r}")
        kwargs[n] = v
    return kwargs


class RNN(RNNBase):
    """Elman RNN, h_t = tanh (or relu) of W_ih x_t + b_ih + W_hh h_{t-1} + b_hh.

    ``RNN(input_size, hidden_size, num_layers=1, nonlinearity='tanh', bias=True,
    batch_first=False, dropout=0.0, bidirectional=False)``; shapes as ``RNNBase``.
    """

    def __init__(self, input_size: int, hidden_size: int, *args, **kwargs) -> None:
        kwargs = _named(args, kwargs, ("num_layers", "nonlinearity", *_RNN_ARGS[1:]), "RNN")
        nonlinearity = kwargs.pop("nonlinearity", "tanh")
        if nonlinearity == "tanh":
            mode = "RNN_TANH"
        elif nonlinearity == "relu":
            mode = "RNN_RELU"
        else:
            raise ValueError(
                f"Unknown nonlinearity '{nonlinearity}'. Select from 'tanh' or 'relu'."
            )
        super().__init__(mode, input_size, hidden_size, **kwargs)
        self.nonlinearity = nonlinearity


class LSTM(RNNBase):
    """Long short-term memory (gates i, f, g, o; equations in the module docstring).

    ``LSTM(input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
    dropout=0.0, bidirectional=False, proj_size=0)``; ``forward(input, (h0, c0))`` returns
    (output, (h_n, c_n)).
    """

    def __init__(self, input_size: int, hidden_size: int, *args, **kwargs) -> None:
        kwargs = _named(args, kwargs, (*_RNN_ARGS, "proj_size"), "LSTM")
        super().__init__("LSTM", input_size, hidden_size, **kwargs)


class GRU(RNNBase):
    """Gated recurrent unit (gates r, z, n; equations in the module docstring).

    ``GRU(input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
    dropout=0.0, bidirectional=False)``.
    """

    def __init__(self, input_size: int, hidden_size: int, *args, **kwargs) -> None:
        kwargs = _named(args, kwargs, _RNN_ARGS, "GRU")
        super().__init__("GRU", input_size, hidden_size, **kwargs)


# --------------------------------------------------------------------------- cells
class RNNCellBase(Module):
    """One step of a recurrent layer: parameters weight_ih (G, in), weight_hh (G, H),
    bias_ih, bias_hh (G,), G = gates * H, all U(-1/sqrt(H), 1/sqrt(H)) in that order."""

    _mode = "RNN_TANH"

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        bias: bool,
        num_chunks: int,
        device=None,
        dtype=None,
    ) -> None:
        super().__init__()
        _check_device(device)
        _check_positive("input_size", input_size)
        _check_positive("hidden_size", hidden_size)
        dt = _dtypes.to_dtype(dtype)
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.bias = bias
        g = num_chunks * hidden_size
        self.weight_ih = Parameter(np.empty((g, input_size), dtype=dt))
        self.weight_hh = Parameter(np.empty((g, hidden_size), dtype=dt))
        if bias:
            self.bias_ih = Parameter(np.empty((g,), dtype=dt))
            self.bias_hh = Parameter(np.empty((g,), dtype=dt))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        _uniform_all(self, self.hidden_size)

    def _prepare(self, input: Tensor, states: list):  # noqa: A002
        name = type(self).__name__
        if input.ndim not in (1, 2):
            raise ValueError(f"{name}: Expected input to be 1D or 2D, got {input.ndim}D instead")
        for s in states:
            if s is not None and s.ndim not in (1, 2):
                raise ValueError(f"{name}: Expected hidden to be 1D or 2D, got {s.ndim}D instead")
        if input.shape[-1] != self.input_size:
            raise RuntimeError(
                f"input has inconsistent input_size: got {input.shape[-1]} expected "
                f"{self.input_size}"
            )
        batched = input.ndim == 2
        if not batched:
            input = input.unsqueeze(0)
        n = input.shape[0]
        dt = unwrap(input).dtype
        out = []
        for i, s in enumerate(states):
            if s is None:
                s = _zeros((n, self.hidden_size), dt)
            elif not batched:
                s = s.unsqueeze(0)
            if s.shape[0] != n:
                raise RuntimeError(
                    f"Input batch size {n} doesn't match hidden{i} batch size {s.shape[0]}"
                )
            if s.shape[1] != self.hidden_size:
                raise RuntimeError(
                    f"hidden{i} has inconsistent hidden_size: got {s.shape[1]}, expected "
                    f"{self.hidden_size}"
                )
            out.append(s)
        return input, out, batched

    def _step(self, input: Tensor, h: Tensor, c):  # noqa: A002
        gi = _LinearOp.apply(input, self.weight_ih, self.bias_ih).unsqueeze(0)
        return sequence.RecurrentLayer.apply(
            gi, self.weight_hh, self.bias_hh, h, c, None, mode=self._mode
        )

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        nl = self.__dict__.get("nonlinearity")
        if nl is not None and nl != "tanh":
            s += f", nonlinearity={nl}"
        return s


class RNNCell(RNNCellBase):
    """h' = tanh (or relu) of W_ih x + b_ih + W_hh h + b_hh. Input (N, in) or (in,); hx
    (N, H) or (H,), zeros if omitted; returns h' of hx's shape."""

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        bias: bool = True,
        nonlinearity: str = "tanh",
        device=None,
        dtype=None,
    ) -> None:
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"Unknown nonlinearity: {nonlinearity}")
        super().__init__(input_size, hidden_size, bias, 1, device, dtype)
        self.nonlinearity = nonlinearity
        self._mode = "RNN_TANH" if nonlinearity == "tanh" else "RNN_RELU"

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:  # noqa: A002
        x, (h,), batched = self._prepare(input, [hx])
        out = named(
            self._step(x, h, None)[0],
            "TanhBackward0" if self._mode == "RNN_TANH" else "ReluBackward0",
        )
        return out if batched else out.squeeze(0)


class LSTMCell(RNNCellBase):
    """One LSTM step: ``forward(input, (h, c))`` returns (h', c'); zeros if hx omitted."""

    _mode = "LSTM"

    def __init__(
        self, input_size: int, hidden_size: int, bias: bool = True, device=None, dtype=None
    ) -> None:
        super().__init__(input_size, hidden_size, bias, 4, device, dtype)

    def forward(self, input: Tensor, hx=None):  # noqa: A002
        h, c = (None, None) if hx is None else hx
        x, (h, c), batched = self._prepare(input, [h, c])
        res = self._step(x, h, c)
        h1, c1 = named(res[0], "MulBackward0"), named(res[2], "AddBackward0")
        if not batched:
            h1, c1 = h1.squeeze(0), c1.squeeze(0)
        return h1, c1


class GRUCell(RNNCellBase):
    """One GRU step (equations in the module docstring); returns h' of hx's shape.

    Unlike the other cells and ``GRU``, the step is recorded gate by gate (linear, sigmoid,
    tanh, products) rather than as one fused node, so its computation graph shows the
    GRU's structure: the lecture draws that graph (``gradfit.lecture.computation_graphs``).
    """

    _mode = "GRU"

    def __init__(
        self, input_size: int, hidden_size: int, bias: bool = True, device=None, dtype=None
    ) -> None:
        super().__init__(input_size, hidden_size, bias, 3, device, dtype)

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:  # noqa: A002
        x, (h,), batched = self._prepare(input, [hx])
        hidden = self.hidden_size
        gi = _LinearOp.apply(x, self.weight_ih, self.bias_ih)
        gh = _LinearOp.apply(h, self.weight_hh, self.bias_hh)
        two = 2 * hidden
        rz = elementwise.Sigmoid.apply(gi[..., :two] + gh[..., :two])
        r, z = rz[..., :hidden], rz[..., hidden:]
        n = elementwise.Tanh.apply(gi[..., two:] + r * gh[..., two:])
        out = n + z * (h - n)
        return out if batched else out.squeeze(0)
