"""Built-in data sets and CSV/NPZ loading."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from gradfit import datasets
from gradfit.datasets import DataError


def test_linreg_is_the_lectures_twelve_points():
    # The 12 pairs of lecture figure 6.1 (the gradient-descent notebook's data).
    x = [0.03, 0.19, 0.34, 0.46, 0.78, 0.81, 1.08, 1.18, 1.39, 1.60, 1.65, 1.90]
    y = [0.67, 0.85, 1.05, 1.00, 1.40, 1.50, 1.30, 1.54, 1.55, 1.68, 1.73, 1.60]
    ds = datasets.load("linreg")
    assert ds.x.shape == (12, 1) and ds.y.shape == (12, 1) and ds.task == "regression"
    assert ds.x[:, 0].tolist() == x and ds.y[:, 0].tolist() == y


def test_gabor_matches_the_lecture_figures_and_model():
    from gradfit.lecture import _common

    ds = datasets.load("gabor")
    x, y = _common.gabor_data()
    assert ds.x.shape == (28, 1) and ds.task == "regression"
    np.testing.assert_allclose(ds.x[:, 0], x, rtol=0, atol=1e-12)
    np.testing.assert_allclose(ds.y[:, 0], y, rtol=0, atol=1e-12)
    assert ds.x.min() >= -15 and ds.x.max() <= 15
    resid = ds.y[:, 0] - datasets.gabor_model(ds.x[:, 0], (0.0, 16.6))
    assert 0.07 < resid.std() < 0.25  # noise of standard deviation 0.15


def test_lecture_random_is_torch_randn_with_the_same_seed():
    ds = datasets.load("lecture-random")
    g = torch.Generator().manual_seed(0)
    x = torch.randn(100, 10, generator=g)
    y = torch.randn(100, 5, generator=g)
    np.testing.assert_allclose(ds.x, x.numpy(), rtol=0, atol=1e-6)
    np.testing.assert_allclose(ds.y, y.numpy(), rtol=0, atol=1e-6)


def test_mnist1d_is_generated_offline_cached_and_leaves_numpy_alone(tmp_path, monkeypatch):
    monkeypatch.setenv("GRADFIT_CACHE", str(tmp_path))
    cached = tmp_path / "mnist1d.npz"
    cached.write_bytes(b"torn")  # a damaged cache is regenerated, not trusted
    np.random.seed(123)
    state = np.random.get_state()[1].copy()
    ds = datasets.mnist1d()
    assert np.array_equal(np.random.get_state()[1], state)
    assert ds.x.shape == (4000, 40) and ds.x_test.shape == (1000, 40)
    assert ds.y.shape == (4000,) and ds.y_test.shape == (1000,)
    assert sorted(np.unique(ds.y)) == list(range(10)) and ds.classes == [str(i) for i in range(10)]
    # mnist1d's generator standardises the whole set (train and test together).
    both = np.concatenate([ds.x, ds.x_test])
    assert abs(both.mean()) < 1e-9 and abs(both.std() - 1) < 1e-9
    with np.load(cached) as f:  # the cache holds the very arrays
        assert np.array_equal(f["x"], ds.x) and np.array_equal(f["y_test"], ds.y_test)
    assert not list(tmp_path.glob(".tmp-*"))
    again = datasets.mnist1d()  # from the cache
    assert np.array_equal(again.x, ds.x) and np.array_equal(again.y_test, ds.y_test)

    # A truncated cache (a killed copy, a full disk) is rebuilt, not a BadZipFile.
    import mnist1d.data

    made = []
    arrays = {"x": ds.x, "y": ds.y, "x_test": ds.x_test, "y_test": ds.y_test}
    monkeypatch.setattr(mnist1d.data, "make_dataset", lambda args: made.append(1) or arrays)
    cached.write_bytes(cached.read_bytes()[: cached.stat().st_size // 2])
    assert np.array_equal(datasets.mnist1d().x, ds.x) and made == [1]
    with np.load(cached) as f:
        assert np.array_equal(f["y"], ds.y)


def test_mnist1d_in_an_unwritable_cache_folder_still_loads(tmp_path, monkeypatch, capsys):
    import mnist1d.data

    (tmp_path / "afile").write_text("")
    monkeypatch.setenv("GRADFIT_CACHE", str(tmp_path / "afile" / "cache"))
    x = np.arange(8.0).reshape(2, 4)
    arrays = {"x": x, "y": np.array([0, 1]), "x_test": x, "y_test": np.array([1, 0])}
    monkeypatch.setattr(mnist1d.data, "make_dataset", lambda args: arrays)
    ds = datasets.mnist1d()
    assert np.array_equal(ds.x, x)
    err = capsys.readouterr().err
    assert err.startswith("gradfit: warning: cannot cache MNIST-1D in ") and err.count("\n") == 1
    assert str(tmp_path / "afile" / "cache") in err and "Not a directory" in err


def test_digits():
    ds = datasets.load("digits")
    assert ds.x.shape == (1797, 64) and ds.task == "classification" and len(ds.classes) == 10


def test_csv_with_header_and_string_labels(tmp_path):
    p = tmp_path / "iris.csv"
    p.write_text("a,b,species\n1,2,setosa\n3,4.5,virginica\n5,6,setosa\n")
    ds = datasets.load_file(p, "species")
    assert ds.task == "classification" and ds.classes == ["setosa", "virginica"]
    assert ds.y.tolist() == [0, 1, 0] and ds.feature_names == ["a", "b"]
    np.testing.assert_array_equal(ds.x, [[1, 2], [3, 4.5], [5, 6]])


def test_csv_regression_and_headerless(tmp_path):
    p = tmp_path / "r.csv"
    p.write_text("x,y\n0.5,1.25\n1.5,2.5\n2,3.75\n")
    ds = datasets.load_file(p, "y")
    assert ds.task == "regression" and ds.y.shape == (3, 1)
    q = tmp_path / "n.csv"
    q.write_text("1,2,0\n3,4,1\n5,6,1\n")
    ds = datasets.load_file(q, "2")
    assert ds.task == "classification" and ds.y.tolist() == [0, 1, 1]
    # A regression loss forces regression on integer targets.
    assert datasets.load_file(q, "2", task="regression").y.shape == (3, 1)


@pytest.mark.parametrize(
    "text, target, message",
    [
        ("a,color,y\n1,red,0\n2,3,1\n", "y", r"column 'color' is not numeric \(line 2 is 'red'\)"),
        ("a,b\n1,2\n3,4\n", "label", r"no target column 'label' \(columns: a, b\)"),
        ("a,b\n1,2\n3,4\n", "", r"name the target column with --target \(columns: a, b\)"),
        ("a,b,y\n1,2\n", "y", "line 2 has 2 fields, the header has 3"),
        ("a,y\n1,\n2,1\n", "y", "target column 'y' is empty on line 2"),
        ("a,y\n,1\n2,1\n", "y", r"column 'a' is not numeric \(line 2 is empty\)"),
        ("", "y", "the CSV file is empty"),
    ],
)
def test_bad_csv_files(tmp_path, text, target, message):
    p = tmp_path / "bad.csv"
    p.write_text(text)
    with pytest.raises(DataError, match=message):
        datasets.load_file(p, target or None)


def test_npz(tmp_path):
    rng = np.random.default_rng(0)
    p = tmp_path / "d.npz"
    np.savez(
        p,
        x=rng.normal(size=(20, 2, 3)),
        y=rng.integers(0, 3, 20),
        x_test=rng.normal(size=(5, 2, 3)),
        y_test=rng.integers(0, 3, 5),
    )
    ds = datasets.load_file(p)
    assert ds.x.shape == (20, 6) and ds.x_test.shape == (5, 6) and ds.task == "classification"
    with pytest.raises(DataError, match=r"no target array 'labels' \(arrays: x, y, x_test"):
        datasets.load_file(p, "labels")
    with pytest.raises(DataError, match="unknown format '.json'"):
        (tmp_path / "d.json").write_text("{}")
        datasets.load_file(tmp_path / "d.json")
    with pytest.raises(DataError, match="no built-in data set or file named 'mnist2d'"):
        datasets.load_file("mnist2d")
