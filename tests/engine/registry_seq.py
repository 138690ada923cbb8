"""Registry entries of the sequence-model ops: embedding, scaled dot-product attention
(masks, causal), multi-head attention, the recurrent layers (packed and padded) and the
packing functions. Layers are built inside ``fn`` after ``lib.manual_seed(0)``: gradfit and
PyTorch initialise them identically, so one lambda serves both libraries.

``scale_grad_by_freq`` is not here: it scales the gradient, so it is not a derivative that
finite differences could check; tests/nn/test_nn_seq_parity.py compares it with PyTorch."""

from __future__ import annotations

from hypothesis import strategies as st

from .op_registry import OpSpec

small = st.integers(1, 3)


def _idx(lib, n_rows: int):
    return lib.tensor([[0, n_rows - 1, 1 % n_rows], [n_rows - 1, 0, 0]])


def _embedding_padded(lib, w):
    # The padding row gets no gradient by definition; the output's padding positions are
    # zeroed so the finite differences agree with that.
    idx = _idx(lib, w.shape[0])
    out = lib.nn.functional.embedding(idx, w, padding_idx=0)
    return out * (idx != 0).unsqueeze(-1).to(w.dtype)


def _bool_mask(lib, n_q: int, n_k: int):
    rows = [[(i + 2 * j) % 3 != 1 or j == 0 for j in range(n_k)] for i in range(n_q)]
    return lib.tensor(rows)


def _seeded(lib, make, like):
    lib.manual_seed(0)
    return make().to(like.dtype)


def _rnn(name, **kw):
    def fn(lib, x, h):
        m = _seeded(lib, lambda: getattr(lib.nn, name)(x.shape[-1], h.shape[-1], **kw), x)
        if name == "LSTM":
            out, (hn, cn) = m(x, (h, h * 0.5))
            return out.sum(-1) + hn.sum() + cn.sum()
        out, hn = m(x, h)
        return out.sum(-1) + hn.sum()

    return fn


def _rnn_shapes(layers: int):
    return st.tuples(st.integers(1, 4), small, st.integers(1, 3), st.integers(1, 3)).map(
        lambda t: [(t[0], t[1], t[2]), (layers, t[1], t[3])]
    )


def _packed_lstm(lib, x):
    m = _seeded(lib, lambda: lib.nn.LSTM(x.shape[-1], 2, bidirectional=True), x)
    n = x.shape[1]
    lengths = [max(1, x.shape[0] - (j % 3)) for j in range(n)]
    rnn = lib.nn.utils.rnn
    packed = rnn.pack_padded_sequence(x, lengths, enforce_sorted=False)
    out, (hn, _) = m(packed)
    return rnn.pad_packed_sequence(out)[0].sum(-1) + hn.sum()


def _mha(lib, q, kv, **kw):
    m = _seeded(lib, lambda: lib.nn.MultiheadAttention(4, 2, **kw), q)
    n_q, n_k = q.shape[0], kv.shape[0]
    mask = _bool_mask(lib, n_q, n_k).logical_not()
    out, w = m(q, kv, kv, attn_mask=mask)
    return out.sum(-1) + w.sum()


REGISTRY_SEQ: list[OpSpec] = [
    OpSpec(
        "embedding",
        _embedding_padded,
        "custom",
        shapes=st.tuples(st.integers(1, 4), small).map(lambda t: [t]),
        samples=[[(5, 3)], [(1, 2)]],
    ),
    OpSpec(
        "sdpa",
        lambda lib, q, k, v: lib.nn.functional.scaled_dot_product_attention(q, k, v),
        "custom",
        shapes=st.tuples(small, small, small, small, small).map(
            lambda t: [(t[0], t[1], t[3]), (t[0], t[2], t[3]), (t[0], t[2], t[4])]
        ),
        samples=[[(2, 3, 4), (2, 5, 4), (2, 5, 2)]],
    ),
    OpSpec(
        "sdpa_bool_mask",
        lambda lib, q, k, v: lib.nn.functional.scaled_dot_product_attention(
            q, k, v, attn_mask=_bool_mask(lib, q.shape[-2], k.shape[-2]), scale=0.7
        ),
        "custom",
        shapes=st.tuples(small, small, small, small).map(
            lambda t: [(2, t[0], t[2], t[3]), (1, t[0], t[1], t[3]), (1, t[0], t[1], 2)]
        ),
        samples=[[(2, 2, 3, 4), (1, 2, 5, 4), (1, 2, 5, 2)]],
    ),
    OpSpec(
        "sdpa_causal",
        lambda lib, q, k, v: lib.nn.functional.scaled_dot_product_attention(
            q, k, v, is_causal=True
        ),
        "custom",
        shapes=st.tuples(small, st.integers(1, 4), small).map(
            lambda t: [(t[0], t[1], t[2]), (t[0], t[1], t[2]), (t[0], t[1], t[2])]
        ),
        samples=[[(2, 4, 3), (2, 4, 3), (2, 4, 3)]],
    ),
    OpSpec(
        "multihead_attention",
        _mha,
        "custom",
        shapes=st.tuples(small, small, small).map(lambda t: [(t[0], t[2], 4), (t[1], t[2], 4)]),
        samples=[[(3, 2, 4), (5, 2, 4)]],
    ),
    OpSpec(
        "multihead_attention_bias_kv",
        lambda lib, q, kv: _mha(lib, q, kv, add_bias_kv=True, add_zero_attn=True),
        "custom",
        shapes=st.tuples(small, small, small).map(lambda t: [(t[0], t[2], 4), (t[1], t[2], 4)]),
        samples=[[(3, 2, 4), (2, 2, 4)]],
    ),
    OpSpec("lstm", _rnn("LSTM"), "custom", shapes=_rnn_shapes(1), samples=[[(4, 2, 3), (1, 2, 2)]]),
    OpSpec(
        "lstm_2layer_bidirectional",
        _rnn("LSTM", num_layers=2, bidirectional=True),
        "custom",
        shapes=_rnn_shapes(4),
        samples=[[(3, 2, 3), (4, 2, 2)]],
    ),
    OpSpec("gru", _rnn("GRU"), "custom", shapes=_rnn_shapes(1), samples=[[(4, 2, 3), (1, 2, 2)]]),
    OpSpec(
        "rnn_tanh_bidirectional",
        _rnn("RNN", bidirectional=True),
        "custom",
        shapes=_rnn_shapes(2),
        samples=[[(4, 2, 3), (2, 2, 2)]],
    ),
    OpSpec(
        "rnn_relu",
        _rnn("RNN", nonlinearity="relu"),
        "custom",
        shapes=_rnn_shapes(1),
        samples=[[(4, 2, 3), (1, 2, 2)]],
        domain="away0",
    ),
    OpSpec(
        "lstm_packed",
        _packed_lstm,
        "custom",
        shapes=st.tuples(st.integers(1, 4), st.integers(1, 4), small).map(lambda t: [t]),
        samples=[[(4, 3, 2)]],
    ),
    OpSpec(
        "pad_sequence",
        lambda lib, a, b: lib.nn.utils.rnn.pad_sequence([a, b, a[:1]], padding_value=0.5),
        "custom",
        shapes=st.tuples(st.integers(1, 4), st.integers(1, 4), small).map(
            lambda t: [(t[0], t[2]), (t[1], t[2])]
        ),
        samples=[[(3, 2), (1, 2)]],
    ),
]
