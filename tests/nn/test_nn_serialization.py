"""gradfit.save/load and checkpoints: safetensors files exchanged with PyTorch both ways,
no pickle, atomic writes."""

import os
from collections import OrderedDict

import numpy as np
import pytest
import safetensors.torch
import torch
from nn_testing import torch_default_float32  # noqa: F401 - autouse fixture

import gradfit
import gradfit.nn as nn
from gradfit import serialization


def _models():
    g = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3), nn.LayerNorm(3))
    t = torch.nn.Sequential(
        torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 3), torch.nn.LayerNorm(3)
    )
    return g, t


def _same_outputs(g, t, dtype=np.float32):
    x = np.random.default_rng(0).normal(size=(5, 4)).astype(dtype)
    with torch.no_grad():
        want = t(torch.tensor(x)).numpy()
    with gradfit.no_grad():
        got = g(gradfit.tensor(x)).numpy()
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


def test_state_dict_round_trip(tmp_path):
    g, _ = _models()
    path = tmp_path / "model.safetensors"
    gradfit.save(g.state_dict(), path)
    loaded = gradfit.load(path)
    assert isinstance(loaded, OrderedDict)
    assert set(loaded) == set(g.state_dict())
    fresh, _ = _models()
    fresh.load_state_dict(loaded)
    for (name, a), b in zip(g.state_dict().items(), fresh.state_dict().values()):
        np.testing.assert_array_equal(a.numpy(), b.numpy(), err_msg=name)
        assert a.dtype == b.dtype


def test_file_from_torch_loads_into_gradfit(tmp_path):
    g, t = _models()
    path = tmp_path / "torch.safetensors"
    safetensors.torch.save_file(t.state_dict(), str(path))
    g.load_state_dict(gradfit.load(path))
    _same_outputs(g, t)


def test_file_from_gradfit_loads_into_torch(tmp_path):
    g, t = _models()
    path = tmp_path / "gradfit.safetensors"
    gradfit.save(g.state_dict(), path)
    t.load_state_dict(safetensors.torch.load_file(str(path)))
    _same_outputs(g, t)


def test_float64_model_exchange(tmp_path):
    g, t = _models()
    t = t.double()
    path = tmp_path / "f64.safetensors"
    safetensors.torch.save_file(t.state_dict(), str(path))
    loaded = gradfit.load(path)
    assert loaded["0.weight"].dtype == np.float64
    g.double().load_state_dict(loaded)
    _same_outputs(g, t, np.float64)


def test_mismatched_file_names_key_and_both_shapes(tmp_path):
    path = tmp_path / "wrong.safetensors"
    safetensors.torch.save_file(torch.nn.Linear(4, 6).state_dict(), str(path))
    with pytest.raises(RuntimeError) as e:
        nn.Linear(4, 5).load_state_dict(gradfit.load(path))
    msg = str(e.value)
    assert "size mismatch for weight" in msg and "[6, 4]" in msg and "[5, 4]" in msg
    assert "size mismatch for bias" in msg and "[6]" in msg and "[5]" in msg


def test_torch_pt_files_load_through_the_restricted_reader(tmp_path):
    # The .pt reader and its refusal of anything beyond weights are tested in tests/compat.
    path = tmp_path / "model.pt"
    t = torch.nn.Linear(2, 2)
    torch.save(t.state_dict(), str(path))
    loaded = gradfit.load(path)
    np.testing.assert_array_equal(loaded["weight"].numpy(), t.weight.detach().numpy())
    with pytest.raises(FileNotFoundError):
        gradfit.load(tmp_path / "missing.safetensors")


def test_checkpoint_nested_structure(tmp_path):
    obj = {
        "epoch": 7,
        "best": 0.125,
        "name": "run-1",
        "done": False,
        "none": None,
        "nan": float("nan"),
        "model": nn.Linear(3, 2).state_dict(),
        "optimizer": {
            "state": {0: {"step": gradfit.tensor(5.0), "exp_avg": gradfit.randn(2, 3)}, 1: {}},
            "param_groups": [{"lr": 1e-3, "betas": (0.9, 0.999), "params": [0, 1]}],
        },
        "history": [1.0, 0.5, np.float32(0.25)],
        "array": np.arange(6, dtype=np.int64).reshape(2, 3),
    }
    path = tmp_path / "ckpt.safetensors"
    serialization.save_checkpoint(obj, path)
    back = serialization.load_checkpoint(path)
    assert back["epoch"] == 7 and back["best"] == 0.125 and back["name"] == "run-1"
    assert back["done"] is False and back["none"] is None and np.isnan(back["nan"])
    assert list(back["optimizer"]["state"]) == [0, 1]  # integer keys survive
    step = back["optimizer"]["state"][0]["step"]
    assert isinstance(step, gradfit.Tensor) and step.shape == () and step.item() == 5.0
    np.testing.assert_array_equal(
        back["optimizer"]["state"][0]["exp_avg"].numpy(),
        obj["optimizer"]["state"][0]["exp_avg"].numpy(),
    )
    assert back["optimizer"]["param_groups"][0]["betas"] == (0.9, 0.999)
    assert back["history"][2] == np.float32(0.25) and type(back["history"][2]) is np.float32
    assert isinstance(back["array"], np.ndarray) and back["array"].dtype == np.int64
    assert isinstance(back["model"], OrderedDict) and list(back["model"]) == ["weight", "bias"]
    # gradfit.save/load use the same format for anything that is not a flat state dict.
    gradfit.save(obj, tmp_path / "via_save.safetensors")
    assert gradfit.load(tmp_path / "via_save.safetensors")["epoch"] == 7
    # Tensors are ordinary, dotted-name entries, readable by any safetensors reader.
    keys = safetensors.torch.load_file(str(path)).keys()
    assert "optimizer.state.0.exp_avg" in keys and "model.weight" in keys


def test_checkpoint_rejects_unsupported_objects(tmp_path):
    with pytest.raises(TypeError, match="cannot store a set"):
        serialization.save_checkpoint({"a": {1, 2}}, tmp_path / "x.safetensors")
    assert not os.path.exists(tmp_path / "x.safetensors")


def _write_good_file(path):
    gradfit.save({"w": gradfit.ones(1000)}, path)
    return path.read_bytes()


def test_interrupted_write_midway_keeps_old_file_and_no_temp(tmp_path, monkeypatch):
    path = tmp_path / "model.safetensors"
    good = _write_good_file(path)
    calls = {"n": 0}
    original = serialization._write_chunk

    def failing_write(f, chunk):
        calls["n"] += 1
        if calls["n"] == 2:
            raise OSError("disk full (simulated)")
        original(f, chunk)

    monkeypatch.setattr(serialization, "_CHUNK", 1024)  # several chunks: fail in the middle
    monkeypatch.setattr(serialization, "_write_chunk", failing_write)
    with pytest.raises(OSError, match="simulated"):
        gradfit.save({"w": gradfit.zeros(5000)}, path)
    assert calls["n"] == 2
    assert path.read_bytes() == good
    assert os.listdir(tmp_path) == ["model.safetensors"]
    assert gradfit.load(path)["w"].numpy().sum() == 1000


def test_interrupted_before_rename_keeps_old_file(tmp_path, monkeypatch):
    path = tmp_path / "ckpt.safetensors"
    good = _write_good_file(path)

    def crash(fd):
        raise KeyboardInterrupt

    monkeypatch.setattr(serialization, "_fsync", crash)
    with pytest.raises(KeyboardInterrupt):
        serialization.save_checkpoint({"epoch": 3, "w": gradfit.zeros(3)}, path)
    assert path.read_bytes() == good
    assert os.listdir(tmp_path) == ["ckpt.safetensors"]


def test_no_pickle_anywhere():
    import inspect

    source = inspect.getsource(serialization)
    assert "import pickle" not in source and "pickle.load" not in source
