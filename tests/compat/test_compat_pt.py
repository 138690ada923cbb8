"""``.pt`` files both ways: gradfit.save -> torch.load(weights_only=True) and torch.save ->
gradfit.load, for the state dicts of every nn layer, optimizer state dicts and nested data;
malicious pickles are refused without running anything."""

from __future__ import annotations

import io
import os
import pickle
import zipfile
from collections import OrderedDict

import numpy as np
import pytest

import gradfit
from gradfit import nn

# Layer constructors, called with the library's own nn (gradfit's or torch's).
LAYERS = {
    "Linear": lambda nn: nn.Linear(3, 4),
    "Linear-nobias": lambda nn: nn.Linear(3, 2, bias=False),
    "LayerNorm": lambda nn: nn.LayerNorm(4),
    "GRU": lambda nn: nn.GRU(3, 4, num_layers=2),
    "GRUCell": lambda nn: nn.GRUCell(3, 2),
    "Sequential": lambda nn: nn.Sequential(
        nn.Linear(3, 5), nn.ReLU(), nn.Dropout(0.1), nn.Linear(5, 2), nn.Tanh()
    ),
    "ReLU": lambda nn: nn.ReLU(),
    "Conv1d": lambda nn: nn.Conv1d(2, 3, 3),
    "Conv2d": lambda nn: nn.Conv2d(2, 3, (3, 2), groups=1, bias=False),
    "ConvTranspose1d": lambda nn: nn.ConvTranspose1d(2, 4, 3, groups=2),
    "ConvTranspose2d": lambda nn: nn.ConvTranspose2d(2, 3, 2),
    "BatchNorm1d": lambda nn: nn.BatchNorm1d(3),
    "BatchNorm2d": lambda nn: nn.BatchNorm2d(2, affine=False),
    "GroupNorm": lambda nn: nn.GroupNorm(2, 4),
    "InstanceNorm1d": lambda nn: nn.InstanceNorm1d(3, affine=True, track_running_stats=True),
    "Embedding": lambda nn: nn.Embedding(6, 3, padding_idx=0),
    "RNN": lambda nn: nn.RNN(3, 4, num_layers=2, bidirectional=True),
    "RNNCell": lambda nn: nn.RNNCell(3, 2),
    "LSTM": lambda nn: nn.LSTM(3, 4, proj_size=2),
    "LSTMCell": lambda nn: nn.LSTMCell(3, 2),
    "PReLU": lambda nn: nn.PReLU(3),
    "MultiheadAttention": lambda nn: nn.MultiheadAttention(4, 2),
    "TransformerEncoderLayer": lambda nn: nn.TransformerEncoderLayer(4, 2, dim_feedforward=8),
    "Transformer": lambda nn: nn.Transformer(
        4, 2, num_encoder_layers=1, num_decoder_layers=1, dim_feedforward=8
    ),
}


def _to_np(x):
    import torch

    if isinstance(x, torch.Tensor):
        return x.detach().numpy()
    return x.detach().numpy() if isinstance(x, gradfit.Tensor) else x


def assert_same_tree(a, b, where="root"):
    """Same structure, keys, container types, dtypes and values (tensors of either library)."""
    import torch

    if isinstance(a, torch.Tensor | gradfit.Tensor):
        assert isinstance(b, torch.Tensor | gradfit.Tensor), where
        x, y = _to_np(a), _to_np(b)
        assert x.dtype == y.dtype and x.shape == y.shape, f"{where}: {x.dtype}{x.shape}"
        np.testing.assert_array_equal(x, y, err_msg=where)
        assert a.requires_grad == b.requires_grad, where
    elif isinstance(a, dict):
        assert isinstance(b, dict) and list(a) == list(b), f"{where}: {list(a)} != {list(b)}"
        assert isinstance(a, OrderedDict) == isinstance(b, OrderedDict), where
        for k in a:
            assert_same_tree(a[k], b[k], f"{where}[{k!r}]")
    elif isinstance(a, list | tuple):
        assert type(a) is type(b) and len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b)):
            assert_same_tree(x, y, f"{where}[{i}]")
    else:
        assert type(a) is type(b) and (a == b or (a != a and b != b)), f"{where}: {a!r} {b!r}"


@pytest.mark.parametrize("layer", LAYERS)
def test_layer_state_dicts_gradfit_to_torch_and_back(layer, tmp_path):
    import torch

    g = LAYERS[layer](nn)
    path = tmp_path / "model.pt"
    gradfit.save(g.state_dict(), path)
    loaded = torch.load(path, weights_only=True)
    assert_same_tree(g.state_dict(), loaded)
    t = LAYERS[layer](torch.nn)
    t.load_state_dict(loaded)  # strict: every key and shape as PyTorch's own layer
    # And back: torch.save of the same weights reads into a fresh gradfit layer.
    torch.save(t.state_dict(), tmp_path / "torch.pt")
    from_torch = gradfit.load(tmp_path / "torch.pt")
    assert_same_tree(t.state_dict(), from_torch)
    fresh = LAYERS[layer](nn)
    fresh.load_state_dict(from_torch)
    assert_same_tree(g.state_dict(), fresh.state_dict())


OPTIMIZERS = {
    "SGD": lambda o, p: o.SGD(p, lr=0.1, momentum=0.9, nesterov=True),
    "Adam": lambda o, p: o.Adam(p, lr=0.01, betas=(0.8, 0.99)),
    "AdamW": lambda o, p: o.AdamW(p, lr=0.01, amsgrad=True),
    "RMSprop": lambda o, p: o.RMSprop(p, lr=0.01, momentum=0.5, centered=True),
    "Adagrad": lambda o, p: o.Adagrad(p, lr=0.1),
}


def _stepped(lib, name):
    lib.manual_seed(0)
    model = lib.nn.Linear(3, 2)
    opt = OPTIMIZERS[name](lib.optim, model.parameters())
    for _ in range(2):
        opt.zero_grad()
        model(lib.ones(4, 3)).pow(2).sum().backward()
        opt.step()
    return model, opt


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_optimizer_state_dicts_both_ways(name, tmp_path):
    import torch

    _, g_opt = _stepped(gradfit, name)
    _, t_opt = _stepped(torch, name)
    gradfit.save(g_opt.state_dict(), tmp_path / "g.pt")
    torch.save(t_opt.state_dict(), tmp_path / "t.pt")
    from_gradfit = torch.load(tmp_path / "g.pt", weights_only=True)
    from_torch = gradfit.load(tmp_path / "t.pt")
    assert_same_tree(g_opt.state_dict(), from_gradfit)
    assert_same_tree(t_opt.state_dict(), from_torch)
    # Each library resumes from the other's file.
    _, t_fresh = _stepped(torch, name)
    t_fresh.load_state_dict(from_gradfit)
    _, g_fresh = _stepped(gradfit, name)
    g_fresh.load_state_dict(from_torch)


def _nested(lib, dtype_names):
    tensors = {n: lib.tensor(np.arange(6).reshape(2, 3) % 2 == 1) if n == "bool" else
               lib.arange(6).reshape(2, 3).to(getattr(lib, n)) for n in dtype_names}  # fmt: skip
    return {
        "epoch": 7,
        "lr": 0.125,
        "name": "run-1",
        "flags": [True, False, None],
        "pair": (1, 2.5, "x"),
        "tensors": tensors,
        "scalar": lib.tensor(3.5),
        "empty": lib.zeros(0, 3),
        "strided": lib.arange(12.0).reshape(3, 4).t(),
        "trainable": lib.ones(2, requires_grad=True),
        "list": [lib.zeros(2), {"deep": lib.ones(1, dtype=lib.float64)}],
    }


DTYPE_NAMES = ["float16", "float32", "float64", "int8", "int16", "int32", "int64", "uint8",
               "bool"]  # fmt: skip


def test_nested_objects_of_every_dtype_both_ways(tmp_path):
    import torch

    g = _nested(gradfit, DTYPE_NAMES)
    gradfit.save(g, tmp_path / "g.pt")
    assert_same_tree(g, torch.load(tmp_path / "g.pt", weights_only=True))
    t = _nested(torch, DTYPE_NAMES)
    torch.save(t, tmp_path / "t.pt")
    assert_same_tree(t, gradfit.load(tmp_path / "t.pt"))


def test_legacy_format_from_torch(tmp_path):
    import torch

    t = _nested(torch, DTYPE_NAMES)
    t["model"] = torch.nn.Linear(3, 2).state_dict()
    torch.save(t, tmp_path / "old.pt", _use_new_zipfile_serialization=False)
    assert not zipfile.is_zipfile(tmp_path / "old.pt")
    assert_same_tree(t, gradfit.load(tmp_path / "old.pt"))


def test_shared_storages_views_and_file_objects_from_torch():
    import torch

    base = torch.arange(20.0).reshape(4, 5)
    obj = {"base": base, "row": base[1], "cols": base[:, 1:3], "t": base.t(), "step": base[::2]}
    buf = io.BytesIO()
    torch.save(obj, buf)
    buf.seek(0)
    assert_same_tree(obj, gradfit.load(buf))
    out = io.BytesIO()
    gradfit.save({"w": gradfit.ones(3)}, out)
    out.seek(0)
    np.testing.assert_array_equal(torch.load(out, weights_only=True)["w"].numpy(), np.ones(3))


def test_parameter_and_model_round_trip(tmp_path):
    import torch

    p = nn.Parameter(gradfit.ones(2, 2))
    gradfit.save({"p": p}, tmp_path / "p.pt")
    back = torch.load(tmp_path / "p.pt", weights_only=True)["p"]
    assert isinstance(back, torch.nn.Parameter) and back.requires_grad
    torch.save({"p": torch.nn.Parameter(torch.zeros(2))}, tmp_path / "tp.pt")
    got = gradfit.load(tmp_path / "tp.pt")["p"]
    assert isinstance(got, nn.Parameter) and got.requires_grad


def test_safetensors_stays_the_format_for_safetensors_names(tmp_path):
    gradfit.save({"w": gradfit.ones(2)}, tmp_path / "m.safetensors")
    assert (tmp_path / "m.safetensors").read_bytes()[:2] != b"PK"
    gradfit.save({"w": gradfit.ones(2)}, tmp_path / "m.pt")
    assert zipfile.is_zipfile(tmp_path / "m.pt")


def test_unsupported_objects_are_refused_before_writing(tmp_path):
    with pytest.raises(TypeError, match="cannot store a set at <root>\\['a'\\]"):
        gradfit.save({"a": {1, 2}}, tmp_path / "x.pt")
    assert not os.path.exists(tmp_path / "x.pt")


# ---------------------------------------------------------------------------- malicious files
class _Payload:
    """Pickles to ``func(*args)``: what an attacker's .pt file does."""

    def __init__(self, func, args):
        self.func, self.args = func, args

    def __reduce__(self):
        return self.func, self.args


def _zip_with(pkl: bytes) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as z:
        z.writestr("evil/data.pkl", pkl)
        z.writestr("evil/version", b"3\n")
    return out.getvalue()


def _payloads(marker: str):
    import builtins
    import subprocess

    cmd = f"touch {marker}"
    write = f"open({marker!r}, 'w').write('ran')"
    return {
        "os.system": pickle.dumps(_Payload(os.system, (cmd,)), protocol=2),
        "eval": pickle.dumps(_Payload(eval, (write,)), protocol=2),
        "exec": pickle.dumps(_Payload(exec, (write,)), protocol=4),
        "subprocess": pickle.dumps(_Payload(subprocess.call, (["touch", marker],)), protocol=2),
        # getattr(builtins, "eval")(...): the classic way round a list of banned names.
        "getattr": b"\x80\x02cbuiltins\ngetattr\ncbuiltins\n__import__\nX\x08\x00\x00\x00"
        b"builtinsq\x00\x85R"
        + b"X\x04\x00\x00\x00evalq\x01\x86RX"
        + len(write).to_bytes(4, "little")
        + write.encode()
        + b"\x85R.",
        # A payload hidden inside a legitimate-looking state dict, after a real tensor.
        "nested": pickle.dumps(
            OrderedDict([("ok", 1), ("evil", _Payload(os.system, (cmd,)))]), protocol=2
        ),
        "import": pickle.dumps(_Payload(builtins.__import__, ("os",)), protocol=2),
    }


@pytest.mark.parametrize("kind", ["os.system", "eval", "exec", "subprocess", "getattr", "nested",
                                  "import"])  # fmt: skip
def test_malicious_pickles_are_refused_without_running(kind, tmp_path):
    marker = str(tmp_path / "ran")
    pkl = _payloads(marker)[kind]
    path = tmp_path / "evil.pt"
    path.write_bytes(_zip_with(pkl))
    with pytest.raises(pickle.UnpicklingError, match="refusing to load"):
        gradfit.load(path)
    with pytest.raises(pickle.UnpicklingError, match="refusing to load"):
        gradfit.load(path, weights_only=False)  # admits NumPy arrays, nothing more
    assert not os.path.exists(marker)
    raw = tmp_path / "legacy.pt"  # the same bytes as a bare (legacy-format) pickle
    raw.write_bytes(pkl)
    with pytest.raises(pickle.UnpicklingError, match="refusing to load"):
        gradfit.load(raw)
    assert not os.path.exists(marker)
    # ... and as the object of a well-formed legacy file (after its three header pickles).
    head = b"".join(pickle.dumps(v, protocol=2) for v in (0x1950A86A20F9469CFC6C, 1001, {}))
    raw.write_bytes(head + pkl)
    with pytest.raises(pickle.UnpicklingError, match="refusing to load"):
        gradfit.load(raw)
    assert not os.path.exists(marker)


def test_out_of_bounds_tensor_views_are_refused(tmp_path):
    import torch

    torch.save({"w": torch.zeros(4)}, tmp_path / "ok.pt")
    with zipfile.ZipFile(tmp_path / "ok.pt") as z:
        entries = {n: z.read(n) for n in z.namelist()}
    pkl_name = next(n for n in entries if n.endswith("data.pkl"))
    # Claim a (100,) tensor over the 4-element storage: reading it would leak memory.
    entries[pkl_name] = entries[pkl_name].replace(b"K\x04\x85", b"Kd\x85", 1)
    with zipfile.ZipFile(tmp_path / "bad.pt", "w") as z:
        for n, data in entries.items():
            z.writestr(n, data)
    with pytest.raises(pickle.UnpicklingError, match="reads past its storage"):
        gradfit.load(tmp_path / "bad.pt")


def test_dtypes_saved_as_pytorch_dtypes_both_ways(tmp_path):
    import torch

    names = [*DTYPE_NAMES, "complex64", "complex128"]
    gradfit.save({"dtypes": [getattr(gradfit, n) for n in names], "x": gradfit.ones(1)},
                 tmp_path / "g.pt")  # fmt: skip
    back = torch.load(tmp_path / "g.pt", weights_only=True)
    assert back["dtypes"] == [getattr(torch, n) for n in names]
    torch.save({"dtypes": [getattr(torch, n) for n in names]}, tmp_path / "t.pt")
    mine = gradfit.load(tmp_path / "t.pt")["dtypes"]
    assert all(d is getattr(gradfit, n) for d, n in zip(mine, names, strict=True))


# ---------------------------------------------------------------------------- NumPy arrays
NUMPY_VALUES = {
    "f64": np.sin(np.arange(12.0)).reshape(3, 4),
    "f32-fortran": np.asfortranarray(np.arange(6, dtype=np.float32).reshape(2, 3)),
    "int": np.arange(5, dtype=np.int64),
    "bool": np.array([True, False]),
    "0-d": np.array(2.5),
    "scalar": np.float64(1.25),
}


@pytest.mark.parametrize("name", sorted(NUMPY_VALUES))
def test_numpy_arrays_need_weights_only_false_both_ways(name, tmp_path):
    import torch

    value = {"data": NUMPY_VALUES[name], "epoch": 3}
    torch.save(value, tmp_path / "t.pt")
    with pytest.raises(pickle.UnpicklingError, match="weights_only=False"):
        gradfit.load(tmp_path / "t.pt")
    back = gradfit.load(tmp_path / "t.pt", weights_only=False)
    assert type(back["data"]) is type(value["data"]) and back["epoch"] == 3
    np.testing.assert_array_equal(back["data"], value["data"])
    assert np.asarray(back["data"]).dtype == np.asarray(value["data"]).dtype
    gradfit.save(value, tmp_path / "g.pt")
    with pytest.raises(pickle.UnpicklingError):
        torch.load(tmp_path / "g.pt")  # torch's weights_only=True refuses arrays too
    ref = torch.load(tmp_path / "g.pt", weights_only=False)
    np.testing.assert_array_equal(np.asarray(ref["data"]), np.asarray(value["data"]))


def test_object_arrays_are_refused_before_writing(tmp_path):
    with pytest.raises(TypeError, match="object array"):
        gradfit.save({"a": np.array([{}, 1], dtype=object)}, tmp_path / "x.pt")
    assert not os.path.exists(tmp_path / "x.pt")
