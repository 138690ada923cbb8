"""gradfit: fitting models by gradient descent and backpropagation, on NumPy.

The public API is a PyTorch-compatible subset: ``import gradfit as torch`` style scripts
(Tensor, autograd, nn, optim, utils.data) run and give PyTorch's numbers.

Layers. The modules form a ladder: each imports only from the rungs below it, at module
level, so any module can be imported first (``tests/test_architecture.py`` checks both).
From the bottom:

1. ``_dtypes``, ``_grad_mode``, ``_mt``, ``_rng``, ``_fused``, ``_moments``, ``_vecmath``,
   ``_exact``, ``_stl``, ``return_types``, ``_tensor_str`` (printing), ``_typenames``
   (legacy type strings): NumPy and the standard library only.
2. ``autograd``: the graph machinery (``function.Op``, the engine, ``grad``, ``Function``,
   ``gradcheck``). It never imports ``tensor``: it knows tensors through
   ``autograd.function.TensorProtocol`` and gets the class from ``tensor`` once
   (``autograd.bind_tensor_class``).
3. ``ops``: one ``Op`` subclass per differentiable operation, arrays in, arrays out; and
   ``_arrays``, the internal array API (unwrap, wrap, edit in place with the version
   bumped), which knows the Tensor class as the graph machinery does.
4. ``tensor``: ``Tensor``, the one place that wraps arrays; its methods call the ops and
   the tensor-level operations of ``_tensorops`` and ``linalg``.
   Rungs 2-4 are the core and own a tensor's private fields (``_array``, ``_version``,
   ``Tensor._make``); everything above reaches arrays through ``_arrays``.
5. ``random``, ``_factories``, ``_functional``, ``_toplevel`` (more of torch's functions),
   ``_runtime`` (threads, determinism, ``compile``), then this package's namespace.
6. ``nn``, ``optim``, ``utils.data``, ``serialization``.
7. ``datasets``, ``distributed``, ``train``, ``lecture``, ``viz``, ``cli``.

docs/architecture.md has the map, and where a new op, layer, optimizer or CLI option goes.
"""

from __future__ import annotations

import warnings as _warnings

from gradfit import _dtypes, autograd, linalg, return_types
from gradfit._dtypes import (
    bfloat16,
    bool_,
    complex64,
    complex128,
    dtype,
    finfo,
    float16,
    float32,
    float64,
    get_default_dtype,
    iinfo,
    int8,
    int16,
    int32,
    int64,
    set_default_dtype,
    uint8,
    uint16,
    uint32,
    uint64,
)
from gradfit._factories import (
    arange,
    as_tensor,
    empty,
    empty_like,
    eye,
    from_numpy,
    full,
    full_like,
    linspace,
    ones,
    ones_like,
    tensor,
    zeros,
    zeros_like,
)
from gradfit._functional import *  # noqa: F403 - the op functions, listed in _functional
from gradfit._functional import max, min, pow, round, sum  # noqa: A004

# toplevel: inference mode here; _runtime's switches, _toplevel's functions and the anomaly
# flags in their sorted places below
from gradfit._grad_mode import inference_mode, is_inference_mode_enabled

# --- issue 16: legacy tensor types and printing options, as PyTorch's -----------------------
from gradfit._legacy import (
    BoolTensor,
    ByteTensor,
    CharTensor,
    DoubleTensor,
    FloatTensor,
    HalfTensor,
    IntTensor,
    LongTensor,
    ShortTensor,
)
from gradfit._runtime import *  # noqa: F403 - (toplevel) listed in _runtime.__all__
from gradfit._tensor_str import get_printoptions, printoptions, set_printoptions

# Tensor operations of issue 13 (indexing, sorting, cumulative ops, linear algebra).
from gradfit._tensorops import (
    argsort,
    argwhere,
    bincount,
    cartesian_prod,
    cdist,
    cholesky,
    cholesky_inverse,
    cholesky_solve,
    cumprod,
    cumsum,
    det,
    diag,
    diag_embed,
    diagonal,
    einsum,
    flip,
    fliplr,
    flipud,
    gather,
    histc,
    index_add,
    index_fill,
    index_put,
    index_select,
    inverse,
    kthvalue,
    logdet,
    masked_fill,
    masked_scatter,
    masked_select,
    median,
    meshgrid,
    mode,
    msort,
    nanmedian,
    nanquantile,
    narrow,
    nonzero,
    norm,
    quantile,
    repeat_interleave,
    roll,
    rot90,
    scatter,
    scatter_add,
    scatter_reduce,
    slogdet,
    sort,
    svd,
    take_along_dim,
    tile,
    topk,
    trace,
    tril,
    triu,
    unique,
    unique_consecutive,
    where,
)

# shape and linear algebra (ops-shape): addmm, tensordot, kron, movedim, hstack, ...
from gradfit._tensorops_more import (
    addbmm,
    addmm,
    addmv,
    as_strided,
    baddbmm,
    broadcast_tensors,
    bucketize,
    column_stack,
    combinations,
    cov,
    cross,
    diagflat,
    diff,
    dist,
    dsplit,
    dstack,
    hsplit,
    hstack,
    inner,
    isin,
    kron,
    logspace,
    moveaxis,
    movedim,
    mv,
    ravel,
    row_stack,
    searchsorted,
    select,
    take,
    tensor_split,
    tensordot,
    trapezoid,
    trapz,
    tril_indices,
    triu_indices,
    unflatten,
    vander,
    vdot,
    vsplit,
    vstack,
)
from gradfit._toplevel import *  # noqa: F403 - (toplevel) listed in _toplevel.__all__
from gradfit.autograd import enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from gradfit.autograd.anomaly_mode import (  # (toplevel)
    is_anomaly_check_nan_enabled,
    is_anomaly_enabled,
)

# --- linalg additions (linutils): torch.pinverse, torch.matrix_exp ---------------------------
from gradfit.linalg import matrix_exp, pinverse
from gradfit.random import (
    Generator,
    bernoulli,
    default_generator,
    get_rng_state,
    initial_seed,
    manual_seed,
    multinomial,
    normal,
    rand,
    rand_like,
    randint,
    randint_like,
    randn,
    randn_like,
    randperm,
    seed,
    set_rng_state,
)
from gradfit.tensor import Size, Tensor, device

float = float32  # noqa: A001 - PyTorch's alias
double = float64
half = float16
long = int64
short = int16
int = int32  # noqa: A001
bool = bool_  # noqa: A001
cfloat = complex64
cdouble = complex128

__version__ = "0.1.0"

# --- funcspecial: PyTorch's math constants (torch.pi, torch.e, torch.inf, torch.nan) ---------
from math import e, inf, nan, pi  # noqa: E402


def is_tensor(obj) -> bool:
    return isinstance(obj, Tensor)


# Subpackages load on first use, so `import gradfit` stays fast; `gradfit.nn`,
# `gradfit.optim` and `gradfit.utils.data` then work as `torch.nn` and friends do.
_LAZY_MODULES = {
    "nn",
    "optim",
    "utils",
    "datasets",
    "train",
    "lecture",
    "viz",
    "distributed",
    "cli",
    "serialization",
    "storage",
    # issue 16: PyTorch's device namespaces
    "cuda",
    "version",
    "backends",
    "accelerator",
    # torch.func, torch.special, torch.testing (funcspecial)
    "func",
    "special",
    "testing",
}
_LAZY_NAMES = {"save": "gradfit.serialization", "load": "gradfit.serialization"}
_LAZY_NAMES.update(dict.fromkeys(("UntypedStorage", "TypedStorage"), "gradfit.storage"))
# torch.pixel_shuffle and friends: the nn.functional ones, loaded on first use
_LAZY_NAMES.update(
    dict.fromkeys(
        (
            "pixel_shuffle",
            "pixel_unshuffle",
            "bilinear",
            "rms_norm",
            "alpha_dropout",
            "feature_alpha_dropout",
            "rrelu",
        ),
        "gradfit.nn.functional",
    )
)
_LAZY_NAMES["vmap"] = "gradfit.func"  # torch.vmap (funcspecial)

# --- pruneamp: torch.amp, torch.cpu and torch.autocast, loaded on first use -----------------
_LAZY_MODULES.update({"amp", "cpu"})
_LAZY_NAMES.update(dict.fromkeys(("autocast", "is_autocast_enabled"), "gradfit.amp"))
_LAZY_NAMES.update(
    dict.fromkeys(
        (
            "get_autocast_dtype set_autocast_dtype set_autocast_enabled "
            "is_autocast_cache_enabled set_autocast_cache_enabled clear_autocast_cache "
            "autocast_increment_nesting autocast_decrement_nesting get_autocast_cpu_dtype "
            "get_autocast_gpu_dtype is_autocast_cpu_enabled"
        ).split(),
        "gradfit.amp.autocast_mode",
    )
)


def __getattr__(name: str):
    import importlib

    if name in _LAZY_MODULES:
        return importlib.import_module(f"gradfit.{name}")
    if name in _LAZY_NAMES:
        if _LAZY_NAMES[name] is None:  # apigaps: a function PyTorch removed
            return _removed_function(name)
        return getattr(importlib.import_module(_LAZY_NAMES[name]), name)
    raise AttributeError(f"module 'gradfit' has no attribute {name!r}")


# --- distributions: torch.distributions, loaded on first use --------------------------------
_LAZY_MODULES.add("distributions")

# --- rtapi: torch.gradient, corrcoef, index_reduce, poisson; torch.jit, torch.profiler and
# torch.hub, loaded on first use ------------------------------------------------------------
from gradfit._tensorops_rt import corrcoef, gradient, index_reduce  # noqa: E402
from gradfit.random import poisson  # noqa: E402

_LAZY_MODULES.update({"jit", "profiler", "hub"})

# --- memory layouts (x.layout is gradfit.strided; sparse COO tensors say sparse_coo), and
# sparse COO tensors (gradfit._sparse binds the sparse Tensor subclass) and torch.sparse ---
from gradfit import sparse  # noqa: E402
from gradfit._layout import (  # noqa: E402
    channels_last,
    channels_last_3d,
    contiguous_format,
    jagged,
    layout,
    memory_format,
    preserve_format,
    sparse_bsc,
    sparse_bsr,
    sparse_coo,
    sparse_csc,
    sparse_csr,
    strided,
)
from gradfit._sparse import sparse_coo_tensor, spmm  # noqa: E402

# --- apigaps: torch.conv2d, torch.dropout, torch.embedding, torch.kl_div, ... with torch.'s
# own signatures (gradfit.nn._torch_aliases), loaded on first use --------------------------
_LAZY_NAMES.update(
    dict.fromkeys(
        (
            "adaptive_avg_pool1d",
            "adaptive_max_pool1d",
            "alpha_dropout_",
            "avg_pool1d",
            "batch_norm",
            "binary_cross_entropy_with_logits",
            "celu",
            "celu_",
            "channel_shuffle",
            "constant_pad_nd",
            "conv1d",
            "conv2d",
            "conv3d",
            "conv_transpose1d",
            "conv_transpose2d",
            "conv_transpose3d",
            "cosine_embedding_loss",
            "ctc_loss",
            "dropout",
            "dropout_",
            "embedding",
            "feature_alpha_dropout_",
            "feature_dropout",
            "feature_dropout_",
            "group_norm",
            "hardshrink",
            "hinge_embedding_loss",
            "instance_norm",
            "kl_div",
            "layer_norm",
            "margin_ranking_loss",
            "max_pool1d",
            "max_pool1d_with_indices",
            "max_pool2d",
            "max_pool3d",
            "poisson_nll_loss",
            "prelu",
            "rrelu_",
            "selu",
            "selu_",
            "triplet_margin_loss",
        ),
        "gradfit.nn._torch_aliases",
    )
)

# --- apigaps: legacy linear algebra and the other functions older programs call
# (gradfit._tensorops_gaps, gradfit._api_gaps), loaded on first use ----------------------
_LAZY_NAMES.update(
    dict.fromkeys(
        (
            "addr",
            "bitwise_left_shift",
            "bitwise_right_shift",
            "chain_matmul",
            "diagonal_scatter",
            "frobenius_norm",
            "ger",
            "i0",
            "igamma",
            "igammac",
            "isreal",
            "lu",
            "lu_solve",
            "lu_unpack",
            "mvlgamma",
            "narrow_copy",
            "nextafter",
            "nuclear_norm",
            "polygamma",
            "qr",
            "select_scatter",
            "slice_scatter",
            "triangular_solve",
            "as_strided_scatter",
            "empty_strided",
        ),
        "gradfit._tensorops_gaps",
    )
)
_LAZY_NAMES.update(
    dict.fromkeys(
        (
            "asarray",
            "bartlett_window",
            "blackman_window",
            "cumulative_trapezoid",
            "empty_permuted",
            "fill",
            "frombuffer",
            "get_device",
            "hamming_window",
            "hann_window",
            "histogramdd",
            "is_warn_always_enabled",
            "kaiser_window",
            "newaxis",
            "range",
            "set_anomaly_enabled",
            "set_default_tensor_type",
            "set_flush_denormal",
            "set_warn_always",
            "alias_copy",
            "as_strided_copy",
            "detach_copy",
            "diagonal_copy",
            "expand_copy",
            "permute_copy",
            "select_copy",
            "slice_copy",
            "split_copy",
            "split_with_sizes_copy",
            "squeeze_copy",
            "t_copy",
            "transpose_copy",
            "unbind_copy",
            "unfold_copy",
            "unsqueeze_copy",
            "view_copy",
            "pca_lowrank",
            "svd_lowrank",
        ),
        "gradfit._api_gaps",
    )
)


def _removed_function(name: str):
    import importlib

    return importlib.import_module("gradfit._tensorops_gaps").removed(name)


for _removed_name in ("solve", "lstsq", "eig", "symeig", "matrix_rank"):
    _LAZY_NAMES[_removed_name] = None

# --- NumPy warns about inf and nan in arithmetic ("divide by zero encountered in divide");
# PyTorch computes the same values silently. Only warnings raised from gradfit's own modules
# are ignored: the user's NumPy code keeps its warnings, and detect_anomaly still reports. ---
_warnings.filterwarnings(
    "ignore", message=".* encountered in ", category=RuntimeWarning, module=r"gradfit(\.|$)"
)

# --- torch.histogram (makemore's activation histograms) --------------------------------------
from gradfit._histogram import histogram  # noqa: E402

# --- complexfft: torch.fft, loaded on first use; complex tensors' functions -----------------
_LAZY_MODULES.add("fft")
from gradfit._complex import *  # noqa: E402, F403 - listed in _complex.__all__
from gradfit._stft import istft, stft  # noqa: E402

# --- program sweep (sweepa): numpy's axis/keepdims for dim/keepdim, as PyTorch's parser
# (installed last, over every function and Tensor method defined above) ---------------------
# isort: split
from gradfit import _numpy_names  # noqa: E402

_numpy_names.install(globals(), Tensor)

# --- apihooks: torch.multiprocessing and torch.mps, loaded on first use ----------------------
_LAZY_MODULES.update({"multiprocessing", "mps"})
