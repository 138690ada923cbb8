"""Elementwise ops. Operands broadcast as in NumPy; the engine sums gradients back.

Binary ops take two Tensors or a Tensor and a Python number (kept as a weak scalar, so
float32 stays float32). ``backward`` returns one gradient per input (None for constants).
The lecture's rules appear here: ADDITION passes delta_c to both operands; HADAMARD
multiplies it by the other operand; FUNCTION multiplies it by f'(a).
"""

from __future__ import annotations

import numpy as np

from gradfit import _vecmath
from gradfit._fused import fused
from gradfit.autograd.function import Op


def check_integer_divisor(a: np.ndarray, b) -> None:
    """PyTorch's error for an integer division (floor or trunc rounding, remainder, fmod)
    by zero, which NumPy answers with 0 and a warning."""
    if np.result_type(a, b).kind in "iu" and not np.all(b):
        raise RuntimeError("ZeroDivisionError")


def piecewise_linear_graph(ctx, g):
    """``backward_graph`` of an op whose derivative is constant between kinks (relu, abs,
    clamp, hardtanh, ...): the local derivative is a constant array (its second
    derivative is zero almost everywhere), so g times it is recorded as one product."""
    local = type(ctx).backward(ctx, np.ones(g.shape, dtype=g.dtype))
    if type(local) is not tuple:
        return g * local
    return tuple(None if d is None else g * d for d in local)


def _wants(ctx, i: int) -> bool:
    t = ctx.inputs[i]
    return getattr(t, "_requires_grad", False)


def _read_for_the_other(self, i: int) -> bool:
    """``reads_input`` of a product: each operand is read for the other's gradient only."""
    return _wants(self, 1 - i)


class Add(Op):
    """c = a + b;  delta_a = delta_c, delta_b = delta_c."""

    saves_inputs = False

    @staticmethod
    def forward(ctx, a, b):
        return a + b

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output, grad_output

    @staticmethod
    def backward_graph(ctx, g):
        return g, g


class Sub(Op):
    saves_inputs = False

    @staticmethod
    def forward(ctx, a, b):
        return a - b

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output, -grad_output if _wants(ctx, 1) else None

    @staticmethod
    def backward_graph(ctx, g):
        return g, -g if _wants(ctx, 1) else None


class Mul(Op):
    """Hadamard product c = a * b;  delta_a = delta_c * b, delta_b = delta_c * a."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.a, ctx.b = a, b
        return a * b

    @staticmethod
    def backward(ctx, grad_output):
        ga = grad_output * ctx.b if _wants(ctx, 0) else None
        gb = grad_output * ctx.a if _wants(ctx, 1) else None
        return ga, gb

    reads_input = _read_for_the_other

    @staticmethod
    def backward_graph(ctx, g):
        a, b = ctx.inputs
        return (g * b if _wants(ctx, 0) else None), (g * a if _wants(ctx, 1) else None)


class Div(Op):
    @staticmethod
    def forward(ctx, a, b):
        ctx.a, ctx.b = a, b
        return a / b

    @staticmethod
    def backward(ctx, grad_output):
        ga = grad_output / ctx.b if _wants(ctx, 0) else None
        # PyTorch's div_tensor_other_backward: -grad * ((a / b) / b), rounded in that order
        gb = -grad_output * ((ctx.a / ctx.b) / ctx.b) if _wants(ctx, 1) else None
        return ga, gb

    def reads_input(self, i: int) -> bool:
        # The divisor is read for both gradients, the dividend for the divisor's only.
        return i == 1 or _wants(self, 1)

    @staticmethod
    def backward_graph(ctx, g):
        a, b = ctx.inputs
        ga = g / b if _wants(ctx, 0) else None
        gb = -g * ((a / b) / b) if _wants(ctx, 1) else None
        return ga, gb


class Neg(Op):
    saves_inputs = False

    @staticmethod
    def forward(ctx, a):
        return -a

    @staticmethod
    def backward(ctx, grad_output):
        return -grad_output

    @staticmethod
    def backward_graph(ctx, g):
        return -g


def pow_array(a: np.ndarray, b):
    """a ** b rounded as PyTorch's CPU kernel (aten/src/ATen/native/cpu/PowKernel.cpp):
    for a float tensor and a number exponent, 2, 3, -2, 0.5, -0.5 and -1 are computed as
    a*a, a*a*a, 1/(a*a), sqrt(a), 1/sqrt(a) and 1/a. Other number exponents of a float32
    tensor go through a double-precision pow rounded to float32, as the kernel's scalar
    path (std::pow(float, double)) does: it agrees with PyTorch's vectorised pow on ~98 %
    of inputs, where a float32 np.power agrees on ~80 %."""
    if a.dtype.kind == "f" and isinstance(b, int | float) and not isinstance(b, bool):
        if b == 2:
            return a * a
        if b == 3:
            return a * a * a
        if b == -2:
            return 1 / (a * a)
        if b == 0.5:
            return np.sqrt(a)
        if b == -0.5:
            return 1 / np.sqrt(a)
        if b == -1:
            return 1 / a
        if a.dtype == np.float32:
            return np.power(a.astype(np.float64), b).astype(np.float32)
    if a.dtype.kind in "iu" and np.min(b, initial=0) < 0:
        return _negative_integer_power(a, b)
    return np.power(a, b)


def _negative_integer_power(a: np.ndarray, b) -> np.ndarray:
    """Integers to integer powers some of which are negative, as PyTorch's ``powi``: a
    number exponent is refused; a tensor's negative exponents give 1 for a base of 1,
    +-1 for -1 (by the exponent's parity) and 0 otherwise (NumPy refuses both)."""
    if not isinstance(b, np.ndarray):
        raise RuntimeError("Integers to negative integer powers are not allowed.")
    negative = b < 0
    out = np.power(a, np.where(negative, 0, b)).astype(a.dtype, copy=False)
    small = np.where(a == -1, np.where(b % 2 == 0, 1, -1), np.where(a == 1, 1, 0))
    return np.where(negative, small, out).astype(out.dtype, copy=False)


class Pow(Op):
    """a ** b, with a scalar or tensor exponent (rounded as PyTorch's: ``pow_array``).

    d/da = b * a^(b-1); d/db = a^b * log(a), set to 0 where a == 0 and b >= 0 (PyTorch's
    convention, so 0 ** 2 has a finite exponent gradient).
    """

    @staticmethod
    def forward(ctx, a, b):
        with np.errstate(divide="ignore", invalid="ignore"):
            out = pow_array(a, b)
        ctx.a, ctx.b, ctx.out = a, b, out
        # A tensor exponent's gradient reads the output (PyTorch saves it then, too).
        ctx.saves_output = isinstance(b, np.ndarray)
        return out

    @staticmethod
    def backward(ctx, grad_output):
        a, b = ctx.a, ctx.b
        ga = gb = None
        if _wants(ctx, 0):
            with np.errstate(divide="ignore", invalid="ignore"):
                ga = grad_output * (b * pow_array(a, b - 1))
            if np.ndim(b) == 0 and b == 0:
                ga = np.zeros_like(ga)
        if _wants(ctx, 1):
            with np.errstate(divide="ignore", invalid="ignore"):
                gb = grad_output * ctx.out * np.log(a)
            gb = np.where((a == 0) & (b >= 0), 0, gb).astype(gb.dtype, copy=False)
        return ga, gb

    @staticmethod
    def backward_graph(ctx, g):
        a, b = ctx.inputs
        ga = gb = None
        if _wants(ctx, 0):
            ga = g * 0 if np.ndim(ctx.b) == 0 and ctx.b == 0 else g * (b * a ** (b - 1))
        if _wants(ctx, 1):
            zero = (ctx.a == 0) & (ctx.b >= 0)
            gb = Where.apply(zero, zero_of(g.dtype), g * a**b * Log.apply(a))
        return ga, gb


class _Unary(Op):
    """Pointwise f(a) with the lecture's FUNCTION rule: delta_a = delta_b * f'(a)."""


class Reciprocal(_Unary):
    """1 / a; PyTorch's derivative -grad * (r * r) of the result r (derivatives.yaml)."""

    saves_inputs = False
    saves_output = True

    @staticmethod
    def forward(ctx, a):
        with np.errstate(divide="ignore", invalid="ignore"):  # inf and nan, as PyTorch
            ctx.out = 1 / a
        return ctx.out

    @staticmethod
    def backward(ctx, grad_output):
        r = ctx.out
        return -grad_output * (r * r)

    @staticmethod
    def backward_graph(ctx, g):
        r = Reciprocal.apply(ctx.inputs[0])
        return -g * (r * r)


class Rsqrt(_Unary):
    """1 / sqrt(a); PyTorch's derivative -0.5 * grad * r**3 of the result r."""

    saves_inputs = False
    saves_output = True

    @staticmethod
    def forward(ctx, a):
        with np.errstate(divide="ignore", invalid="ignore"):  # inf and nan, as PyTorch
            ctx.out = 1 / np.sqrt(a)
        return ctx.out

    @staticmethod
    def backward(ctx, grad_output):
        r = ctx.out
        return (-0.5 * grad_output) * (r * r * r)

    @staticmethod
    def backward_graph(ctx, g):
        r = Rsqrt.apply(ctx.inputs[0])
        return (-0.5 * g) * (r * r * r)


class Exp(_Unary):
    saves_inputs = False
    saves_output = True

    @staticmethod
    def forward(ctx, a):
        ctx.out = np.exp(a)
        return ctx.out

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output * ctx.out

    @staticmethod
    def backward_graph(ctx, g):
        return g * Exp.apply(ctx.inputs[0])


class Log(_Unary):
    @staticmethod
    def forward(ctx, a):
        ctx.a = a
        return np.log(a)

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output / ctx.a

    @staticmethod
    def backward_graph(ctx, g):
        return g / ctx.inputs[0]


class Log1p(_Unary):
    @staticmethod
    def forward(ctx, a):
        ctx.a = a
        return np.log1p(a)

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output / (1 + ctx.a)

    @staticmethod
    def backward_graph(ctx, g):
        return g / (1 + ctx.inputs[0])


class Sqrt(_Unary):
    saves_inputs = False
    saves_output = True

    @staticmethod
    def forward(ctx, a):
        ctx.out = np.sqrt(a)
        return ctx.out

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output / (2 * ctx.out)

    @staticmethod
    def backward_graph(ctx, g):
        return g / (2 * Sqrt.apply(ctx.inputs[0]))


class Abs(_Unary):
    @staticmethod
    def forward(ctx, a):
        ctx.a = a
        return np.abs(a)

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output * np.sign(ctx.a)

    @staticmethod
    def backward_graph(ctx, g):
        return g * np.sign(ctx.a)


class Sin(_Unary):
    @staticmethod
    def forward(ctx, a):
        ctx.a = a
        return np.sin(a)

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output * np.cos(ctx.a)

    @staticmethod
    def backward_graph(ctx, g):
        return g * Cos.apply(ctx.inputs[0])


class Cos(_Unary):
    @staticmethod
    def forward(ctx, a):
        ctx.a = a
        return np.cos(a)

    @staticmethod
    def backward(ctx, grad_output):
        return -grad_output * np.sin(ctx.a)

    @staticmethod
    def backward_graph(ctx, g):
        return -g * Sin.apply(ctx.inputs[0])


class Tanh(_Unary):
    saves_inputs = False
    saves_output = True

    @staticmethod
    def forward(ctx, a):
        ctx.out = np.tanh(a)
        return ctx.out

    @staticmethod
    def backward(ctx, grad_output):
        y = ctx.out
        if y.dtype in (np.float32, np.float64):
            # ATen's tanh_backward kernel ``g * (1 - y * y)`` is compiled with fused
            # multiply-adds: 1 - y·y is rounded once, which makemore's manual backward
            # pass ("exact: False" from the tanh on) shows bit for bit
            flat = y.reshape(-1)  # fused writes into arrays: a 0-d product would be a scalar
            return grad_output * fused(-flat, flat, y.dtype.type(1)).reshape(y.shape)
        return grad_output * (1 - y * y)

    @staticmethod
    def backward_graph(ctx, g):
        y = Tanh.apply(ctx.inputs[0])
        return g * (1 - y * y)


def sigmoid_array(a: np.ndarray) -> np.ndarray:
    """Stable logistic 1 / (1 + exp(-a)): exp is only taken of non-positive numbers."""
    if a.dtype.kind == "c":  # no order on complex numbers: the plain formula, as PyTorch
        return 1 / (1 + np.exp(-a))
    e = np.exp(-np.abs(a))
    return np.where(a >= 0, 1 / (1 + e), e / (1 + e)).astype(a.dtype, copy=False)


class Sigmoid(_Unary):
    """sigma(a) = 1 / (1 + exp(-a)), computed without overflow;  sigma' = sigma (1 - sigma)."""

    saves_inputs = False
    saves_output = True

    @staticmethod
    def forward(ctx, a):
        ctx.out = sigmoid_array(a)
        return ctx.out

    @staticmethod
    def backward(ctx, grad_output):
        # ATen's sigmoid_backward kernel rounds (g * (1 - s)) * s in that order
        s = ctx.out
        return (grad_output * (1 - s)) * s

    @staticmethod
    def backward_graph(ctx, g):
        s = Sigmoid.apply(ctx.inputs[0])
        return g * (1 - s) * s


def zero_of(dtype) -> np.ndarray:
    """A read-only 0-d zero of ``dtype``, to compare with (or take the maximum with)
    instead of the Python number 0, which NumPy would convert on every call."""
    z = _ZEROS.get(dtype)
    if z is None:
        z = np.zeros((), dtype)
        z.flags.writeable = False
        _ZEROS[dtype] = z
    return z


_ZEROS: dict = {}


class Relu(_Unary):
    """ReLU a[z] = max(0, z); the derivative is the lecture's indicator I[z > 0]."""

    saves_inputs = False
    saves_output = True

    @staticmethod
    def forward(ctx, a):
        out = np.maximum(a, zero_of(a.dtype))
        ctx.out = out
        return out

    @staticmethod
    def backward(ctx, grad_output):
        # PyTorch passes the gradient where not (out <= 0), NaN included. out = max(a, 0) is
        # >= 0 or NaN, so that is out != 0: one comparison.
        out = ctx.out
        return grad_output * np.not_equal(out, zero_of(out.dtype))

    @staticmethod
    def backward_graph(ctx, g):
        return g * np.not_equal(ctx.out, zero_of(ctx.out.dtype)).astype(g.dtype)


class LeakyRelu(_Unary):
    @staticmethod
    def forward(ctx, a, negative_slope=0.01):
        ctx.a, ctx.slope = a, negative_slope
        return np.where(a > 0, a, a * negative_slope)

    @staticmethod
    def backward(ctx, grad_output):
        return np.where(ctx.a > 0, grad_output, grad_output * ctx.slope)

    @staticmethod
    def backward_graph(ctx, g):
        return g * np.where(ctx.a > 0, 1, ctx.slope).astype(g.dtype)


class Softplus(_Unary):
    """softplus(a) = log(1 + exp(beta a)) / beta, linear above ``threshold`` (PyTorch)."""

    @staticmethod
    def forward(ctx, a, beta=1.0, threshold=20.0):
        ctx.a, ctx.beta, ctx.threshold = a, beta, threshold
        z = a * beta
        soft = (np.log1p(np.exp(-np.abs(z))) + np.maximum(z, 0)) / beta
        return np.where(z > threshold, a, soft)

    @staticmethod
    def backward(ctx, grad_output):
        # ATen's softplus_backward kernel: g * e / (e + 1) with e = exp(beta a), rounded
        # in that order (the linear part passes g); float32 takes SLEEF's expf as it does
        z = ctx.a * ctx.beta
        above = z > ctx.threshold
        z = np.where(above, 0, z).astype(z.dtype, copy=False)
        with np.errstate(over="ignore"):
            # (expf writes into arrays: a 0-d one goes in flattened)
            e = (
                _vecmath.expf(z.reshape(-1)).reshape(z.shape)
                if z.dtype == np.float32
                else np.exp(z)
            )
        return np.where(above, grad_output, grad_output * e / (e + 1))

    @staticmethod
    def backward_graph(ctx, g):
        z = ctx.inputs[0] * ctx.beta
        return Where.apply(ctx.a * ctx.beta > ctx.threshold, g, g * Sigmoid.apply(z))


def _bound(bound, dtype):
    """A clamp bound as an array: a tensor's own, a number taken in ``dtype`` (wrapping as
    a C cast does: -1 is 255 for uint8)."""
    if bound is None:
        return None
    array = getattr(bound, "_array", None)
    return np.array(bound).astype(dtype) if array is None else array


class Clamp(_Unary):
    """clamp(a, min, max); the gradient passes where min <= a <= max (PyTorch)."""

    @staticmethod
    def forward(ctx, a, min=None, max=None):  # noqa: A002
        lo, hi = _bound(min, a.dtype), _bound(max, a.dtype)
        ctx.a, ctx.lo, ctx.hi = a, lo, hi
        out = a
        if lo is not None:
            out = np.maximum(out, lo)
        if hi is not None:
            out = np.minimum(out, hi)
        return out.astype(a.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad_output):
        mask = np.ones(ctx.a.shape, dtype=bool)
        if ctx.lo is not None:
            mask &= ctx.a >= ctx.lo
        if ctx.hi is not None:
            mask &= ctx.a <= ctx.hi
        return grad_output * mask

    @staticmethod
    def backward_graph(ctx, g):
        mask = np.ones(ctx.a.shape, dtype=bool)
        if ctx.lo is not None:
            mask &= ctx.a >= ctx.lo
        if ctx.hi is not None:
            mask &= ctx.a <= ctx.hi
        return g * mask.astype(g.dtype)


class Maximum(Op):
    """max(a, b) elementwise; at ties each operand gets half the gradient (PyTorch)."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.a, ctx.b = a, b
        return np.maximum(a, b)

    @staticmethod
    def backward(ctx, grad_output):
        return _split_ties(grad_output, ctx.a > ctx.b, ctx.a == ctx.b)

    @staticmethod
    def backward_graph(ctx, g):
        return _split_ties_graph(g, ctx.a > ctx.b, ctx.a == ctx.b)


class Minimum(Op):
    @staticmethod
    def forward(ctx, a, b):
        ctx.a, ctx.b = a, b
        return np.minimum(a, b)

    @staticmethod
    def backward(ctx, grad_output):
        return _split_ties(grad_output, ctx.a < ctx.b, ctx.a == ctx.b)

    @staticmethod
    def backward_graph(ctx, g):
        return _split_ties_graph(g, ctx.a < ctx.b, ctx.a == ctx.b)


def _split_ties_graph(g, a_wins, tie):
    wa = (a_wins + 0.5 * tie).astype(g.dtype)
    ga = g * wa
    return ga, g - ga


def _split_ties(g, a_wins, tie):
    wa = a_wins + 0.5 * tie
    ga = g * wa.astype(g.dtype, copy=False)
    return ga, g - ga


class Where(Op):
    """where(cond, a, b): the gradient goes to a where cond holds, to b elsewhere."""

    def reads_input(self, i: int) -> bool:
        return i == 0  # the condition, not the values it chooses between

    @staticmethod
    def forward(ctx, cond, a, b):
        ctx.cond = np.asarray(cond, dtype=bool)
        out = np.where(ctx.cond, a, b)
        return out

    @staticmethod
    def backward(ctx, grad_output):
        zero = np.zeros((), dtype=grad_output.dtype)
        ga = np.where(ctx.cond, grad_output, zero) if _wants(ctx, 1) else None
        gb = np.where(ctx.cond, zero, grad_output) if _wants(ctx, 2) else None
        return None, ga, gb

    @staticmethod
    def backward_graph(ctx, g):
        zero = zero_of(g.dtype)
        ga = Where.apply(ctx.cond, g, zero) if _wants(ctx, 1) else None
        gb = Where.apply(ctx.cond, zero, g) if _wants(ctx, 2) else None
        return None, ga, gb
