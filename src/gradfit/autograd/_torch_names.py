"""PyTorch's names for gradfit's graph nodes (``grad_fn=<AddmmBackward0>``).

Programs and users print ``grad_fn``; the names tell what the engine recorded, and printed
output is compared with PyTorch's. One gradfit op can stand for several PyTorch functions
(``Reshape`` is ``view``, ``unsqueeze`` and ``squeeze``; ``Linear`` is ``addmm`` or ``mm``),
so an entry is either PyTorch's name or a function of the node choosing it from the inputs
the node recorded. Tensor methods that share an op with others name their node themselves
(``node.torch_name``, set by ``tensor._named``), which wins over this table.
"""

from __future__ import annotations

import numpy as np


def _is_tensor(x) -> bool:
    return hasattr(x, "grad_fn")


def _ndim(x) -> int:
    return x._array.ndim if _is_tensor(x) else np.ndim(x)


def _sub(node) -> str:
    return "SubBackward0" if _is_tensor(node.inputs[0]) else "RsubBackward1"


def _div(node) -> str:
    # PyTorch computes ``number / x`` as ``x.reciprocal() * number``.
    return "DivBackward0" if _is_tensor(node.inputs[0]) else "MulBackward0"


def _pow(node) -> str:
    base, exponent = node.inputs[0], node.inputs[1]
    if not _is_tensor(exponent):
        return "PowBackward0"
    if _is_tensor(base) and not base.requires_grad and _ndim(base) == 0:
        return "PowBackward2"  # number ** tensor
    return "PowBackward1"


def _matmul(node) -> str:
    a, b = _ndim(node.inputs[0]), _ndim(node.inputs[1])
    if a == 1 and b == 1:
        return "DotBackward0"
    if a == 2 and b == 2:
        return "MmBackward0"
    if a == 2 and b == 1:
        return "MvBackward0"
    if a == 1 and b == 2:
        return "SqueezeBackward4"
    return "UnsafeViewBackward0"


def _linear(node) -> str:
    # from what the forward saved (the input as a matrix, its original shape if it had
    # more dimensions), which backward keeps: nothing to pin before the graph is freed
    if node.shape is None and node.x.ndim == 2:
        return "AddmmBackward0" if node.has_bias else "MmBackward0"
    if node.has_bias:
        return "ViewBackward0"
    return "SqueezeBackward4" if node.x.ndim == 1 else "UnsafeViewBackward0"


_linear.reads_inputs = False


def _reshape(node) -> str:
    x = node.inputs[0]
    contiguous = x._array.flags.c_contiguous if _is_tensor(x) else True
    return "ViewBackward0" if contiguous else "UnsafeViewBackward0"


def _index(node) -> str:
    """The node of the last view PyTorch's indexing applies, left to right: an int selects,
    ``None`` unsqueezes, a slice slices (inside a tuple a slice over a whole dimension is
    skipped); nothing applied is an alias (``x[...]``)."""
    raw = node.index
    index = raw if isinstance(raw, tuple) else (raw,)
    if any(isinstance(i, np.ndarray | list) for i in index):
        return "IndexBackward0"
    if not isinstance(raw, tuple):
        if isinstance(raw, slice):
            return "SliceBackward0"
        if raw is None:
            return "UnsqueezeBackward0"
        return "AliasBackward0" if raw is Ellipsis else "SelectBackward0"
    shape = np.shape(node.inputs[0]._array) if _is_tensor(node.inputs[0]) else ()
    used = sum(1 for i in index if i is not None and i is not Ellipsis)
    name, dim = "AliasBackward0", 0
    for i in index:
        if i is None:
            name = "UnsqueezeBackward0"
        elif i is Ellipsis:
            dim += max(len(shape) - used, 0)
        elif isinstance(i, slice):
            if dim < len(shape) and i.indices(shape[dim]) != (0, shape[dim], 1):
                name = "SliceBackward0"
            dim += 1
        else:
            name = "SelectBackward0"
            dim += 1
    return name


def _reduced(name: str):
    """``sum()``/``mean()`` over everything is overload 0, over ``dim`` overload 1."""

    def pick(node) -> str:
        return f"{name}Backward0" if node.dim is None else f"{name}Backward1"

    return pick


def _l1(node) -> str:
    return {"mean": "MeanBackward0", "sum": "SumBackward0"}.get(node.reduction, "AbsBackward0")


def _prob_ce(node) -> str:
    return {"mean": "DivBackward1", "sum": "NegBackward0"}.get(
        getattr(node, "reduction", "mean"), "NegBackward0"
    )


def _step(node) -> str:
    fn = node.kwargs.get("fn", "floor")
    if fn.startswith("div_"):
        return "DivBackward2"
    if fn == "round":
        return "RoundBackward1" if "decimals" in node.kwargs else "RoundBackward0"
    return fn.capitalize() + "Backward0"


TORCH_NAMES = {
    "Step": _step,
    "FloorDivide": "NotImplemented",
    "Add": "AddBackward0",
    "Sub": _sub,
    "Mul": "MulBackward0",
    "Div": _div,
    "Neg": "NegBackward0",
    "Pow": _pow,
    "Exp": "ExpBackward0",
    "Expm1": "Expm1Backward0",
    "Log": "LogBackward0",
    "Log1p": "Log1PBackward0",
    "Sqrt": "SqrtBackward0",
    "Abs": "AbsBackward0",
    "Sin": "SinBackward0",
    "Cos": "CosBackward0",
    "Tanh": "TanhBackward0",
    "Sigmoid": "SigmoidBackward0",
    "Relu": "ReluBackward0",
    "LeakyRelu": "LeakyReluBackward0",
    "Softplus": "SoftplusBackward0",
    "Clamp": "ClampBackward1",
    "Maximum": "MaximumBackward0",
    "Minimum": "MinimumBackward0",
    "Where": "WhereBackward0",
    "Gelu": "GeluBackward0",
    "Silu": "SiluBackward0",
    "LayerNorm": "NativeLayerNormBackward0",
    "MSELoss": "MseLossBackward0",
    "L1Loss": _l1,
    "HuberLoss": "HuberLossBackward0",
    "SmoothL1Loss": "SmoothL1LossBackward0",
    "CrossEntropyLoss": "NllLossBackward0",
    "NLLLoss": "NllLossBackward0",
    "CrossEntropyProbLoss": _prob_ce,
    "BCELoss": "BinaryCrossEntropyBackward0",
    "BCEWithLogitsLoss": "BinaryCrossEntropyWithLogitsBackward0",
    "MatMul": _matmul,
    "Linear": _linear,
    "Reshape": _reshape,
    "Permute": "PermuteBackward0",
    "Expand": "ExpandBackward0",
    "Index": _index,
    "Cat": "CatBackward0",
    "Contiguous": "CloneBackward0",
    "Cast": "ToCopyBackward0",
    "Sum": _reduced("Sum"),
    "Mean": _reduced("Mean"),
    "Var": "VarBackward0",
    "AMax": "AmaxBackward0",
    "TakeAlong": "GatherBackward0",
    "LogSumExp": "LogsumexpBackward0",
    "Softmax": "SoftmaxBackward0",
    "LogSoftmax": "LogSoftmaxBackward0",
}


def _pool(kind: str):
    """Pooling over 1-D signals is a 2-D pool plus a squeeze in PyTorch; 2-D and 3-D pools
    have their own nodes. The spatial rank is read from the (batched) input."""

    def pick(node) -> str:
        rank = _ndim(node.inputs[0]) - 2
        if rank <= 1:
            return "SqueezeBackward1"
        return kind.format(d=rank)

    return pick


def _tri(node) -> str:
    return "TriuBackward0" if node.upper else "TrilBackward0"


def _elu(node) -> str:
    alpha, scale, input_scale, _ = node.k
    return "CeluBackward0" if input_scale != 1.0 and scale == 1.0 else "EluBackward0"


# The ops of the later layers (convolution, pooling, normalisation, sequences, tensor ops,
# linear algebra, more activations), named as PyTorch's CPU kernels name their nodes.
TORCH_NAMES_MORE = {
    "ConvNd": "ConvolutionBackward0",
    "ConvTransposeNd": "ConvolutionBackward0",
    "conv.Unfold": "Im2ColBackward0",
    "Fold": "Col2ImBackward0",
    "MaxPoolNd": _pool("MaxPool{d}DWithIndicesBackward0"),
    "AvgPoolNd": _pool("AvgPool{d}DBackward0"),
    "AdaptiveMaxPoolNd": _pool("AdaptiveMaxPool{d}DBackward0"),
    "AdaptiveAvgPoolNd": _pool("AdaptiveAvgPool{d}DBackward0"),
    "ConstantPad": "ConstantPadNdBackward0",
    "BatchNorm": "NativeBatchNormBackward0",
    "GroupNorm": "NativeGroupNormBackward0",
    "Embedding": "EmbeddingBackward0",
    "ScaledDotProductAttention": "UnsafeViewBackward0",
    "RecurrentLayer": "StackBackward0",
    "Gather": "GatherBackward0",
    "Scatter": "ScatterBackward0",
    "IndexAdd": "IndexAddBackward0",
    "IndexPut": "IndexPutBackward0",
    "Cumsum": "CumsumBackward0",
    "Cumprod": "CumprodBackward0",
    "Tri": _tri,
    "Flip": "FlipBackward0",
    "Roll": "RollBackward0",
    "MaskedSelect": "MaskedSelectBackward0",
    "Diag": "DiagEmbedBackward0",
    "Diagonal": "DiagonalBackward0",
    "indexing.Unfold": "UnfoldBackward0",
    "VectorNorm": "LinalgVectorNormBackward0",
    "Cdist": "CdistBackward0",
    "EuclideanDist": "ViewBackward0",
    "AsStrided": "AsStridedBackward0",  # cdist's matrix-product form returns a view
    "Einsum": "ViewBackward0",
    "Inv": "LinalgInvExBackward0",
    "Det": "LinalgDetBackward0",
    "SlogDet": "LinalgSlogdetBackward0",
    "Solve": "LinalgSolveExBackward0",
    "SolveTriangular": "LinalgSolveTriangularBackward0",
    "Cholesky": "LinalgCholeskyExBackward0",
    "QR": "LinalgQrBackward0",
    "SVD": "LinalgSvdBackward0",
    "Eigh": "LinalgEighBackward0",
    "Elu": _elu,
    "Mish": "MishBackward0",
    "Hardtanh": "HardtanhBackward0",
    "Hardswish": "HardswishBackward0",
    "Hardsigmoid": "HardsigmoidBackward0",
    "Threshold": "ThresholdBackward0",
    "LogSigmoid": "LogSigmoidBackward0",
    "Softsign": "DivBackward0",
    "Tanhshrink": "SubBackward0",
    "Prelu": "PreluKernelBackward0",
    "Shrink": lambda node: (
        "SoftshrinkBackward0" if getattr(node, "soft", False) else "HardshrinkBackward0"
    ),
}
TORCH_NAMES.update(TORCH_NAMES_MORE)


# ops/elementwise_more.py: PyTorch names its nodes after the function (TanBackward0, ...).
TORCH_NAMES.update(
    {
        f"elementwise_more.{name}": f"{name}Backward0"
        for name in (
            "Tan Sinh Cosh Asin Acos Atan Asinh Acosh Atanh Log2 Log10 Erf Erfc Exp2 Erfinv "
            "Lgamma Logit Sinc NanToNum"
        ).split()
    }
)
TORCH_NAMES["elementwise_more.Polygamma"] = lambda node: (
    "DigammaBackward0" if node.n == 0 else "PolygammaBackward0"
)


def node_name(node) -> str:
    """PyTorch's ``grad_fn`` name for ``node``; ops without an entry keep ``<Op>Backward``."""
    own = node.__dict__.get("torch_name")
    if own is not None:
        return own
    cls = type(node).__name__
    module = type(node).__module__.rpartition(".")[2]
    entry = TORCH_NAMES.get(f"{module}.{cls}", TORCH_NAMES.get(cls))
    if entry is None:
        return cls + "Backward"
    if isinstance(entry, str):
        return entry
    try:
        return entry(node)
    except (AttributeError, IndexError, TypeError):
        # The node's recorded inputs were freed by backward(); the generic pick is still fair.
        return cls + "Backward0"


def pin_name(node) -> None:
    """Fix ``node``'s name before the engine frees its inputs, if the name is picked
    from them (``AddmmBackward0`` or ``ViewBackward0`` for a linear layer). Whether it is
    is noted on the op class itself (``Op._picks_name``), which the engine reads first."""
    cls = type(node)
    picked = cls._picks_name
    if picked is None:
        name = f"{cls.__module__.rpartition('.')[2]}.{cls.__name__}"
        entry = TORCH_NAMES.get(name, TORCH_NAMES.get(cls.__name__))
        picked = cls._picks_name = callable(entry) and bool(getattr(entry, "reads_inputs", True))
    if picked and "torch_name" not in node.__dict__:
        node.torch_name = node_name(node)


def named(t, name: str):
    """``t`` with its node printed as ``name``: the node PyTorch's kernel ends with (its
    printed ``grad_fn``), where gradfit computes the same values with other ops."""
    if t.grad_fn is not None:
        t.grad_fn.torch_name = name
    return t


# ops/binary_more.py: PyTorch names its nodes after the function.
TORCH_NAMES.update(
    {
        "binary_more.Remainder": "RemainderBackward0",
        "binary_more.Fmod": "FmodBackward0",
        "binary_more.Atan2": "Atan2Backward0",
        "binary_more.Hypot": "HypotBackward0",
        "binary_more.Xlogy": "XlogyBackward0",
        "binary_more.Copysign": "CopysignBackward0",
        "binary_more.LogCumSumExp": "LogcumsumexpBackward0",
        "binary_more.LogAddExp": lambda node: (
            "Logaddexp2Backward0" if node.base2 else "LogaddexpBackward0"
        ),
        "binary_more.FMax": lambda node: (
            "FmaxBackward0" if node.which == "max" else "FminBackward0"
        ),
        "binary_more.Prod": lambda node: "ProdBackward0" if node.dim is None else "ProdBackward1",
        "binary_more.CumExtreme": lambda node: (
            "CummaxBackward0" if node.which == "max" else "CumminBackward0"
        ),
    }
)
