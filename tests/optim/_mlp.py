"""A tiny 2-layer MLP written with raw tensors, identical in gradfit and torch.

The model: out = relu(x @ W1.T + b1) @ W2.T + b2, loss = mean((out - y)^2) (``tanh``
instead of relu for L-BFGS, whose many line-search decisions need a smooth loss to stay
reproducible to 1e-10 over 100 steps). A fifth
parameter, ``unused``, never enters the loss: its ``.grad`` stays None, so every optimizer
must skip it (no state, no decay), as PyTorch does.
"""

from __future__ import annotations

import copy

import numpy as np
import torch

import gradfit

N_IN, N_HIDDEN, N_OUT, N_BATCH = 3, 8, 2, 16


def init_arrays(seed: int = 0, hidden: int = N_HIDDEN) -> dict:
    rng = np.random.default_rng(seed)
    return {
        "W1": rng.normal(0, 0.7, (hidden, N_IN)),
        "b1": rng.normal(0, 0.1, hidden),
        "W2": rng.normal(0, 0.5, (N_OUT, hidden)),
        "b2": rng.normal(0, 0.1, N_OUT),
        "unused": rng.normal(0, 1.0, 3),
    }


def data(seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(N_BATCH, N_IN))
    y = np.stack([np.sin(x[:, 0]) + x[:, 1] * x[:, 2], np.cos(x[:, 1]) - x[:, 0]], axis=1)
    return x, y


class Model:
    """The MLP in one framework: ``lib`` is ``gradfit`` or ``torch``."""

    def __init__(self, lib, arrays: dict, activation: str = "relu", l2: float = 0.0):
        self.lib = lib
        self.activation = activation
        self.l2 = l2
        self.params = {
            k: lib.tensor(np.array(v), dtype=lib.float64, requires_grad=True)
            for k, v in arrays.items()
        }
        x, y = data()
        self.x = lib.tensor(x, dtype=lib.float64)
        self.y = lib.tensor(y, dtype=lib.float64)

    def parameters(self) -> list:
        return list(self.params.values())

    def loss(self):
        p = self.params
        pre = self.x @ p["W1"].T + p["b1"]
        h = pre.relu() if self.activation == "relu" else pre.tanh()
        out = h @ p["W2"].T + p["b2"]
        loss = ((out - self.y) ** 2).mean()
        if self.l2:
            for k in ("W1", "b1", "W2", "b2"):
                loss = loss + self.l2 * (p[k] ** 2).sum()
        return loss

    def arrays(self) -> dict:
        return {k: np.array(v.detach().numpy(), copy=True) for k, v in self.params.items()}


def to_numpy(obj):
    """Recursively turn gradfit/torch tensors into NumPy arrays (for comparisons)."""
    if isinstance(obj, (gradfit.Tensor, torch.Tensor)):
        return np.array(obj.detach().numpy(), copy=True)
    if isinstance(obj, dict):
        return {k: to_numpy(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(to_numpy(v) for v in obj)
    return copy.deepcopy(obj)


def to_torch(obj):
    """Recursively turn gradfit Tensors into torch tensors (to load a gradfit state_dict
    into a torch optimizer)."""
    if isinstance(obj, gradfit.Tensor):
        return torch.tensor(obj.numpy().copy())
    if isinstance(obj, dict):
        return {k: to_torch(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(to_torch(v) for v in obj)
    return obj


def assert_rel_close(actual, expected, tol: float, what: str = "") -> None:
    """max|actual - expected| <= tol * max(|expected|, 1e-300), array by array."""
    a, e = np.asarray(actual, dtype=np.float64), np.asarray(expected, dtype=np.float64)
    assert a.shape == e.shape, f"{what}: shape {a.shape} != {e.shape}"
    scale = max(float(np.max(np.abs(e))) if e.size else 0.0, 1e-300)
    err = float(np.max(np.abs(a - e))) if e.size else 0.0
    assert err <= tol * scale, f"{what}: relative error {err / scale:.3e} > {tol:.1e}"


def structure(obj):
    """The shape of a state_dict: dict keys, list lengths, tensor shapes/dtypes, and
    scalar values, with gradfit and torch tensors described the same way."""
    if isinstance(obj, (gradfit.Tensor, torch.Tensor)):
        arr = obj.detach().numpy()
        return ("tensor", arr.shape, str(arr.dtype))
    if isinstance(obj, dict):
        return {k: structure(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [structure(v) for v in obj]
    if isinstance(obj, (int, float)) and not isinstance(obj, bool):
        return "number"
    return obj
