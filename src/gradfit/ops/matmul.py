"""Matrix products: the lecture's MATRIX MULTIPLY rule, b = W a => delta_a = W^T delta_b,
and the fused ``linear`` op (x W^T + b) used by nn.Linear."""

from __future__ import annotations

import numpy as np

from gradfit._typenames import C_NAMES, scalar_type
from gradfit.autograd.function import Op, broadcast_error


def _t(x: np.ndarray) -> np.ndarray:
    return np.swapaxes(x, -1, -2)


class MatMul(Op):
    """``np.matmul`` semantics: 1-D operands are promoted and the added axis removed;
    batch axes broadcast (the engine sums batch gradients back)."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.a, ctx.b = a, b
        if a.ndim == 2 and b.ndim == 2:
            return a.dot(b)  # same gemm as matmul, less dispatch (see Linear)
        return np.matmul(a, b)

    @staticmethod
    def backward(ctx, grad_output):
        a, b, g = ctx.a, ctx.b, grad_output
        if a.ndim == 2 and b.ndim == 2:
            inputs = ctx.inputs
            ga = g.dot(b.T) if getattr(inputs[0], "_requires_grad", False) else None
            gb = a.T.dot(g) if getattr(inputs[1], "_requires_grad", False) else None
            return ga, gb
        if a.ndim == 1 and b.ndim == 1:
            return g * b, g * a
        if a.ndim == 1:  # (k) @ (..., k, m) -> (..., m)
            ga = np.matmul(g[..., None, :], _t(b))[..., 0, :]
            gb = a[:, None] * g[..., None, :]
            return ga, gb
        if b.ndim == 1:  # (..., n, k) @ (k) -> (..., n)
            ga = g[..., :, None] * b
            gb = np.matmul(_t(a), g[..., :, None])[..., 0]
            return ga, gb
        ga = np.matmul(g, _t(b)) if getattr(ctx.inputs[0], "_requires_grad", False) else None
        gb = np.matmul(_t(a), g) if getattr(ctx.inputs[1], "_requires_grad", False) else None
        return ga, gb

    @staticmethod
    def backward_graph(ctx, g):
        a, b = ctx.inputs
        wa = getattr(a, "_requires_grad", False)
        wb = getattr(b, "_requires_grad", False)
        if a.ndim == 1 and b.ndim == 1:
            return g * b if wa else None, g * a if wb else None
        if a.ndim == 1:  # (k) @ (..., k, m) -> (..., m)
            ga = (g.unsqueeze(-2) @ b.transpose(-1, -2)).squeeze(-2) if wa else None
            gb = a.unsqueeze(-1) * g.unsqueeze(-2) if wb else None
            return ga, gb
        if b.ndim == 1:  # (..., n, k) @ (k) -> (..., n)
            ga = g.unsqueeze(-1) * b if wa else None
            gb = (a.transpose(-1, -2) @ g.unsqueeze(-1)).squeeze(-1) if wb else None
            return ga, gb
        ga = g @ b.transpose(-1, -2) if wa else None
        gb = a.transpose(-1, -2) @ g if wb else None
        return ga, gb

    def reads_input(self, i: int) -> bool:
        # Each operand is read for the other's gradient only (PyTorch saves it then).
        return getattr(self.inputs[1 - i], "_requires_grad", False)


def matmul(a, b):
    # The arrays' own shapes: Tensor.shape builds a Size on every read.
    shape_a, shape_b = a._array.shape, b._array.shape
    if not shape_a or not shape_b:
        raise RuntimeError(
            f"both arguments to matmul need to be at least 1D, but they are {len(shape_a)}D "
            f"and {len(shape_b)}D"
        )
    k_a = shape_a[-1]
    k_b = shape_b[0] if len(shape_b) == 1 else shape_b[-2]
    if k_a != k_b:
        raise RuntimeError(_mismatch(shape_a, shape_b))
    if len(shape_b) > 2 and len(shape_a) > 1:
        batch_a, batch_b = shape_a[:-2], shape_b[:-2]
        message = broadcast_error([batch_a, batch_b])
        if message:
            raise RuntimeError(message)
    if a._array.dtype != b._array.dtype:
        raise RuntimeError(
            "expected m1 and m2 to have the same dtype, but got: "
            f"{C_NAMES[a._array.dtype]} != {C_NAMES[b._array.dtype]}"
        )
    return MatMul.apply(a, b)


def _mismatch(shape_a: tuple, shape_b: tuple) -> str:
    """PyTorch's message for inner sizes that differ, by the kernel its matmul picks."""
    if len(shape_a) == 1 and len(shape_b) == 1:
        return (
            f"inconsistent tensor size, expected tensor [{shape_a[0]}] and src [{shape_b[0]}] "
            f"to have the same number of elements, but got {shape_a[0]} and {shape_b[0]} "
            "elements respectively"
        )
    rows = int(np.prod(shape_a[:-1]))  # a batch is folded into the rows of one product
    if len(shape_b) == 1:
        return f"size mismatch, got input ({rows}), mat ({rows}x{shape_a[-1]}), vec ({shape_b[0]})"
    if len(shape_b) == 2:
        return mat_mismatch(rows, shape_a[-1], shape_b)
    batch = np.broadcast_shapes(shape_a[:-2], shape_b[:-2])
    n = int(np.prod(batch))
    return (
        f"Expected size for first two dimensions of batch2 tensor to be: [{n}, {shape_a[-1]}] "
        f"but got: [{n}, {shape_b[-2]}]."
    )


def mat_mismatch(rows: int, k: int, shape_b: tuple) -> str:
    return f"mat1 and mat2 shapes cannot be multiplied ({rows}x{k} and {shape_b[0]}x{shape_b[1]})"


class Linear(Op):
    """y = x W^T + b for x of shape (..., in), W (out, in), b (out,) or None.

    One node instead of three (matmul, transpose, add): the lecture's program is made of
    small tensors, where per-node Python overhead, not arithmetic, sets the speed. For 2-D
    inputs the products use ``ndarray.dot``, which calls the same BLAS gemm as
    ``np.matmul`` (transposed operands included, no copies) without matmul's gufunc
    dispatch or ``np.dot``'s ``__array_function__`` one (an MLP's training step makes
    eight such calls).
    """

    @staticmethod
    def forward(ctx, x, weight, bias=None):
        # Equal dtypes are one object (NumPy's built-in descriptors), so "is not" settles
        # the common case; a feature mismatch is found by the product itself.
        if x.ndim == 0 or (x.dtype is not weight.dtype and x.dtype != weight.dtype):
            _linear_error(x, weight)
        given, shape = x, None
        if x.ndim > 2:
            # One (batch*..., in) gemm: np.matmul on a stack loops over small gemms, and
            # over a non-contiguous stack (a transposed batch_first input) without BLAS.
            shape = x.shape[:-1] + (weight.shape[0],)
            x = x.reshape(-1, x.shape[-1])
        ctx.x, ctx.weight, ctx.shape, ctx.has_bias = x, weight, shape, bias is not None
        try:
            out = x.dot(weight.T) if x.ndim == 2 else np.matmul(x, weight.T)
        except ValueError:
            if given.shape[-1] != weight.shape[-1]:
                _linear_error(given, weight)
            raise
        if bias is not None:
            out += bias
        return out if shape is None else out.reshape(shape)

    @staticmethod
    def backward(ctx, grad_output):
        x, w, g = ctx.x, ctx.weight, grad_output
        inputs = ctx.inputs
        gx = gw = gb = None
        if ctx.shape is not None:
            g = g.reshape(-1, g.shape[-1])
            if inputs[0]._requires_grad:
                gx = g.dot(w).reshape(inputs[0]._array.shape)
            if inputs[1]._requires_grad:
                gw = g.T.dot(x)
            if len(inputs) > 2 and inputs[2] is not None and inputs[2]._requires_grad:
                gb = _add_reduce(g, 0)
            return gx, gw, gb
        if x.ndim == 2:
            if inputs[0]._requires_grad:
                gx = g.dot(w)
            if inputs[1]._requires_grad:
                gw = g.T.dot(x)
            if len(inputs) > 2 and inputs[2] is not None and inputs[2]._requires_grad:
                gb = _add_reduce(g, 0)
            return gx, gw, gb
        if inputs[0]._requires_grad:
            gx = np.matmul(g, w)
        if inputs[1]._requires_grad:
            if x.ndim == 1:
                gw = np.outer(g, x)
            else:
                gw = np.matmul(g.reshape(-1, g.shape[-1]).T, x.reshape(-1, x.shape[-1]))
        if len(inputs) > 2 and inputs[2] is not None and inputs[2]._requires_grad:
            gb = g.sum(axis=tuple(range(g.ndim - 1))) if g.ndim > 1 else g
        return gx, gw, gb

    @staticmethod
    def composite(x, weight, bias=None):
        out = x @ weight.transpose(0, 1) if weight.ndim == 2 else x @ weight
        return out if bias is None else out + bias

    def reads_input(self, i: int) -> bool:
        # x is read for the weight's gradient, the weight for x's; the bias never.
        return i < 2 and self.inputs[1 - i]._requires_grad


_add_reduce = np.add.reduce


def _linear_error(a: np.ndarray, w: np.ndarray) -> None:
    # PyTorch's messages: linear is a product with the transposed weight
    if a.ndim == 0:
        raise RuntimeError(
            f"both arguments to linear need to be at least 1D, but they are 0D and {w.ndim}D"
        )
    if a.shape[-1] != w.shape[-1]:
        raise RuntimeError(mat_mismatch(int(np.prod(a.shape[:-1])), a.shape[-1], w.shape[::-1]))
    raise RuntimeError(
        f"mat1 and mat2 must have the same dtype, but got {scalar_type(a.dtype)} and "
        f"{scalar_type(w.dtype)}"
    )
