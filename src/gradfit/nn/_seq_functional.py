"""The sequence-model functions of ``gradfit.nn.functional``: ``embedding``,
``scaled_dot_product_attention`` and ``multi_head_attention_forward`` (PyTorch's
signatures and semantics; re-exported by ``gradfit.nn.functional``)."""

from __future__ import annotations

import math

import numpy as np

from gradfit import _rng
from gradfit._arrays import modified, unwrap, wrap
from gradfit._typenames import type_string
from gradfit.nn import attention
from gradfit.ops import sequence as _seq
from gradfit.ops import sparse as _sparse_ops
from gradfit.tensor import Tensor

_CAUSAL: dict = {}


def embedding(
    input: Tensor,  # noqa: A002
    weight: Tensor,
    padding_idx: int | None = None,
    max_norm: float | None = None,
    norm_type: float = 2.0,
    scale_grad_by_freq: bool = False,
    sparse: bool = False,
) -> Tensor:
    """Rows of ``weight`` (num_embeddings, embedding_dim) picked by the integer ``input``
    (any shape): out[..., :] = weight[input[...], :].

    ``padding_idx``: that row receives no gradient. ``max_norm``: every row that ``input``
    picks and whose ``norm_type``-norm exceeds ``max_norm`` is rescaled, in place, to norm
    max_norm / (norm + 1e-7) * norm, before the lookup (PyTorch's ``embedding_renorm_``).
    ``scale_grad_by_freq``: a row's gradient is divided by how often its index occurs.
    """
    idx = unwrap(input)
    w = unwrap(weight)
    if idx.dtype.kind not in "iu":
        raise RuntimeError(
            "Expected tensor for argument #1 'indices' to have one of the following scalar "
            f"types: Long, Int; but got {type_string(idx.dtype)} instead (while checking "
            "arguments for embedding)"
        )
    if w.ndim != 2:
        raise RuntimeError(f"embedding: 'weight' must be 2-D, got shape {tuple(w.shape)}")
    num = w.shape[0]
    if idx.size and (idx.min() < 0 or idx.max() >= num):
        bad = idx[(idx < 0) | (idx >= num)].flat[0]
        raise IndexError(
            f"embedding: index {int(bad)} is out of range for a table of {num} rows "
            f"(valid indices are 0..{num - 1})"
        )
    if padding_idx is not None:
        if not -num <= padding_idx < num:
            raise ValueError(f"Padding_idx must be within num_embeddings, got {padding_idx}")
        padding_idx = padding_idx % num
    if max_norm is not None:
        _renorm_(weight, idx, max_norm, norm_type)
    op = _sparse_ops.EmbeddingSparse if sparse else _seq.Embedding
    return op.apply(weight, idx, padding_idx=padding_idx, scale_grad_by_freq=scale_grad_by_freq)


def _renorm_(weight: Tensor, idx: np.ndarray, max_norm: float, norm_type: float) -> None:
    rows = np.unique(idx)
    with modified(weight) as (w,):
        sel = w[rows].astype(np.float64)
        if norm_type == 2:
            norms = np.sqrt((sel * sel).sum(axis=1))
        else:
            norms = np.linalg.norm(sel, ord=norm_type, axis=1)
        big = norms > max_norm
        scale = (max_norm / (norms[big] + 1e-7)).astype(w.dtype)
        w[rows[big]] *= scale[:, None]


def _causal_bias(n_q: int, n_k: int, dtype) -> np.ndarray:
    key = (n_q, n_k, np.dtype(dtype))
    bias = _CAUSAL.get(key)
    if bias is None:
        bias = np.where(np.tri(n_q, n_k, dtype=bool), 0.0, -np.inf).astype(dtype)
        bias.flags.writeable = False
        _CAUSAL[key] = bias
    return bias


def _mask_bias(mask, dtype, what: str) -> np.ndarray:
    """A boolean (True: may attend) or additive float mask as an additive bias array."""
    m = unwrap(mask)
    if m.dtype == np.bool_:
        return np.where(m, 0.0, -np.inf).astype(dtype)
    if m.dtype.kind != "f":
        raise RuntimeError(f"{what}: expected a bool or float mask, got dtype {m.dtype}")
    return m.astype(dtype, copy=False)


def embedding_bag(
    input: Tensor,  # noqa: A002
    weight: Tensor,
    offsets: Tensor | None = None,
    max_norm: float | None = None,
    norm_type: float = 2,
    scale_grad_by_freq: bool = False,
    mode: str = "mean",
    sparse: bool = False,
    per_sample_weights: Tensor | None = None,
    include_last_offset: bool = False,
    padding_idx: int | None = None,
) -> Tensor:
    """The sum, mean or max of each bag of embedding rows, without the per-row tensor.

    Bags are the rows of a 2-D ``input``, or the slices of a 1-D ``input`` that
    ``offsets`` starts (``include_last_offset``: its last entry ends the last bag). Entries
    equal to ``padding_idx`` are left out (and out of a mean's count); an empty bag gives
    zeros. ``per_sample_weights`` (mode 'sum' only) scale each row first.
    """
    if mode not in ("sum", "mean", "max"):
        raise ValueError(f"mode has to be one of sum, mean or max, got {mode!r}")
    idx = unwrap(input)
    if idx.ndim == 2:
        if offsets is not None:
            raise ValueError("if input is 2D, then offsets has to be None, as input is treated "
                             "is a mini-batch of fixed length sequences.")  # fmt: skip
        starts = np.arange(0, idx.size, idx.shape[1]) if idx.shape[1] else np.zeros(idx.shape[0])
        starts = starts.astype(np.int64)
        idx = idx.reshape(-1)
    elif idx.ndim == 1:
        if offsets is None:
            raise ValueError("offsets has to be a 1D Tensor but got None")
        starts = unwrap(offsets).astype(np.int64).reshape(-1)
        if include_last_offset:
            starts = starts[:-1]
        if starts.size and starts[0] != 0:
            raise ValueError(
                "offsets[0] has to be 0, i.e., the first sequence in the mini-batch has to "
                f"start from position 0. However, got {starts[0]}"
            )
    else:
        raise ValueError(f"input has to be 1D or 2D Tensor, but got Tensor of dimension {idx.ndim}")
    if per_sample_weights is not None and mode != "sum":
        raise NotImplementedError(
            f"embedding_bag: per_sample_weights was not None. per_sample_weights is only "
            f"supported for mode='sum' (got mode='{mode}'). Please open a feature request on "
            "GitHub."
        )
    n_bags, n = starts.size, idx.size
    bag = np.searchsorted(starts, np.arange(n), side="right") - 1  # the bag of each entry
    keep = np.ones(n, dtype=bool)
    if padding_idx is not None:
        keep = idx != padding_idx % weight.shape[0]
    rows = embedding(wrap(idx[keep]), weight, None, max_norm, norm_type, scale_grad_by_freq)
    if per_sample_weights is not None:
        rows = rows * per_sample_weights.reshape(-1)[wrap(np.nonzero(keep)[0])].unsqueeze(1)
    bag = wrap(bag[keep])
    zeros = weight.new_zeros((n_bags, weight.shape[1]))
    if mode == "max":
        index = bag.unsqueeze(1).expand(-1, weight.shape[1])
        out = zeros.scatter_reduce(0, index, rows, "amax", include_self=False)
    else:
        out = zeros.index_add(0, bag, rows)
        if mode == "mean":
            count = np.bincount(unwrap(bag), minlength=n_bags).astype(unwrap(weight).dtype)
            out = out / wrap(np.maximum(count, 1)[:, None])
    if out.grad_fn is not None:
        out.grad_fn.torch_name = "EmbeddingBagBackward0"
    return out


def scaled_dot_product_attention(
    query: Tensor,
    key: Tensor,
    value: Tensor,
    attn_mask: Tensor | None = None,
    dropout_p: float = 0.0,
    is_causal: bool = False,
    scale: float | None = None,
    enable_gqa: bool = False,
) -> Tensor:
    """softmax(Q K^T * scale + M) V over the last two axes, batch axes broadcast.

    Shapes: query (..., L, E), key (..., S, E), value (..., S, Ev) -> (..., L, Ev).
    ``attn_mask``: boolean (True = may attend) or float (added to the scores), broadcast to
    (..., L, S); a float mask is a constant here (no gradient flows to it).
    ``is_causal``: position i attends to positions j <= i (not with ``attn_mask``).
    ``scale`` defaults to 1 / sqrt(E). ``dropout_p``: dropout on the attention weights,
    the mask drawn as ``dropout`` draws it (PyTorch's CPU path). ``enable_gqa``: key and
    value may have fewer heads (axis -3) than query, each shared by a group of query heads.
    """
    if enable_gqa:
        key, value = _grouped_query_heads(query, key, value)
    q, k, v = unwrap(query), unwrap(key), unwrap(value)
    attention.check_backend(q.ndim)
    if q.ndim < 2 or k.ndim < 2 or v.ndim < 2:
        raise RuntimeError(
            "scaled_dot_product_attention: query, key and value need at least 2 dimensions, "
            f"got {q.ndim}, {k.ndim} and {v.ndim}"
        )
    if not (q.dtype == k.dtype == v.dtype):
        raise RuntimeError(
            "Expected query, key, and value to have the same dtype, but got query.dtype: "
            f"{q.dtype} key.dtype: {k.dtype} and value.dtype: {v.dtype} instead."
        )
    if q.shape[-1] != k.shape[-1] or k.shape[-2] != v.shape[-2]:
        raise RuntimeError(
            f"scaled_dot_product_attention: shapes do not fit: query {tuple(q.shape)}, "
            f"key {tuple(k.shape)}, value {tuple(v.shape)} (need query[-1] == key[-1] and "
            "key[-2] == value[-2])"
        )
    if is_causal and attn_mask is not None:
        raise RuntimeError(
            "_scaled_dot_product_attention: Explicit attn_mask should not be set when "
            "is_causal=True"
        )
    if not 0.0 <= dropout_p <= 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {dropout_p}")
    n_q, n_k = q.shape[-2], k.shape[-2]
    if scale is None:
        scale = 1.0 / math.sqrt(q.shape[-1])
    bias = None
    if is_causal:
        bias = _causal_bias(n_q, n_k, q.dtype)
    elif attn_mask is not None:
        bias = _mask_bias(attn_mask, q.dtype, "scaled_dot_product_attention")
    keep = None
    if dropout_p > 0.0:
        shape = np.broadcast_shapes(q.shape[:-2], k.shape[:-2]) + (n_q, n_k)
        if dropout_p == 1.0:
            keep = np.zeros(shape, dtype=q.dtype)
        else:
            keep = _rng.bernoulli_mask(shape, 1.0 - dropout_p, q.dtype)
            keep /= np.asarray(1.0 - dropout_p, dtype=q.dtype)
    return _seq.ScaledDotProductAttention.apply(query, key, value, bias, keep, scale=scale)


def _grouped_query_heads(query: Tensor, key: Tensor, value: Tensor) -> tuple:
    """Grouped-query attention: key and value heads repeated to the query's head count,
    each over a group of consecutive query heads (PyTorch's math path)."""
    heads = [t.shape[-3] if t.ndim >= 3 else 1 for t in (query, key, value)]
    if heads[0] == heads[1] == heads[2]:
        return key, value
    if heads[0] % heads[1] or heads[0] % heads[2]:
        # PyTorch's text, its trailing word cut off as it is
        raise RuntimeError("Number of heads in key and value must divide the number of heads in ")
    return (
        key.repeat_interleave(heads[0] // heads[1], -3),
        value.repeat_interleave(heads[0] // heads[2], -3),
    )


def _canonical_mask(mask, name: str, dtype) -> Tensor | None:
    """PyTorch's ``_canonical_mask``: a boolean mask (True = masked out) becomes an additive
    float mask (-inf where True); a float mask is kept."""
    if mask is None:
        return None
    m = unwrap(mask)
    if m.dtype == np.bool_:
        return wrap(np.where(m, -np.inf, 0.0).astype(dtype))
    if m.dtype.kind != "f":
        raise AssertionError(f"only bool and floating types of {name} are supported")
    return mask


def _mha_shape_check(query, key, value, key_padding_mask, attn_mask, num_heads) -> bool:
    """PyTorch's checks of the ranks of the attention inputs; True when batched."""
    if query.ndim not in (2, 3):
        raise AssertionError(
            f"query should be unbatched 2D or batched 3D tensor but received {query.ndim}-D "
            "query tensor"
        )
    batched = query.ndim == 3
    kind = "batched (3-D)" if batched else "unbatched (2-D)"
    if key.ndim != query.ndim or value.ndim != query.ndim:
        raise AssertionError(
            f"For {kind} `query`, expected `key` and `value` to be {query.ndim}-D but found "
            f"{key.ndim}-D and {value.ndim}-D tensors respectively"
        )
    if key_padding_mask is not None and key_padding_mask.ndim != query.ndim - 1:
        raise AssertionError(
            f"For {kind} `query`, expected `key_padding_mask` to be `None` or "
            f"{query.ndim - 1}-D but found {key_padding_mask.ndim}-D tensor instead"
        )
    if attn_mask is not None:
        if attn_mask.ndim not in (2, 3):
            raise AssertionError(
                f"For {kind} `query`, expected `attn_mask` to be `None`, 2-D or 3-D but found "
                f"{attn_mask.ndim}-D tensor instead"
            )
        expected = (num_heads, query.shape[0], key.shape[0])
        if not batched and attn_mask.ndim == 3 and tuple(attn_mask.shape) != expected:
            raise AssertionError(
                f"Expected `attn_mask` shape to be {expected} but got {attn_mask.shape}"
            )
    return batched


def multi_head_attention_forward(
    query: Tensor,
    key: Tensor,
    value: Tensor,
    embed_dim_to_check: int,
    num_heads: int,
    in_proj_weight: Tensor | None,
    in_proj_bias: Tensor | None,
    bias_k: Tensor | None,
    bias_v: Tensor | None,
    add_zero_attn: bool,
    dropout_p: float,
    out_proj_weight: Tensor,
    out_proj_bias: Tensor | None,
    training: bool = True,
    key_padding_mask: Tensor | None = None,
    need_weights: bool = True,
    attn_mask: Tensor | None = None,
    use_separate_proj_weight: bool = False,
    q_proj_weight: Tensor | None = None,
    k_proj_weight: Tensor | None = None,
    v_proj_weight: Tensor | None = None,
    static_k: Tensor | None = None,
    static_v: Tensor | None = None,
    average_attn_weights: bool = True,
    is_causal: bool = False,
):
    """Multi-head attention on (L, N, E) inputs (or unbatched (L, E)), as PyTorch's
    function of the same name: project q, k, v, attend per head, project the output.

    Returns (output (L, N, E), weights (N, L, S) averaged over heads, (N, H, L, S) if not
    ``average_attn_weights``, or None if not ``need_weights``).
    """
    from gradfit._functional import cat
    from gradfit.nn import functional as F

    if static_k is not None or static_v is not None:
        raise NotImplementedError("multi_head_attention_forward: static_k/static_v")
    batched = _mha_shape_check(query, key, value, key_padding_mask, attn_mask, num_heads)
    if not batched:
        query, key, value = query.unsqueeze(1), key.unsqueeze(1), value.unsqueeze(1)
        if key_padding_mask is not None:
            key_padding_mask = key_padding_mask.unsqueeze(0)
    tgt_len, bsz, embed_dim = query.shape
    src_len = key.shape[0]
    if embed_dim != embed_dim_to_check:
        raise AssertionError(
            f"was expecting embedding dimension of {embed_dim_to_check}, but got {embed_dim}"
        )
    head_dim = embed_dim // num_heads
    if head_dim * num_heads != embed_dim:
        raise AssertionError(f"embed_dim {embed_dim} not divisible by num_heads {num_heads}")
    if use_separate_proj_weight:
        if key.shape[:2] != value.shape[:2]:
            raise AssertionError(
                f"key's sequence and batch dims {key.shape[:2]} do not match value's "
                f"{value.shape[:2]}"
            )
    elif key.shape != value.shape:
        raise AssertionError(f"key shape {key.shape} does not match value shape {value.shape}")
    if key_padding_mask is not None:
        if key_padding_mask.shape[0] != bsz:
            raise AssertionError(
                f"Expected key_padded_mask.shape[0] to be {bsz}, but got "
                f"{key_padding_mask.shape[0]}"
            )
        if key_padding_mask.shape[1] != src_len:
            raise AssertionError(
                f"Expected key_padded_mask.shape[1] to be {src_len}, but got "
                f"{key_padding_mask.shape[1]}"
            )
    dtype = unwrap(query).dtype
    key_padding_mask = _canonical_mask(key_padding_mask, "key_padding_mask", dtype)
    if is_causal and attn_mask is None:
        raise RuntimeError(
            "Need attn_mask if specifying the is_causal hint. You may use the Transformer "
            "module method `generate_square_subsequent_mask` to create this mask."
        )
    if is_causal and key_padding_mask is None and not need_weights:
        attn_mask = None  # the scaled-dot-product kernel applies the causal mask itself
    else:
        attn_mask = _canonical_mask(attn_mask, "attn_mask", dtype)
        is_causal = False

    # in-projection (PyTorch's _in_projection_packed / _in_projection)
    if not use_separate_proj_weight:
        if key is value and query is key:
            proj = F.linear(query, in_proj_weight, in_proj_bias)
            proj = proj.reshape(tgt_len, bsz, 3, embed_dim)
            q, k, v = proj[:, :, 0], proj[:, :, 1], proj[:, :, 2]
        else:
            w_q, w_k, w_v = in_proj_weight.chunk(3)
            b_q = b_k = b_v = None
            if in_proj_bias is not None:
                b_q, b_k, b_v = in_proj_bias.chunk(3)
            if key is value:
                w_kv = in_proj_weight[embed_dim:]
                b_kv = None if in_proj_bias is None else in_proj_bias[embed_dim:]
                q = F.linear(query, w_q, b_q)
                kv = F.linear(key, w_kv, b_kv).reshape(src_len, bsz, 2, embed_dim)
                k, v = kv[:, :, 0], kv[:, :, 1]
            else:
                q, k, v = (
                    F.linear(query, w_q, b_q),
                    F.linear(key, w_k, b_k),
                    F.linear(value, w_v, b_v),
                )
    else:
        b_q = b_k = b_v = None
        if in_proj_bias is not None:
            b_q, b_k, b_v = in_proj_bias.chunk(3)
        q = F.linear(query, q_proj_weight, b_q)
        k = F.linear(key, k_proj_weight, b_k)
        v = F.linear(value, v_proj_weight, b_v)

    if attn_mask is not None:
        if attn_mask.ndim == 2:
            if tuple(attn_mask.shape) != (tgt_len, src_len):
                raise RuntimeError(
                    f"The shape of the 2D attn_mask is {attn_mask.shape}, but should "
                    f"be {(tgt_len, src_len)}."
                )
            attn_mask = attn_mask.unsqueeze(0)
        elif attn_mask.ndim == 3:
            if tuple(attn_mask.shape) != (bsz * num_heads, tgt_len, src_len):
                raise RuntimeError(
                    f"The shape of the 3D attn_mask is {attn_mask.shape}, but should "
                    f"be {(bsz * num_heads, tgt_len, src_len)}."
                )
        else:
            raise RuntimeError(f"attn_mask's dimension {attn_mask.ndim} is not supported")

    if bias_k is not None and bias_v is not None:
        k = cat([k, bias_k.expand(1, bsz, embed_dim)])
        v = cat([v, bias_v.expand(1, bsz, embed_dim)])
        if attn_mask is not None:
            attn_mask = _pad_last(attn_mask)
        if key_padding_mask is not None:
            key_padding_mask = _pad_last(key_padding_mask)

    q = q.reshape(tgt_len, bsz * num_heads, head_dim).transpose(0, 1)
    k = k.reshape(k.shape[0], bsz * num_heads, head_dim).transpose(0, 1)
    v = v.reshape(v.shape[0], bsz * num_heads, head_dim).transpose(0, 1)

    if add_zero_attn:
        zeros = wrap(np.zeros((bsz * num_heads, 1, head_dim), dtype=dtype))
        k = cat([k, zeros], dim=1)
        v = cat([v, zeros], dim=1)
        if attn_mask is not None:
            attn_mask = _pad_last(attn_mask)
        if key_padding_mask is not None:
            key_padding_mask = _pad_last(key_padding_mask)

    src_len = k.shape[1]
    if key_padding_mask is not None:
        if tuple(key_padding_mask.shape) != (bsz, src_len):
            raise RuntimeError(
                f"expecting key_padding_mask shape of {(bsz, src_len)}, but got "
                f"{tuple(key_padding_mask.shape)}"
            )
        kpm = key_padding_mask.reshape(bsz, 1, 1, src_len).expand(bsz, num_heads, 1, src_len)
        kpm = kpm.reshape(bsz * num_heads, 1, src_len)
        attn_mask = kpm if attn_mask is None else attn_mask + kpm

    if not training:
        dropout_p = 0.0

    if need_weights:
        q_scaled = q * math.sqrt(1.0 / float(head_dim))
        scores = q_scaled.matmul(k.transpose(-2, -1))
        if attn_mask is not None:
            scores = scores + attn_mask
        weights = scores.softmax(dim=-1)
        if dropout_p > 0.0:
            weights = F.dropout(weights, p=dropout_p)
        out = weights.matmul(v)
        out = out.transpose(0, 1).reshape(tgt_len * bsz, embed_dim)
        out = F.linear(out, out_proj_weight, out_proj_bias).reshape(tgt_len, bsz, embed_dim)
        weights = weights.reshape(bsz, num_heads, tgt_len, src_len)
        if average_attn_weights:
            weights = weights.mean(dim=1)
        if not batched:
            out, weights = out.squeeze(1), weights.squeeze(0)
        return out, weights

    if attn_mask is not None:
        if attn_mask.shape[0] == 1 and attn_mask.ndim == 3:
            attn_mask = attn_mask.unsqueeze(0)
        else:
            attn_mask = attn_mask.reshape(bsz, num_heads, -1, src_len)
    q = q.reshape(bsz, num_heads, tgt_len, head_dim)
    k = k.reshape(bsz, num_heads, src_len, head_dim)
    v = v.reshape(bsz, num_heads, src_len, head_dim)
    out = scaled_dot_product_attention(q, k, v, attn_mask, dropout_p, is_causal)
    out = out.permute(2, 0, 1, 3).reshape(bsz * tgt_len, embed_dim)
    out = F.linear(out, out_proj_weight, out_proj_bias).reshape(tgt_len, bsz, embed_dim)
    if not batched:
        out = out.squeeze(1)
    return out, None


def _pad_last(mask: Tensor) -> Tensor:
    """One more (zero) column on the last axis, as ``F.pad(mask, (0, 1))``."""
    from gradfit._functional import cat

    zeros = wrap(np.zeros(mask.shape[:-1] + (1,), dtype=unwrap(mask).dtype))
    return cat([mask, zeros], dim=-1)
