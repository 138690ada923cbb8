"""``gradfit evaluate``: loss, accuracy and confusion matrix on a data set."""

from __future__ import annotations

import json

import numpy as np
import torch

from gradfit import datasets


def test_evaluate_on_the_validation_set_and_on_a_csv(gf, tmp_path, assert_png):
    code, _, err = gf("train", "--hidden", "32", "--epochs", "2", "--out", "run", "--quiet")
    assert code == 0, err
    last = json.loads((tmp_path / "run" / "metrics.jsonl").read_text().splitlines()[-1])

    code, out, err = gf("evaluate", "run")
    assert code == 0, err
    res = json.loads((tmp_path / "run" / "evaluation.json").read_text())
    assert res["samples"] == 1000 and res["epoch"] == 2
    assert res["loss"] == last["val_loss"] and res["accuracy"] == last["val_accuracy"]
    cm = np.array(res["confusion_matrix"])
    assert cm.shape == (10, 10) and cm.sum() == 1000
    assert np.trace(cm) / 1000 == res["accuracy"]
    # Rows are the true classes: their sums are the class counts of the validation set.
    counts = np.bincount(datasets.mnist1d().y_test, minlength=10)
    assert cm.sum(axis=1).tolist() == counts.tolist()
    assert f"accuracy: {100 * res['accuracy']:.2f}%" in out and "confusion matrix" in out
    lines = out.splitlines()
    head = next(i for i, s in enumerate(lines) if s.startswith("true\\pred"))
    assert lines[head].split()[1:] == [str(i) for i in range(10)]
    printed = [[int(v) for v in s.split()[1:]] for s in lines[head + 1 : head + 11]]
    assert printed == cm.tolist()
    assert_png(tmp_path / "run" / "confusion_matrix.png")

    # The same validation samples as a CSV with the label last: the same numbers.
    d = datasets.mnist1d()
    rows = [",".join([f"f{i}" for i in range(40)] + ["label"])]
    rows += [
        ",".join([repr(float(v)) for v in x] + [str(int(y))]) for x, y in zip(d.x_test, d.y_test)
    ]
    (tmp_path / "val.csv").write_text("\n".join(rows) + "\n")
    code, out, err = gf("evaluate", "run", "--data", "val.csv", "--target", "label", "--out", "ev")
    assert code == 0, err
    res2 = json.loads((tmp_path / "ev" / "evaluation.json").read_text())
    assert res2["accuracy"] == res["accuracy"] and res2["confusion_matrix"] == cm.tolist()
    assert abs(res2["loss"] - res["loss"]) < 1e-6

    # The training part and the plain weights file work too.
    code, out, err = gf(
        "evaluate", "run", "--split", "train", "--checkpoint", "run/model.safetensors", "--quiet"
    )
    assert code == 0, err
    res3 = json.loads((tmp_path / "run" / "evaluation.json").read_text())
    assert res3["samples"] == 4000 and np.array(res3["confusion_matrix"]).sum() == 4000


def test_evaluate_regression_against_torch(gf, tmp_path):
    code, _, err = gf(
        "train",
        "--data",
        "gabor",
        "--standardize",
        "--hidden",
        "16",
        "--lr",
        "0.01",
        "--epochs",
        "3",
        "--out",
        "g",
        "--quiet",
    )
    assert code == 0, err
    code, out, err = gf("evaluate", "g")
    assert code == 0, err
    res = json.loads((tmp_path / "g" / "evaluation.json").read_text())
    assert "confusion_matrix" not in res and "rmse" in out
    # Recompute with PyTorch from the saved weights and the same validation split.
    from safetensors.torch import load_file

    from gradfit.train.config import config_from_layers
    from gradfit.train.data import prepare

    data = prepare(config_from_layers([({"data": {"name": "gabor", "standardize": True}}, "t")]))
    model = torch.nn.Sequential(torch.nn.Linear(1, 16), torch.nn.ReLU(), torch.nn.Linear(16, 1))
    model.load_state_dict(load_file(str(tmp_path / "g" / "model.safetensors")))
    with torch.no_grad():
        pred = model(torch.tensor(data.x_val, dtype=torch.float32))
        mse = torch.nn.functional.mse_loss(pred, torch.tensor(data.y_val, dtype=torch.float32))
    assert abs(res["loss"] - mse.item()) < 1e-6
    assert abs(res["rmse"] - mse.item() ** 0.5) < 1e-5
