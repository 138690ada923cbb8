"""Built-in data sets and the user's own CSV / NPZ files, as NumPy arrays.

Built-in sets (``load(name)``):

- ``mnist1d``: MNIST-1D (Greydanus 2020), 4000 train / 1000 test signals of length 40,
  10 classes. Generated offline with ``mnist1d.data.make_dataset(get_dataset_args())`` (seed
  42, the package's defaults) and cached in ``cache_dir()/mnist1d.npz``; never downloaded.
- ``digits``: scikit-learn's ``load_digits`` (1797 8x8 images, 64 features, 10 classes).
- ``gabor``: the lecture's Gabor model data (Figure 6.3): 28 points, x uniform on [-15, 15],
  y = sin(phi0 + 0.06 phi1 x) exp(-(phi0 + 0.06 phi1 x)^2 / 32) + noise, phi = [0, 16.6],
  Gaussian noise with standard deviation 0.15 (the lecture's minimum loss, a sum of squares
  of 0.64 over 28 points, corresponds to that noise level); the same points as the
  lecture figures (``gradfit.lecture``). Regression.
- ``linreg``: the lecture's 12-point linear regression set (Figure 6.1). Regression.
- ``lecture-random``: the data of the lecture's PyTorch program, ``x = randn(100, 10)``,
  ``y = randn(100, 5)``, drawn from a ``gradfit.Generator`` seeded with 0 (the numbers are
  PyTorch's for ``torch.Generator().manual_seed(0)``). Regression.

Files (``load_file(path, target)``): a CSV with a header row (or none, then columns are
named by their index) whose columns are all numbers except possibly the target, or an NPZ
with feature array ``x`` and target array ``y`` (or the array named by ``target``), and
optionally ``x_test`` / ``y_test``.
"""

from __future__ import annotations

import csv
import os
import sys
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

__all__ = [
    "BUILTIN",
    "DataError",
    "DataSet",
    "cache_dir",
    "digits",
    "gabor",
    "lecture_random",
    "linreg",
    "load",
    "load_file",
    "mnist1d",
]

# Classification is inferred for integer targets with at most this many distinct values.
MAX_INFERRED_CLASSES = 20


class DataError(ValueError):
    """A data file or data set name that cannot be used; the message says why."""


@dataclass
class DataSet:
    """Features and targets as NumPy arrays.

    Attributes:
        name: the built-in name or the file path.
        x: features, shape (N, D), float64.
        y: targets: class indices (N,) int64 for classification, (N, K) float64 for
            regression.
        task: ``"classification"`` or ``"regression"``.
        x_test, y_test: the data set's own held-out split, if it has one.
        feature_names: one name per column of ``x``.
        classes: for classification, the label of each class index (as strings).
        target_names: for regression, one name per column of ``y``.
    """

    name: str
    x: np.ndarray
    y: np.ndarray
    task: str
    x_test: np.ndarray | None = None
    y_test: np.ndarray | None = None
    feature_names: list[str] = field(default_factory=list)
    classes: list[str] = field(default_factory=list)
    target_names: list[str] = field(default_factory=list)

    def __post_init__(self):
        if not self.feature_names:
            self.feature_names = [f"x{i}" for i in range(self.x.shape[1])]
        if self.task == "classification" and not self.classes:
            n = int(max(self.y.max(initial=0), -1 if self.y_test is None else self.y_test.max()))
            self.classes = [str(i) for i in range(n + 1)]
        if self.task == "regression" and not self.target_names:
            self.target_names = [f"y{i}" for i in range(self.y.shape[1])]

    @property
    def num_features(self) -> int:
        return int(self.x.shape[1])

    @property
    def num_outputs(self) -> int:
        """Network outputs: one per class, or one per regression target."""
        return len(self.classes) if self.task == "classification" else int(self.y.shape[1])


def cache_dir() -> Path:
    """Where generated data is cached: ``$GRADFIT_CACHE``, else ``$XDG_CACHE_HOME/gradfit``,
    else ``~/.cache/gradfit``."""
    if os.environ.get("GRADFIT_CACHE"):
        return Path(os.environ["GRADFIT_CACHE"])
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "gradfit"


def _atomic_savez(path: Path, **arrays) -> None:
    # Two processes may generate the cache at once; each writes a private temp file and
    # os.replace makes the switch atomic, so a reader never sees half a file.
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-" + path.name + ".", dir=path.parent)
    try:
        mask = os.umask(0o022)
        os.umask(mask)
        os.fchmod(fd, 0o666 & ~mask)  # as open() would create it, not mkstemp's 0600
        with os.fdopen(fd, "wb") as f:
            np.savez(f, **arrays)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def mnist1d() -> DataSet:
    """MNIST-1D, generated offline by the ``mnist1d`` package and cached."""
    path = cache_dir() / "mnist1d.npz"
    arrays = None
    if path.exists():
        try:
            with np.load(path) as f:
                arrays = {k: f[k] for k in ("x", "y", "x_test", "y_test")}
        except (OSError, ValueError, KeyError, zipfile.BadZipFile, EOFError):
            arrays = None  # a damaged or truncated cache is regenerated, not trusted
    if arrays is None:
        import mnist1d.data

        # make_dataset seeds NumPy's global generator; put the caller's state back.
        state = np.random.get_state()
        try:
            d = mnist1d.data.make_dataset(mnist1d.data.get_dataset_args())
        finally:
            np.random.set_state(state)
        arrays = {k: np.asarray(d[k]) for k in ("x", "y", "x_test", "y_test")}
        try:
            _atomic_savez(path, **arrays)
        except OSError as e:  # a read-only cache: use the data, say why it is not kept
            print(
                f"gradfit: warning: cannot cache MNIST-1D in {str(path.parent)!r} "
                f"({e.strerror or e}); set GRADFIT_CACHE to a writable folder",
                file=sys.stderr,
            )
    return DataSet(
        "mnist1d",
        arrays["x"].astype(np.float64),
        arrays["y"].astype(np.int64),
        "classification",
        x_test=arrays["x_test"].astype(np.float64),
        y_test=arrays["y_test"].astype(np.int64),
    )


def digits() -> DataSet:
    """scikit-learn's 8x8 digits (1797 samples, 64 features, 10 classes)."""
    from sklearn.datasets import load_digits

    d = load_digits()
    return DataSet("digits", d.data.astype(np.float64), d.target.astype(np.int64), "classification")


GABOR_PHI = (0.0, 16.6)
GABOR_NOISE_STD = 0.15


def gabor_model(x: np.ndarray, phi=GABOR_PHI) -> np.ndarray:
    """The lecture's Gabor model:
    f[x, phi] = sin(phi0 + 0.06 phi1 x) exp(-(phi0 + 0.06 phi1 x)^2 / 32)."""
    z = phi[0] + 0.06 * phi[1] * x
    return np.sin(z) * np.exp(-(z * z) / 32.0)


GABOR_SEED = 1


def gabor(seed: int = GABOR_SEED, n: int = 28) -> DataSet:
    """28 noisy samples of the Gabor model with phi = [0, 16.6] (lecture Figure 6.3).

    Drawn as the lecture figures draw them (``gradfit.lecture``): from a ``gradfit.Generator``
    seeded with 1, x = 30 rand(n) - 15 and noise = 0.15 randn(n), in float64.
    """
    import gradfit

    g = gradfit.Generator().manual_seed(seed)
    x = gradfit.rand(n, generator=g, dtype=gradfit.float64).numpy() * 30.0 - 15.0
    noise = gradfit.randn(n, generator=g, dtype=gradfit.float64).numpy() * GABOR_NOISE_STD
    y = gabor_model(x) + noise
    return DataSet(
        "gabor", x[:, None], y[:, None], "regression", feature_names=["x"], target_names=["y"]
    )


LINREG_X = [0.03, 0.19, 0.34, 0.46, 0.78, 0.81, 1.08, 1.18, 1.39, 1.60, 1.65, 1.90]
LINREG_Y = [0.67, 0.85, 1.05, 1.00, 1.40, 1.50, 1.30, 1.54, 1.55, 1.68, 1.73, 1.60]


def linreg() -> DataSet:
    """The lecture's 12 input/output pairs for linear regression (Figure 6.1)."""
    x = np.array(LINREG_X, dtype=np.float64)[:, None]
    y = np.array(LINREG_Y, dtype=np.float64)[:, None]
    return DataSet("linreg", x, y, "regression", feature_names=["x"], target_names=["y"])


def lecture_random(seed: int = 0) -> DataSet:
    """The lecture program's data: x = randn(100, 10), y = randn(100, 5) (float32 draws)."""
    import gradfit

    g = gradfit.Generator().manual_seed(seed)
    x = gradfit.randn(100, 10, generator=g).numpy().astype(np.float64)
    y = gradfit.randn(100, 5, generator=g).numpy().astype(np.float64)
    return DataSet("lecture-random", x, y, "regression")


BUILTIN = {
    "mnist1d": "MNIST-1D, 4000 train / 1000 test x 40 features, 10 classes",
    "digits": "scikit-learn digits, 1797 x 64 features, 10 classes",
    "gabor": "the lecture's Gabor model data, 28 points, regression",
    "linreg": "the lecture's 12-point linear regression set",
    "lecture-random": "the lecture program's randn(100, 10) -> randn(100, 5), regression",
}


def load(name: str) -> DataSet:
    """A built-in data set by name (see ``BUILTIN``). Each is fixed data: the generated ones
    (``gabor``, ``lecture-random``) always use the same seed."""
    key = name.lower().replace("_", "-")
    if key == "mnist1d":
        return mnist1d()
    if key == "digits":
        return digits()
    if key == "gabor":
        return gabor()
    if key == "linreg":
        return linreg()
    if key == "lecture-random":
        return lecture_random()
    raise DataError(
        f"unknown data set {name!r} (expected one of: {', '.join(BUILTIN)}, or a .csv/.npz file)"
    )


def _classify(y_raw: np.ndarray, what: str) -> tuple[np.ndarray, list[str]]:
    """Class indices and the label of each index, for a 1-D target column.

    Non-negative integer labels are used as indices directly (classes 0..max), so that the
    same label means the same class in every file; other labels (negative numbers, strings)
    are numbered in sorted order.
    """
    if y_raw.dtype.kind == "f" and np.all(np.isfinite(y_raw)) and np.all(y_raw == np.round(y_raw)):
        y_raw = y_raw.astype(np.int64)
    if y_raw.dtype.kind in "iub":
        values = y_raw.astype(np.int64)
        if values.min() >= 0 and values.max() < 1000:
            return values, [str(i) for i in range(int(values.max()) + 1)]
        uniq = np.unique(values)
        return np.searchsorted(uniq, values).astype(np.int64), [str(v) for v in uniq]
    if y_raw.dtype.kind in "USO":
        labels = y_raw.astype(str)
        uniq = np.unique(labels)
        return np.searchsorted(uniq, labels).astype(np.int64), [str(v) for v in uniq]
    raise DataError(f"{what}: cannot use targets of dtype {y_raw.dtype} as class labels")


def _infer_task(y_raw: np.ndarray) -> str:
    if y_raw.dtype.kind in "USOb":
        return "classification"
    if y_raw.ndim == 1 and y_raw.dtype.kind in "iu":
        return "classification" if len(np.unique(y_raw)) <= MAX_INFERRED_CLASSES else "regression"
    if y_raw.ndim == 1 and y_raw.dtype.kind == "f" and np.all(np.isfinite(y_raw)):
        integral = np.all(y_raw == np.round(y_raw))
        if integral and len(np.unique(y_raw)) <= MAX_INFERRED_CLASSES:
            return "classification"
    return "regression"


def _finish_file(name, x, y_raw, task, feature_names, target_names, x_test=None, y_test=None):
    for what, y in (("targets", y_raw), ("test targets", y_test)):
        if y is None:
            continue
        if y.ndim > 2:
            raise DataError(
                f"{name}: {what} of shape {y.shape}; expected (N,) class labels or (N, K) "
                "regression targets"
            )
        if y.dtype.kind in "fc" and not np.all(np.isfinite(y)):
            i = int(np.flatnonzero(~np.isfinite(y.reshape(len(y), -1)).all(axis=1))[0])
            raise DataError(
                f"{name}: {what} hold NaN or infinite values (row {i + 1}); expected numbers "
                "or class labels in every row"
            )
    if x_test is not None and x_test.shape[1] != x.shape[1]:
        raise DataError(
            f"{name}: x_test has {x_test.shape[1]} features, x has {x.shape[1]}; expected "
            "the same width"
        )
    if task is None:
        task = _infer_task(y_raw)
    if task == "classification":
        if y_raw.ndim != 1:
            raise DataError(f"{name}: class labels must be one column, got shape {y_raw.shape}")
        both = y_raw if y_test is None else np.concatenate([y_raw, y_test])
        idx, classes = _classify(both, name)
        y, yt = idx[: len(y_raw)], (None if y_test is None else idx[len(y_raw) :])
        return DataSet(name, x, y, task, x_test, yt, feature_names, classes=classes)
    try:
        y = np.asarray(y_raw, dtype=np.float64)
        yt = None if y_test is None else np.asarray(y_test, dtype=np.float64)
    except ValueError:
        raise DataError(f"{name}: regression targets must be numbers") from None
    y = y[:, None] if y.ndim == 1 else y
    if yt is not None and yt.ndim == 1:
        yt = yt[:, None]
    return DataSet(name, x, y, task, x_test, yt, feature_names, target_names=target_names)


def _is_number(s: str) -> bool:
    try:
        float(s)
    except ValueError:
        return False
    return True


def load_csv(path: str | os.PathLike, target: str | None, task: str | None = None) -> DataSet:
    """Read a CSV file: numeric feature columns and a ``target`` column.

    The first row is a header unless every field in it is a number; without a header the
    columns are named ``0, 1, ...`` and ``target`` may be an index. The target column may
    hold numbers or labels; every other column must be numeric.
    """
    path = Path(path)
    try:
        with open(path, newline="", encoding="utf-8-sig") as f:
            rows = [r for r in csv.reader(f) if r and any(c.strip() for c in r)]
    except UnicodeDecodeError as e:
        raise DataError(
            f"{path}: not UTF-8 text (byte 0x{e.object[e.start]:02x} at offset {e.start}); "
            "save the CSV as UTF-8"
        ) from None
    if not rows:
        raise DataError(f"{path}: the CSV file is empty")
    if all(_is_number(c) for c in rows[0]):
        header = [str(i) for i in range(len(rows[0]))]
    else:
        header, rows = [c.strip() for c in rows[0]], rows[1:]
    if not rows:
        raise DataError(f"{path}: the CSV file has a header but no data rows")
    twice = sorted({c for c in header if header.count(c) > 1})
    if twice:
        raise DataError(
            f"{path}: the header names column {twice[0]!r} more than once; expected "
            "distinct column names"
        )
    if not target:
        raise DataError(
            f"{path}: name the target column with --target (columns: {', '.join(header)})"
        )
    if target not in header:
        raise DataError(f"{path}: no target column {target!r} (columns: {', '.join(header)})")
    t = header.index(target)
    for i, r in enumerate(rows):
        if len(r) != len(header):
            raise DataError(
                f"{path}: line {i + 2} has {len(r)} fields, the header has {len(header)}"
            )
    feats = [j for j in range(len(header)) if j != t]
    if not feats:
        raise DataError(f"{path}: no feature columns besides the target {target!r}")
    x = np.empty((len(rows), len(feats)), dtype=np.float64)
    for k, j in enumerate(feats):
        for i, r in enumerate(rows):
            s = r[j].strip()
            try:
                x[i, k] = float(s)
            except ValueError:
                what = "is empty" if not s else f"is {s!r}"
                raise DataError(
                    f"{path}: column {header[j]!r} is not numeric (line {i + 2} {what}); "
                    "feature columns must hold numbers"
                ) from None
    col = [r[t].strip() for r in rows]
    bad = [i for i, c in enumerate(col) if c.lower() in ("nan", "inf", "-inf", "+inf")]
    if bad:
        raise DataError(
            f"{path}: target column {target!r} is {col[bad[0]]!r} on line {bad[0] + 2}; "
            "expected a number or a class label in every row"
        )
    if any(not c for c in col):
        i = col.index("")
        raise DataError(f"{path}: target column {target!r} is empty on line {i + 2}")
    if all(_is_number(c) for c in col):
        vals = np.array([float(c) for c in col])
        y_raw = vals.astype(np.int64) if np.all(vals == np.round(vals)) else vals
    else:
        if task == "regression":
            raise DataError(
                f"{path}: target column {target!r} is not numeric, but the loss "
                "is a regression loss"
            )
        y_raw = np.array(col)
    names = [header[j] for j in feats]
    return _finish_file(str(path), x, y_raw, task, names, [target])


def load_npz(path: str | os.PathLike, target: str | None, task: str | None = None) -> DataSet:
    """Read an NPZ file with features ``x`` (N, D) and targets ``y`` (or ``target``)."""
    path = Path(path)
    try:
        f = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as e:
        raise DataError(f"{path}: not a readable .npz file ({e})") from None
    with f:
        keys = list(f.keys())
        xk = next((k for k in ("x", "X", "inputs", "features") if k in keys), None)
        yk = target or next((k for k in ("y", "Y", "targets", "labels") if k in keys), None)
        if xk is None:
            raise DataError(f"{path}: no feature array 'x' (arrays: {', '.join(keys)})")
        if yk is None or yk not in keys:
            raise DataError(f"{path}: no target array {yk or 'y'!r} (arrays: {', '.join(keys)})")
        try:
            x = np.asarray(f[xk])
            y_raw = np.asarray(f[yk])
            x_test = np.asarray(f["x_test"]) if "x_test" in keys else None
            y_test = np.asarray(f["y_test"]) if "y_test" in keys and x_test is not None else None
        except ValueError:  # NumPy refuses object arrays without allow_pickle
            raise DataError(
                f"{path}: holds an object array (pickled Python objects), which gradfit "
                "never loads because unpickling can run code; save numeric arrays"
            ) from None
    if x.ndim == 0 or len(x) == 0 or x.size == 0:
        raise DataError(f"{path}: feature array {xk!r} is empty (shape {x.shape}); expected (N, D)")
    if x.dtype.kind not in "iufb":
        raise DataError(f"{path}: features {xk!r} are not numeric (dtype {x.dtype})")
    x = x.reshape(len(x), -1).astype(np.float64)
    if len(y_raw) != len(x):
        raise DataError(f"{path}: {len(x)} feature rows but {len(y_raw)} targets")
    if x_test is not None:
        if x_test.dtype.kind not in "iufb" or x_test.ndim == 0:
            raise DataError(f"{path}: x_test is not a numeric array (dtype {x_test.dtype})")
        x_test = x_test.reshape(len(x_test), -1).astype(np.float64)
        if y_test is None:
            x_test = None
    return _finish_file(str(path), x, y_raw, task, [], [], x_test, y_test)


def load_file(
    path: str | os.PathLike, target: str | None = None, task: str | None = None
) -> DataSet:
    """A CSV or NPZ file; ``task`` forces classification or regression (else inferred)."""
    p = Path(path)
    if not p.exists():
        if not p.suffix:
            raise DataError(
                f"no built-in data set or file named {str(p)!r} (built-in sets: "
                f"{', '.join(BUILTIN)}; files: .csv or .npz)"
            )
        raise DataError(f"data file {str(p)!r} does not exist")
    if p.is_dir():
        raise DataError(f"data file {str(p)!r} is a directory, expected a .csv or .npz file")
    suffix = p.suffix.lower()
    if suffix == ".npz":
        ds = load_npz(p, target, task)
    elif suffix in (".csv", ".txt", ".tsv"):
        ds = load_csv(p, target, task)
    else:
        raise DataError(
            f"data file {str(p)!r}: unknown format {suffix or '(no suffix)'!r} "
            "(expected .csv or .npz)"
        )
    if len(ds.x) < 2:
        raise DataError(f"{p}: needs at least 2 rows, got {len(ds.x)}")
    if not np.all(np.isfinite(ds.x)):
        raise DataError(f"{p}: features contain NaN or infinite values")
    return ds
