"""The data side of a run: load the configured set, split off validation data,
standardise, and turn the arrays into tensors of the run's dtype.

Splitting uses NumPy's ``default_rng(data.seed)``, not gradfit's generators, so the split
does not depend on (or disturb) the random streams of initialisation and shuffling.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from gradfit.train.builders import CLASSIFICATION_LOSSES, loss_name
from gradfit.train.errors import UsageError

DEFAULT_VAL_SPLIT = 0.2


@dataclass
class Prepared:
    """Arrays ready for training (NumPy; the run makes tensors of its dtype)."""

    name: str
    task: str  # classification | regression
    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    num_features: int
    num_outputs: int
    classes: list[str] = field(default_factory=list)
    one_hot: bool = False  # a regression loss on class labels fits one-hot targets
    mean: np.ndarray | None = None  # standardisation, from the training part
    std: np.ndarray | None = None
    val_source: str = ""
    fingerprint: str = ""  # what the data was, so a resume can tell it changed


def fingerprint(data_cfg: dict, ds) -> str:
    """A file's size and SHA-256; for a built-in set, the SHA-256 of its arrays (which its
    fixed generation arguments determine)."""
    h = hashlib.sha256()
    if data_cfg["path"]:
        path = Path(data_cfg["path"])
        with open(path, "rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                h.update(chunk)
        return f"{path.stat().st_size} bytes, sha256 {h.hexdigest()[:16]}"
    for a in (ds.x, ds.y, ds.x_test, ds.y_test):
        if a is not None:
            h.update(np.ascontiguousarray(a).tobytes())
    return f"built-in {ds.name}, sha256 {h.hexdigest()[:16]}"


def load_dataset(data_cfg: dict, task: str | None = None):
    """The configured data set (built-in name or file); data errors become UsageError."""
    from gradfit import datasets

    try:
        if data_cfg["path"]:
            return datasets.load_file(data_cfg["path"], data_cfg["target"] or None, task)
        if data_cfg["target"]:
            raise UsageError(
                f"data.target = {data_cfg['target']!r}: a target column is only "
                f"used with a CSV/NPZ file, not the built-in set "
                f"{data_cfg['name']!r}"
            )
        return datasets.load(data_cfg["name"])
    except datasets.DataError as e:
        raise UsageError(str(e)) from None
    except OSError as e:
        raise UsageError(f"cannot read data file {data_cfg['path']!r}: {e.strerror or e}") from None


def task_of_loss(name: str) -> str | None:
    if name == "auto":
        return None
    return "classification" if loss_name(name) in CLASSIFICATION_LOSSES else "regression"


def prepare(cfg: dict) -> Prepared:
    """Load, split and standardise the data of ``cfg``; resolves ``loss.name = "auto"`` in
    place (cross_entropy for class labels, mse otherwise)."""
    data_cfg = cfg["data"]
    loss = cfg["loss"]["name"]
    want = task_of_loss(loss)
    ds = load_dataset(data_cfg, want if data_cfg["path"] else None)
    src = data_cfg["path"] or data_cfg["name"]
    if want == "classification" and ds.task != "classification":
        raise UsageError(
            f"loss {loss!r} needs class labels, but data set {src!r} is a regression set "
            f"(expected a regression loss: mse, l1, huber or smooth_l1)"
        )
    if loss == "auto":
        cfg["loss"]["name"] = "cross_entropy" if ds.task == "classification" else "mse"
    one_hot = ds.task == "classification" and want == "regression"

    x, y = ds.x, ds.y
    if data_cfg["val_split"] == "auto" and ds.x_test is not None:
        x_tr, y_tr, x_va, y_va = x, y, ds.x_test, ds.y_test
        val_source = f"the data set's own test split ({len(x_va)} samples)"
    else:
        frac = DEFAULT_VAL_SPLIT if data_cfg["val_split"] == "auto" else data_cfg["val_split"]
        n = len(x)
        n_val = int(round(frac * n))
        if n_val < 1 or n - n_val < 1:
            raise UsageError(
                f"data.val_split = {frac}: with {n} samples this leaves {n_val} for "
                f"validation and {n - n_val} for training; expected at least one of each"
            )
        perm = np.random.default_rng(data_cfg["seed"]).permutation(n)
        va, tr = perm[:n_val], perm[n_val:]
        x_tr, y_tr, x_va, y_va = x[tr], y[tr], x[va], y[va]
        val_source = f"a random {frac:g} of the data ({n_val} samples, seed {data_cfg['seed']})"

    mean = std = None
    if data_cfg["standardize"]:
        mean = x_tr.mean(axis=0)
        std = x_tr.std(axis=0)
        std = np.where(std > 0, std, 1.0)  # a constant column stays constant, not NaN
        x_tr = (x_tr - mean) / std
        x_va = (x_va - mean) / std

    num_outputs = ds.num_outputs
    if one_hot:
        eye = np.eye(num_outputs)
        y_tr, y_va = eye[y_tr], eye[y_va]
    return Prepared(
        name=str(src),
        task=ds.task,
        x_train=x_tr,
        y_train=y_tr,
        x_val=x_va,
        y_val=y_va,
        num_features=ds.num_features,
        num_outputs=num_outputs,
        classes=list(ds.classes),
        one_hot=one_hot,
        mean=mean,
        std=std,
        val_source=val_source,
        fingerprint=fingerprint(data_cfg, ds),
    )


def to_tensors(x: np.ndarray, y: np.ndarray, dtype, task: str, one_hot: bool):
    """Tensors for the model: features in ``dtype``; class indices int64, else ``dtype``."""
    import gradfit

    xt = gradfit.from_numpy(np.ascontiguousarray(x, dtype=dtype))
    if task == "classification" and not one_hot:
        yt = gradfit.from_numpy(np.ascontiguousarray(y, dtype=np.int64))
    else:
        yt = gradfit.from_numpy(np.ascontiguousarray(y, dtype=dtype))
    return xt, yt
