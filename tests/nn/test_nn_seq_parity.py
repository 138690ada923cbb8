"""Sequence layers against PyTorch: Embedding, RNN/LSTM/GRU (and cells, packed
sequences), scaled dot-product attention, MultiheadAttention and the Transformer layers.

Same weights and inputs: outputs and every gradient agree (float64 1e-10, float32 1e-5);
same seed: the same initial parameters and (in training mode) the same dropout masks;
state_dict keys equal PyTorch's.
"""

import numpy as np
import pytest
import torch
from nn_testing import (
    DTYPES,
    assert_close,
    backward_both,
    check_module,
    copy_weights,
    pair,
    torch_default_float32,  # noqa: F401 - autouse fixture
)

import gradfit
import gradfit.nn as nn
import gradfit.nn.functional as F

TD = {np.float64: torch.float64, np.float32: torch.float32}


def _x(shape, dtype, seed=0):
    return np.random.default_rng(seed).normal(size=shape).astype(dtype)


def _both(name, dtype, *args, seed=0, **kwargs):
    torch.manual_seed(seed)
    t = getattr(torch.nn, name)(*args, **kwargs).to(TD[dtype])
    gradfit.manual_seed(seed)
    g = getattr(nn, name)(*args, **kwargs).to(dtype)
    return g, t


def _params_close(g, t, dtype):
    tp, gp = dict(t.named_parameters()), dict(g.named_parameters())
    assert list(gp) == list(tp)
    assert list(g.state_dict()) == list(t.state_dict())
    for k in tp:
        np.testing.assert_allclose(
            gp[k].detach().numpy(), tp[k].detach().numpy(), rtol=1e-6, atol=1e-7, err_msg=k
        )


# --------------------------------------------------------------------------- initialisation
INIT_CASES = [
    ("Embedding", (7, 5), {"padding_idx": 2}),
    ("Embedding", (7, 5), {"padding_idx": -1}),
    ("RNN", (3, 4), {"num_layers": 2, "nonlinearity": "relu", "bidirectional": True}),
    ("LSTM", (3, 6), {"num_layers": 2, "bidirectional": True, "proj_size": 2}),
    ("GRU", (3, 4), {"bias": False}),
    ("RNNCell", (3, 4), {}),
    ("LSTMCell", (3, 4), {}),
    ("GRUCell", (3, 4), {}),
    ("MultiheadAttention", (8, 2), {}),
    ("MultiheadAttention", (8, 4), {"kdim": 3, "vdim": 5, "add_bias_kv": True}),
    ("MultiheadAttention", (8, 2), {"bias": False}),
    ("TransformerEncoderLayer", (8, 2, 16), {}),
    ("TransformerDecoderLayer", (8, 2, 16), {"norm_first": True}),
]


@pytest.mark.parametrize("name, args, kwargs", INIT_CASES, ids=[c[0] for c in INIT_CASES])
def test_same_seed_same_initial_parameters(name, args, kwargs):
    for seed in (0, 3):
        torch.manual_seed(seed)
        t = getattr(torch.nn, name)(*args, **kwargs)
        gradfit.manual_seed(seed)
        g = getattr(nn, name)(*args, **kwargs)
        _params_close(g, t, np.float32)
        assert repr(g) == repr(t)
        # the generator is left in the same state: the next draw agrees
        np.testing.assert_allclose(gradfit.rand(3).numpy(), torch.rand(3).numpy(), rtol=1e-6)


def test_stacked_transformers_start_equal_and_full_model_inits_like_torch():
    torch.manual_seed(0)
    t = torch.nn.Transformer(8, 2, 2, 1, 16, dropout=0.0)
    gradfit.manual_seed(0)
    g = nn.Transformer(8, 2, 2, 1, 16, dropout=0.0)
    _params_close(g, t, np.float32)
    torch.manual_seed(1)
    te = torch.nn.TransformerEncoder(torch.nn.TransformerEncoderLayer(8, 2, 16), 3)
    gradfit.manual_seed(1)
    ge = nn.TransformerEncoder(nn.TransformerEncoderLayer(8, 2, 16), 3)
    _params_close(ge, te, np.float32)


# --------------------------------------------------------------------------- embedding
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"padding_idx": 0},
        {"scale_grad_by_freq": True},
        {"padding_idx": 3, "scale_grad_by_freq": True},
    ],
)
def test_embedding(kwargs, dtype):
    g, t = _both("Embedding", dtype, 6, 4, **kwargs)
    idx = np.array([[0, 3, 3, 5], [1, 0, 3, 2], [5, 5, 5, 0]])
    gi, ti = gradfit.tensor(idx), torch.tensor(idx)
    copy_weights(g, t)
    go, to = g(gi), t(ti)
    assert_close(go, to, dtype, "embedding")
    backward_both([go], [to])
    assert_close(g.weight.grad, t.weight.grad, dtype, "embedding weight grad")
    if "padding_idx" in kwargs:
        assert not g.weight.grad.numpy()[kwargs["padding_idx"]].any()


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("norm_type", [2.0, 1.0])
def test_embedding_max_norm_renormalises_the_rows_it_reads_in_place(norm_type, dtype):
    g, t = _both("Embedding", dtype, 6, 4, max_norm=1.2, norm_type=norm_type)
    copy_weights(g, t)
    idx = np.array([4, 1, 1, 0])
    go, to = g(gradfit.tensor(idx)), t(torch.tensor(idx))
    assert_close(go, to, dtype, "max_norm output")
    assert_close(g.weight.detach(), t.weight.detach(), dtype, "renormalised table")
    backward_both([go], [to])
    assert_close(g.weight.grad, t.weight.grad, dtype, "max_norm grad")


def test_embedding_from_pretrained_and_functional():
    table = _x((5, 3), np.float64)
    g = nn.Embedding.from_pretrained(gradfit.tensor(table))
    t = torch.nn.Embedding.from_pretrained(torch.tensor(table))
    assert not g.weight.requires_grad and repr(g) == repr(t)
    g2 = nn.Embedding.from_pretrained(gradfit.tensor(table), freeze=False, padding_idx=1)
    assert g2.weight.requires_grad and g2.padding_idx == 1
    idx = np.array([[4, 1], [0, 0]])
    assert_close(g(gradfit.tensor(idx)), t(torch.tensor(idx)), np.float64, "pretrained")
    w, tw = pair(table)
    out = F.embedding(gradfit.tensor(idx), w, padding_idx=4)
    tout = torch.nn.functional.embedding(torch.tensor(idx), tw, padding_idx=4)
    backward_both([out], [tout])
    assert_close(w.grad, tw.grad, np.float64, "F.embedding grad")


def test_embedding_errors_name_the_bad_value():
    e = nn.Embedding(4, 2)
    with pytest.raises(IndexError, match="index 4 is out of range"):
        e(gradfit.tensor([1, 4]))
    with pytest.raises(RuntimeError, match="scalar types: Long, Int"):
        e(gradfit.tensor([1.0]))


# --------------------------------------------------------------------------- recurrent layers
RNN_CASES = [
    ("LSTM", {}, (6, 2, 3), "h0"),
    ("LSTM", {"num_layers": 2, "batch_first": True}, (2, 6, 3), None),
    ("LSTM", {"bidirectional": True, "proj_size": 2}, (5, 3, 3), "h0"),
    ("LSTM", {"num_layers": 2, "bidirectional": True, "bias": False}, (5, 3, 3), None),
    ("LSTM", {}, (6, 3), "h0"),  # unbatched
    ("RNN", {"nonlinearity": "relu", "num_layers": 2}, (5, 2, 3), "h0"),
    ("RNN", {"bidirectional": True, "batch_first": True}, (2, 5, 3), None),
    ("RNN", {}, (6, 3), None),
    ("GRU", {"bidirectional": True, "num_layers": 2}, (4, 3, 3), "h0"),
]


def _hidden(name, kwargs, x_shape, dtype):
    d = 2 if kwargs.get("bidirectional") else 1
    layers = kwargs.get("num_layers", 1) * d
    h = kwargs.get("proj_size") or 4
    batched = len(x_shape) == 3
    n = x_shape[0] if kwargs.get("batch_first") and batched else x_shape[1] if batched else None
    shape = (layers, n, h) if batched else (layers, h)
    cshape = (layers, n, 4) if batched else (layers, 4)
    if name == "LSTM":
        return [_x(shape, dtype, 5), _x(cshape, dtype, 6)]
    return [_x(shape, dtype, 5)]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name, kwargs, x_shape, h0", RNN_CASES)
def test_recurrent_layers(name, kwargs, x_shape, h0, dtype):
    g, t = _both(name, dtype, 3, 4, **kwargs)
    copy_weights(g, t)
    x, tx = pair(_x(x_shape, dtype, 1))
    hs = [pair(a) for a in _hidden(name, kwargs, x_shape, dtype)] if h0 else []
    if name == "LSTM" and hs:
        gout, (gh, gc) = g(x, (hs[0][0], hs[1][0]))
        tout, (th, tc) = t(tx, (hs[0][1], hs[1][1]))
        gouts, touts = [gout, gh, gc], [tout, th, tc]
    else:
        args = [hs[0][0]] if hs else []
        targs = [hs[0][1]] if hs else []
        gout, gh = g(x, *args)
        tout, th = t(tx, *targs)
        if name == "LSTM":
            gouts, touts = [gout, *gh], [tout, *th]
        else:
            gouts, touts = [gout, gh], [tout, th]
    for i, (a, b) in enumerate(zip(gouts, touts)):
        assert_close(a, b, dtype, f"{name} output {i}")
    backward_both(gouts, touts)
    assert_close(x.grad, tx.grad, dtype, "input grad")
    for a, b in hs:
        assert_close(a.grad, b.grad, dtype, "h0 grad")
    for (n, p), (_, tp) in zip(g.named_parameters(), t.named_parameters()):
        assert_close(p.grad, tp.grad, dtype, f"grad of {n}")


@pytest.mark.parametrize("name", ["LSTM", "GRU", "RNN"])
def test_dropout_between_layers_draws_torchs_masks(name):
    g, t = _both(name, np.float64, 3, 4, num_layers=3, dropout=0.4, seed=2)
    copy_weights(g, t)
    x = _x((5, 2, 3), np.float64)
    gradfit.manual_seed(11)
    torch.manual_seed(11)
    go, to = g(gradfit.tensor(x))[0], t(torch.tensor(x))[0]
    assert_close(go, to, np.float64, "dropout output")


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", ["LSTM", "GRU", "RNN"])
@pytest.mark.parametrize("enforce_sorted", [True, False])
def test_packed_sequences_through_recurrent_layers(name, enforce_sorted, dtype):
    kwargs = {"num_layers": 2, "bidirectional": True, "dropout": 0.3}
    g, t = _both(name, dtype, 3, 4, **kwargs)
    copy_weights(g, t)
    lengths = [5, 5, 3, 1] if enforce_sorted else [3, 5, 1, 5]
    x, tx = pair(_x((5, 4, 3), dtype, 1))
    gp = nn.utils.rnn.pack_padded_sequence(x, lengths, enforce_sorted=enforce_sorted)
    tp = torch.nn.utils.rnn.pack_padded_sequence(tx, lengths, enforce_sorted=enforce_sorted)
    assert gp.batch_sizes.tolist() == tp.batch_sizes.tolist()
    if not enforce_sorted:
        assert gp.sorted_indices.tolist() == tp.sorted_indices.tolist()
    h0 = _hidden(name, {**kwargs, "batch_first": False}, (5, 4, 3), dtype)
    hs = [pair(a) for a in h0]
    gradfit.manual_seed(4)
    torch.manual_seed(4)
    ghx = (hs[0][0], hs[1][0]) if name == "LSTM" else hs[0][0]
    thx = (hs[0][1], hs[1][1]) if name == "LSTM" else hs[0][1]
    gout, gh = g(gp, ghx)
    tout, th = t(tp, thx)
    assert_close(gout.data, tout.data, dtype, "packed output data")
    gpad, glen = nn.utils.rnn.pad_packed_sequence(gout, batch_first=True, total_length=6)
    tpad, tlen = torch.nn.utils.rnn.pad_packed_sequence(tout, batch_first=True, total_length=6)
    assert glen.tolist() == tlen.tolist()
    assert_close(gpad, tpad, dtype, "padded output")
    gouts = [gpad, *(gh if name == "LSTM" else [gh])]
    touts = [tpad, *(th if name == "LSTM" else [th])]
    for i, (a, b) in enumerate(zip(gouts[1:], touts[1:])):
        assert_close(a, b, dtype, f"final state {i}")
    backward_both(gouts, touts)
    assert_close(x.grad, tx.grad, dtype, "input grad through packing")
    for a, b in hs:
        assert_close(a.grad, b.grad, dtype, "h0 grad")
    for (n, p), (_, q) in zip(g.named_parameters(), t.named_parameters()):
        assert_close(p.grad, q.grad, dtype, f"grad of {n}")


def test_pad_sequence_and_pack_sequence():
    seqs = [_x((n, 2), np.float64, n) for n in (4, 2, 3)]
    gs, ts = zip(*(pair(s) for s in seqs))
    for kw in ({}, {"batch_first": True, "padding_value": -1.0}, {"padding_side": "left"}):
        gout = nn.utils.rnn.pad_sequence(list(gs), **kw)
        tout = torch.nn.utils.rnn.pad_sequence(list(ts), **kw)
        assert_close(gout, tout, np.float64, f"pad_sequence {kw}")
        backward_both([gout], [tout])
    for a, b in zip(gs, ts):
        assert_close(a.grad, b.grad, np.float64, "pad_sequence grad")
    gp = nn.utils.rnn.pack_sequence(list(gs), enforce_sorted=False)
    tp = torch.nn.utils.rnn.pack_sequence(list(ts), enforce_sorted=False)
    assert_close(gp.data, tp.data, np.float64, "pack_sequence data")
    assert gp.unsorted_indices.tolist() == tp.unsorted_indices.tolist()
    with pytest.raises(RuntimeError, match="sorted in decreasing order"):
        nn.utils.rnn.pack_sequence(list(gs))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", ["RNNCell", "LSTMCell", "GRUCell"])
@pytest.mark.parametrize("batched", [True, False])
def test_cells(name, batched, dtype):
    kwargs = {"nonlinearity": "relu"} if name == "RNNCell" else {}
    g, t = _both(name, dtype, 3, 4, **kwargs)
    x = _x((5, 3) if batched else (3,), dtype, 1)
    hshape = (5, 4) if batched else (4,)
    if name == "LSTMCell":
        copy_weights(g, t)
        (gx, tx), (gh, th), (gc, tc) = (
            pair(x),
            pair(_x(hshape, dtype, 2)),
            pair(_x(hshape, dtype, 3)),
        )
        gouts, touts = g(gx, (gh, gc)), t(tx, (th, tc))
        for a, b in zip(gouts, touts):
            assert_close(a, b, dtype, "LSTMCell")
        backward_both(list(gouts), list(touts))
        for a, b in ((gx, tx), (gh, th), (gc, tc), (g.weight_hh, t.weight_hh)):
            assert_close(a.grad, b.grad, dtype, "LSTMCell grad")
        assert_close(g(gx)[1], t(tx)[1], dtype, "LSTMCell zero state")
    else:
        check_module(g, t, [x, _x(hshape, dtype, 2)], dtype, what=name)


# --------------------------------------------------------------------------- attention
def _mask(kind, shape, seed=0):
    rng = np.random.default_rng(seed)
    if kind == "bool":
        m = rng.random(shape) > 0.3
        m[..., 0] = True  # every query sees at least one key
        return m
    return rng.normal(size=shape)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(
    "mask, causal, scale, shapes",
    [
        (None, False, None, [(2, 3, 5, 4), (2, 3, 6, 4), (2, 3, 6, 3)]),
        ("bool", False, None, [(2, 5, 4), (2, 6, 4), (2, 6, 4)]),
        ("float", False, 0.3, [(2, 3, 5, 4), (2, 3, 6, 4), (2, 3, 6, 2)]),
        (None, True, None, [(3, 5, 4), (3, 5, 4), (3, 5, 4)]),
        (None, True, None, [(1, 4, 6), (1, 7, 6), (1, 7, 6)]),
    ],
)
def test_scaled_dot_product_attention(mask, causal, scale, shapes, dtype):
    arrays = [_x(s, dtype, i) for i, s in enumerate(shapes)]
    gs, ts = zip(*(pair(a) for a in arrays))
    kw = {"is_causal": causal, "scale": scale}
    gm = tm = None
    if mask is not None:
        m = _mask(mask, (shapes[0][-2], shapes[1][-2]))
        m = m.astype(dtype) if mask == "float" else m
        gm, tm = gradfit.tensor(m), torch.tensor(m)
    go = F.scaled_dot_product_attention(*gs, attn_mask=gm, **kw)
    to = torch.nn.functional.scaled_dot_product_attention(*ts, attn_mask=tm, **kw)
    assert_close(go, to, dtype, "sdpa")
    backward_both([go], [to])
    for a, b in zip(gs, ts):
        assert_close(a.grad, b.grad, dtype, "sdpa grad")


@pytest.mark.parametrize("dtype", DTYPES)
def test_scaled_dot_product_attention_grouped_query_heads(dtype):
    # six query heads share two key heads and three value heads
    arrays = [_x(s, dtype, i) for i, s in enumerate([(2, 6, 4, 8), (2, 2, 5, 8), (2, 3, 5, 3)])]
    gs, ts = zip(*(pair(a) for a in arrays))
    go = F.scaled_dot_product_attention(*gs, is_causal=True, enable_gqa=True)
    to = torch.nn.functional.scaled_dot_product_attention(*ts, is_causal=True, enable_gqa=True)
    assert_close(go, to, dtype, "sdpa gqa")
    backward_both([go], [to])
    for a, b in zip(gs, ts):
        assert_close(a.grad, b.grad, dtype, "sdpa gqa grad")
    q, kv = gradfit.ones(1, 6, 2, 4), gradfit.ones(1, 4, 2, 4)
    with pytest.raises(RuntimeError, match="must divide the number of heads in"):
        F.scaled_dot_product_attention(q, kv, kv, enable_gqa=True)


def test_scaled_dot_product_attention_dropout_uses_torchs_stream():
    arrays = [_x((2, 2, 5, 4), np.float64, i) for i in range(3)]
    gs, ts = zip(*(pair(a) for a in arrays))
    gradfit.manual_seed(3)
    torch.manual_seed(3)
    go = F.scaled_dot_product_attention(*gs, dropout_p=0.4, is_causal=True)
    to = torch.nn.functional.scaled_dot_product_attention(*ts, dropout_p=0.4, is_causal=True)
    assert_close(go, to, np.float64, "sdpa dropout")
    backward_both([go], [to])
    for a, b in zip(gs, ts):
        assert_close(a.grad, b.grad, np.float64, "sdpa dropout grad")
    with pytest.raises(RuntimeError, match="is_causal"):
        F.scaled_dot_product_attention(*gs, attn_mask=gradfit.ones(5, 5), is_causal=True)


MHA_CASES = [
    ({}, {}, "self"),
    ({"batch_first": True}, {"need_weights": False}, "self"),
    ({}, {"average_attn_weights": False}, "cross"),
    ({"kdim": 3, "vdim": 5}, {}, "kv"),
    ({"add_bias_kv": True, "add_zero_attn": True}, {"key_padding_mask": "bool"}, "cross"),
    ({}, {"attn_mask": "bool", "key_padding_mask": "bool"}, "self"),
    ({"bias": False}, {"attn_mask": "float", "need_weights": False}, "cross"),
    ({}, {"attn_mask": "causal", "is_causal": True, "need_weights": False}, "self"),
    ({}, {}, "unbatched"),
]


def _mha_inputs(kind, kwargs, dtype, batch_first):
    n, lq, lk = 3, 4, 5
    if kind == "unbatched":
        q = _x((lq, 8), dtype, 1)
        return [q, q, q], lq, lq
    if kind == "self":
        q = _x((lq, n, 8), dtype, 1)
        arrs = [q, q, q]
        lk = lq
    elif kind == "cross":
        m = _x((lk, n, 8), dtype, 2)
        arrs = [_x((lq, n, 8), dtype, 1), m, m]
    else:
        arrs = [_x((lq, n, 8), dtype, 1), _x((lk, n, 3), dtype, 2), _x((lk, n, 5), dtype, 3)]
    if batch_first:
        arrs = [np.ascontiguousarray(a.swapaxes(0, 1)) for a in arrs]
    return arrs, lq, lk


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("init_kw, call_kw, kind", MHA_CASES)
def test_multihead_attention(init_kw, call_kw, kind, dtype):
    g, t = _both("MultiheadAttention", dtype, 8, 2, **init_kw)
    copy_weights(g, t)
    arrs, lq, lk = _mha_inputs(kind, init_kw, dtype, init_kw.get("batch_first", False))
    # the same tensor object for q, k, v where the caller passes one (self-attention)
    gin, tin = [], []
    for i, a in enumerate(arrs):
        if i and a is arrs[i - 1]:
            gin.append(gin[-1])
            tin.append(tin[-1])
        else:
            ga, ta = pair(a)
            gin.append(ga)
            tin.append(ta)
    gkw, tkw = {}, {}
    for key, val in call_kw.items():
        if key == "key_padding_mask":
            m = np.zeros((3, lk), bool)
            m[1, -2:] = True
            gkw[key], tkw[key] = gradfit.tensor(m), torch.tensor(m)
        elif key == "attn_mask" and val == "causal":
            gkw[key] = nn.Transformer.generate_square_subsequent_mask(lq, dtype=dtype)
            tkw[key] = torch.nn.Transformer.generate_square_subsequent_mask(lq, dtype=TD[dtype])
            assert_close(gkw[key], tkw[key], dtype, "causal mask")
        elif key == "attn_mask":
            m = ~_mask("bool", (lq, lk)) if val == "bool" else _mask("float", (lq, lk))
            m = m.astype(dtype) if val == "float" else m
            gkw[key], tkw[key] = gradfit.tensor(m), torch.tensor(m)
        else:
            gkw[key] = tkw[key] = val
    gout, gw = g(*gin, **gkw)
    tout, tw = t(*tin, **tkw)
    assert_close(gout, tout, dtype, "mha output")
    if tw is None:
        assert gw is None
    else:
        assert_close(gw, tw, dtype, "mha weights")
    backward_both(
        [gout] + ([gw] if gw is not None else []), [tout] + ([tw] if tw is not None else [])
    )
    for a, b in zip(gin, tin):
        assert_close(a.grad, b.grad, dtype, "mha input grad")
    for (n, p), (_, q) in zip(g.named_parameters(), t.named_parameters()):
        assert_close(p.grad, q.grad, dtype, f"mha grad of {n}")


@pytest.mark.parametrize("need_weights", [True, False])
def test_multihead_attention_dropout_in_training_matches_torch(need_weights):
    g, t = _both("MultiheadAttention", np.float64, 8, 2, dropout=0.3)
    copy_weights(g, t)
    q = _x((4, 3, 8), np.float64)
    gradfit.manual_seed(5)
    torch.manual_seed(5)
    gq, tq = gradfit.tensor(q), torch.tensor(q)
    assert_close(
        g(gq, gq, gq, need_weights=need_weights)[0],
        t(tq, tq, tq, need_weights=need_weights)[0],
        np.float64,
        "mha dropout",
    )


# --------------------------------------------------------------------------- transformer
LAYER_CASES = [
    ("TransformerEncoderLayer", {}),
    ("TransformerEncoderLayer", {"norm_first": True, "activation": "gelu", "batch_first": True}),
    ("TransformerDecoderLayer", {}),
    ("TransformerDecoderLayer", {"norm_first": True, "layer_norm_eps": 1e-3}),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name, kwargs", LAYER_CASES)
@pytest.mark.parametrize("train", [False, True])
def test_transformer_layers(name, kwargs, train, dtype):
    g, t = _both(name, dtype, 8, 2, 16, dropout=0.2, **kwargs)
    copy_weights(g, t)
    g.train(train)
    t.train(train)
    bf = kwargs.get("batch_first", False)
    src = _x((3, 5, 8) if bf else (5, 3, 8), dtype, 1)
    mem = _x((3, 6, 8) if bf else (6, 3, 8), dtype, 2)
    kpm = np.zeros((3, 5), bool)
    kpm[2, -1] = True
    mask = nn.Transformer.generate_square_subsequent_mask(5, dtype=dtype)
    tmask = torch.nn.Transformer.generate_square_subsequent_mask(5, dtype=TD[dtype])
    (gs, ts), (gm, tm) = pair(src), pair(mem)
    gradfit.manual_seed(9)
    torch.manual_seed(9)
    if name == "TransformerEncoderLayer":
        go = g(gs, src_mask=mask, src_key_padding_mask=gradfit.tensor(kpm))
        to = t(ts, src_mask=tmask, src_key_padding_mask=torch.tensor(kpm))
        ins = [(gs, ts)]
    else:
        go = g(gs, gm, tgt_mask=mask, tgt_is_causal=True)
        to = t(ts, tm, tgt_mask=tmask, tgt_is_causal=True)
        ins = [(gs, ts), (gm, tm)]
    assert_close(go, to, dtype, name)
    backward_both([go], [to])
    for a, b in ins:
        assert_close(a.grad, b.grad, dtype, f"{name} input grad")
    for (n, p), (_, q) in zip(g.named_parameters(), t.named_parameters()):
        assert_close(p.grad, q.grad, dtype, f"{name} grad of {n}")


def test_full_transformer_matches_torch():
    g, t = _both("Transformer", np.float64, 8, 2, 2, 2, 16, dropout=0.1, seed=4)
    copy_weights(g, t)
    src, tgt = _x((6, 2, 8), np.float64, 1), _x((5, 2, 8), np.float64, 2)
    (gs, ts), (gt, tt) = pair(src), pair(tgt)
    gradfit.manual_seed(1)
    torch.manual_seed(1)
    go = g(gs, gt, tgt_mask=nn.Transformer.generate_square_subsequent_mask(5, dtype=np.float64))
    to = t(ts, tt, tgt_mask=torch.nn.Transformer.generate_square_subsequent_mask(5))
    assert_close(go, to, np.float64, "transformer")
    backward_both([go], [to])
    assert_close(gs.grad, ts.grad, np.float64, "transformer src grad")
    for (n, p), (_, q) in zip(g.named_parameters(), t.named_parameters()):
        assert_close(p.grad, q.grad, np.float64, f"transformer grad of {n}")
