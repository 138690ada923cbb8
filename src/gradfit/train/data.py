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

from gradfit.train import UsageError
from gradfit.train.builders import CLASSIFICATION_LOSSES, MODELS, loss_name

DEFAULT_VAL_SPLIT = 0.2
# The built-in text: the first characters of the standard library's source files.
STDLIB_TEXT = "stdlib-text"
STDLIB_TEXT_CHARS = 500_000
DEFAULT_TEXT_VAL_SPLIT = 0.1


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
    fingerprint: str = ""  # what the data was, so a resume can tell it changed
    tokens: bool = False  # x holds character ids (a text model), not features


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


def resolve_auto_loss(cfg: dict, task: str) -> None:
    """``loss.name = "auto"`` becomes cross_entropy for class labels, mse otherwise."""
    if cfg["loss"]["name"] == "auto":
        cfg["loss"]["name"] = "cross_entropy" if task == "classification" else "mse"


def _read_text(data_cfg: dict) -> tuple[str, str]:
    """(text, fingerprint) of ``stdlib-text`` or a text file / folder."""
    from gradfit.datasets.text import load_text, stdlib_text

    if not data_cfg["path"]:
        text = stdlib_text(STDLIB_TEXT_CHARS)
        digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]
        return text, f"built-in {STDLIB_TEXT} ({len(text)} characters), sha256 {digest}"
    path = Path(data_cfg["path"])
    try:
        text = load_text(path)
    except FileNotFoundError:
        raise UsageError(f"text file {str(path)!r} does not exist") from None
    except OSError as e:
        raise UsageError(f"cannot read text {str(path)!r}: {e.strerror or e}") from None
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]
    return text, f"{len(text)} characters, sha256 {digest}"


def prepare_text(cfg: dict) -> Prepared:
    """Character data for a text model: the vocabulary (sorted characters) is the set of
    classes; the text is cut into windows of ``model.block_size`` characters whose targets
    are the next characters, and a random ``val_split`` of the windows (default 0.1, drawn
    with ``data.seed``, as for the other data) validates. Random windows rather than the
    text's tail: the standard library's last files are machine-generated tables
    (``_sysconfigdata``) unlike the code before them."""
    data_cfg, block = cfg["data"], cfg["model"]["block_size"]
    src = data_cfg["path"] or data_cfg["name"]
    if not data_cfg["path"] and data_cfg["name"] != STDLIB_TEXT:
        raise UsageError(
            f"model {cfg['model']['kind']!r} reads text, data {src!r} is not text; expected "
            f"--data {STDLIB_TEXT} or --data text:PATH"
        )
    resolve_auto_loss(cfg, "classification")
    if loss_name(cfg["loss"]["name"]) not in CLASSIFICATION_LOSSES:
        raise UsageError(
            f"loss {cfg['loss']['name']!r}: a text model predicts characters; expected "
            "cross_entropy"
        )
    text, fp = _read_text(data_cfg)
    from gradfit.datasets.text import CharText

    frac = DEFAULT_TEXT_VAL_SPLIT if data_cfg["val_split"] == "auto" else data_cfg["val_split"]
    if len(text) < 2:
        raise UsageError(f"text {src!r} has {len(text)} characters; expected at least 2")
    chars = CharText(text, train_fraction=1.0)
    ids = chars.train
    n = (len(ids) - 1) // block
    n_val = int(round(frac * n))
    if n_val < 1 or n - n_val < 1:
        raise UsageError(
            f"text {src!r}: {len(ids)} characters make {n} windows of model.block_size = "
            f"{block}, {n_val} of them for validation (data.val_split = {frac:g}) and "
            f"{n - n_val} for training; expected at least one of each (more text or a "
            "smaller block_size)"
        )
    x, y = ids[: n * block].reshape(n, block), ids[1 : n * block + 1].reshape(n, block)
    perm = np.random.default_rng(data_cfg["seed"]).permutation(n)
    va, tr = np.sort(perm[:n_val]), np.sort(perm[n_val:])
    return Prepared(
        name=str(src),
        task="classification",
        x_train=x[tr],
        y_train=y[tr],
        x_val=x[va],
        y_val=y[va],
        num_features=block,
        num_outputs=chars.vocab_size,
        classes=list(chars.vocab),
        fingerprint=fp,
        tokens=True,
    )


def prepare(cfg: dict) -> Prepared:
    """Load, split and standardise the data of ``cfg``; resolves ``loss.name = "auto"`` in
    place (cross_entropy for class labels, mse otherwise)."""
    if MODELS[cfg["model"]["kind"]].text:
        return prepare_text(cfg)
    data_cfg = cfg["data"]
    if data_cfg["name"] == STDLIB_TEXT and not data_cfg["path"]:
        raise UsageError(
            f"data {STDLIB_TEXT!r} is text; a model of kind {cfg['model']['kind']!r} cannot "
            "read it (expected --model transformer or --model lstm)"
        )
    loss = cfg["loss"]["name"]
    want = task_of_loss(loss)
    ds = load_dataset(data_cfg, want if data_cfg["path"] else None)
    src = data_cfg["path"] or data_cfg["name"]
    if want == "classification" and ds.task != "classification":
        raise UsageError(
            f"loss {loss!r} needs class labels, but data set {src!r} is a regression set "
            f"(expected a regression loss: mse, l1, huber or smooth_l1)"
        )
    resolve_auto_loss(cfg, ds.task)
    one_hot = ds.task == "classification" and want == "regression"

    x, y = ds.x, ds.y
    if data_cfg["val_split"] == "auto" and ds.x_test is not None:
        x_tr, y_tr, x_va, y_va = x, y, ds.x_test, ds.y_test
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
        fingerprint=fingerprint(data_cfg, ds),
    )


def to_tensors(x: np.ndarray, y: np.ndarray, dtype, task: str, one_hot: bool, tokens=False):
    """Tensors for the model: features in ``dtype`` (character ids: int64); class indices
    int64, else ``dtype``."""
    import gradfit

    xt = gradfit.from_numpy(np.ascontiguousarray(x, dtype=np.int64 if tokens else dtype))
    if task == "classification" and not one_hot:
        yt = gradfit.from_numpy(np.ascontiguousarray(y, dtype=np.int64))
    else:
        yt = gradfit.from_numpy(np.ascontiguousarray(y, dtype=dtype))
    return xt, yt
