"""Gated recurrent units: ``GRUCell`` (one step) and ``GRU`` (a sequence, stacked layers).

The lecture shows the GRU's computation graph as the case where backprop by hand gets
complicated. Here it is written with ordinary gradfit ops (fused linear, indexing,
sigmoid, tanh, products), so autodiff derives the backward pass. PyTorch's equations and
weight layout, for input x_t and previous state h_{t-1}:

    r_t = sigma(W_ir x_t + b_ir + W_hr h_{t-1} + b_hr)          reset gate
    z_t = sigma(W_iz x_t + b_iz + W_hz h_{t-1} + b_hz)          update gate
    n_t = tanh(W_in x_t + b_in + r_t * (W_hn h_{t-1} + b_hn))   candidate state
    h_t = (1 - z_t) * n_t + z_t * h_{t-1}  =  n_t + z_t * (h_{t-1} - n_t)

``weight_ih`` stacks [W_ir; W_iz; W_in] (3H, in), ``weight_hh`` stacks
[W_hr; W_hz; W_hn] (3H, H), and the biases likewise (3H,), in r, z, n order. The last form
of h_t is the one PyTorch evaluates, so the rounding matches too. All weights start as
U(-1/sqrt(H), 1/sqrt(H)), drawn in parameter registration order, as PyTorch.
"""

from __future__ import annotations

import math

import numpy as np

from gradfit import _dtypes
from gradfit._arrays import wrap
from gradfit._functional import cat, stack
from gradfit.nn import functional as F
from gradfit.nn import init
from gradfit.nn.modules.module import Module
from gradfit.nn.parameter import Parameter
from gradfit.ops import elementwise as _el
from gradfit.ops.matmul import Linear as _LinearOp
from gradfit.tensor import Tensor, _check_device


def _gru_step(gi: Tensor, h: Tensor, w_hh: Tensor, b_hh: Tensor | None, hidden: int) -> Tensor:
    """One GRU update from the input projections ``gi`` = W_i x + b_i (N, 3H) and h."""
    gh = _LinearOp.apply(h, w_hh, b_hh)
    two = 2 * hidden
    rz = _el.Sigmoid.apply(gi[..., :two] + gh[..., :two])
    r = rz[..., :hidden]
    z = rz[..., hidden:]
    n = _el.Tanh.apply(gi[..., two:] + r * gh[..., two:])
    return n + z * (h - n)


def _uniform_all(module: Module, hidden_size: int) -> None:
    stdv = 1.0 / math.sqrt(hidden_size) if hidden_size > 0 else 0
    for weight in module.parameters():
        init.uniform_(weight, -stdv, stdv)


class GRUCell(Module):
    """One GRU step (equations in the module docstring).

    Args:
        input_size: features of x.
        hidden_size: features of h (H).
        bias: learn b_ih and b_hh.

    Shapes: input (N, input_size) or (input_size,); hx (N, H) or (H,), zeros if omitted;
    output h' of hx's shape.
    """

    def __init__(
        self, input_size: int, hidden_size: int, bias: bool = True, device=None, dtype=None
    ) -> None:
        super().__init__()
        _check_device(device)
        dt = _dtypes.to_dtype(dtype)
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.bias = bias
        self.weight_ih = Parameter(np.empty((3 * hidden_size, input_size), dtype=dt))
        self.weight_hh = Parameter(np.empty((3 * hidden_size, hidden_size), dtype=dt))
        if bias:
            self.bias_ih = Parameter(np.empty((3 * hidden_size,), dtype=dt))
            self.bias_hh = Parameter(np.empty((3 * hidden_size,), dtype=dt))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        _uniform_all(self, self.hidden_size)

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:  # noqa: A002
        if input.ndim not in (1, 2):
            raise ValueError(f"GRUCell: Expected input to be 1D or 2D, got {input.ndim}D instead")
        if hx is not None and hx.ndim not in (1, 2):
            raise ValueError(f"GRUCell: Expected hidden to be 1D or 2D, got {hx.ndim}D instead")
        if input.shape[-1] != self.input_size:
            raise RuntimeError(
                f"GRUCell: input has {input.shape[-1]} features, expected input_size="
                f"{self.input_size}"
            )
        batched = input.ndim == 2
        if not batched:
            input = input.unsqueeze(0)
        if hx is None:
            hx = wrap(np.zeros((input.shape[0], self.hidden_size), dtype=input.dtype))
        elif not batched:
            hx = hx.unsqueeze(0)
        if hx.shape != (input.shape[0], self.hidden_size):
            raise RuntimeError(
                f"GRUCell: hidden state has shape {tuple(hx.shape)}, expected "
                f"{(input.shape[0], self.hidden_size)}"
            )
        gi = _LinearOp.apply(input, self.weight_ih, self.bias_ih)
        h = _gru_step(gi, hx, self.weight_hh, self.bias_hh, self.hidden_size)
        return h if batched else h.squeeze(0)

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        return s


class GRU(Module):
    """A multi-layer GRU over a sequence (equations in the module docstring); layer k > 0
    reads the hidden states of layer k - 1 (after dropout, in training, if ``dropout``).

    Args:
        input_size: features of x_t.
        hidden_size: features of h_t (H).
        num_layers: stacked layers.
        bias: learn the b_ih and b_hh biases.
        batch_first: input and output are (N, L, *) instead of (L, N, *).
        dropout: dropout probability on the outputs of every layer but the last.
        bidirectional: also run each layer backwards in time and concatenate.

    Shapes: input (L, N, H_in), (N, L, H_in) with batch_first, or unbatched (L, H_in);
    h0 (D * num_layers, N, H) or unbatched (D * num_layers, H), zeros if omitted, D = 2 if
    bidirectional else 1. Returns (output (L, N, D * H) in the input's layout, h_n like h0).

    Parameters are named as PyTorch's: ``weight_ih_l{k}``, ``weight_hh_l{k}``,
    ``bias_ih_l{k}``, ``bias_hh_l{k}``, with ``_reverse`` for the backward direction.
    """

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
        if not isinstance(input_size, int) or input_size <= 0:
            raise ValueError(f"input_size must be a positive int, got {input_size!r}")
        if not isinstance(hidden_size, int) or hidden_size <= 0:
            raise ValueError(f"hidden_size must be a positive int, got {hidden_size!r}")
        if num_layers <= 0:
            raise ValueError(f"num_layers must be greater than zero, got {num_layers}")
        dt = _dtypes.to_dtype(dtype)
        self.mode = "GRU"
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.bias = bias
        self.batch_first = batch_first
        self.dropout = float(dropout)
        self.bidirectional = bidirectional
        self.proj_size = 0
        num_directions = 2 if bidirectional else 1
        self._flat_weights_names = []
        for layer in range(num_layers):
            for direction in range(num_directions):
                layer_in = input_size if layer == 0 else hidden_size * num_directions
                sfx = "_reverse" if direction == 1 else ""
                names = [f"weight_ih_l{layer}{sfx}", f"weight_hh_l{layer}{sfx}"]
                shapes = [(3 * hidden_size, layer_in), (3 * hidden_size, hidden_size)]
                if bias:
                    names += [f"bias_ih_l{layer}{sfx}", f"bias_hh_l{layer}{sfx}"]
                    shapes += [(3 * hidden_size,), (3 * hidden_size,)]
                for name, shape in zip(names, shapes):
                    setattr(self, name, Parameter(np.empty(shape, dtype=dt)))
                self._flat_weights_names.extend(names)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        _uniform_all(self, self.hidden_size)

    @property
    def all_weights(self) -> list:
        return [[getattr(self, n) for n in self._flat_weights_names]]

    def _weights(self, layer: int, direction: int):
        sfx = "_reverse" if direction == 1 else ""
        p = self._parameters
        return (
            p[f"weight_ih_l{layer}{sfx}"],
            p[f"weight_hh_l{layer}{sfx}"],
            p.get(f"bias_ih_l{layer}{sfx}"),
            p.get(f"bias_hh_l{layer}{sfx}"),
        )

    def forward(self, input: Tensor, hx: Tensor | None = None):  # noqa: A002
        if input.ndim not in (2, 3):
            raise ValueError(f"GRU: Expected input to be 2D or 3D, got {input.ndim}D instead")
        batched = input.ndim == 3
        if not batched:
            input = input.unsqueeze(1)  # (L, 1, H_in): the layout is (L, N, ·) below
            if hx is not None:
                if hx.ndim != 2:
                    raise RuntimeError(
                        f"For unbatched 2-D input, hx should also be 2-D but got {hx.ndim}-D tensor"
                    )
                hx = hx.unsqueeze(1)
        else:
            if hx is not None and hx.ndim != 3:
                raise RuntimeError(
                    f"For batched 3-D input, hx should also be 3-D but got {hx.ndim}-D tensor"
                )
            if self.batch_first:
                input = input.transpose(0, 1)
        w0 = self._parameters["weight_ih_l0"]
        if input.dtype != w0.dtype:
            raise ValueError(
                f"GRU input dtype ({input.dtype}) does not match weight dtype ({w0.dtype}). "
                f"Convert input: input.to({w0.dtype}), or convert model: model.to({input.dtype})"
            )
        if input.shape[-1] != self.input_size:
            raise RuntimeError(
                f"input.size(-1) must be equal to input_size. Expected {self.input_size}, "
                f"got {input.shape[-1]}"
            )
        seq_len, batch = input.shape[0], input.shape[1]
        num_directions = 2 if self.bidirectional else 1
        expected = (self.num_layers * num_directions, batch, self.hidden_size)
        if hx is None:
            hx = wrap(np.zeros(expected, dtype=input.dtype))
        elif tuple(hx.shape) != expected:
            raise RuntimeError(f"Expected hidden size {expected}, got {list(hx.shape)}")

        layer_input = input
        h_n = []
        for layer in range(self.num_layers):
            outs = []
            for direction in range(num_directions):
                w_ih, w_hh, b_ih, b_hh = self._weights(layer, direction)
                # The input projections of all time steps in one product.
                gi = _LinearOp.apply(layer_input, w_ih, b_ih)
                h = hx[layer * num_directions + direction]
                steps = range(seq_len - 1, -1, -1) if direction == 1 else range(seq_len)
                hs = [None] * seq_len
                for t in steps:
                    h = _gru_step(gi[t], h, w_hh, b_hh, self.hidden_size)
                    hs[t] = h
                outs.append(stack(hs, 0) if seq_len else gi[..., : self.hidden_size])
                h_n.append(h)
            layer_output = outs[0] if num_directions == 1 else cat(outs, -1)
            if self.dropout and self.training and layer < self.num_layers - 1:
                layer_output = F.dropout(layer_output, self.dropout, True)
            layer_input = layer_output
        output = layer_input
        h_n = stack(h_n, 0)
        if not batched:
            return output.squeeze(1), h_n.squeeze(1)
        if self.batch_first:
            output = output.transpose(0, 1)
        return output, h_n

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
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
