"""SummaryWriter's event files, read back with TensorBoard's own EventAccumulator."""

from __future__ import annotations

import glob
import os

import numpy as np
import pytest

import gradfit
from gradfit import nn
from gradfit.nn.utils.monitor import GradientMonitor
from gradfit.utils.tensorboard import SummaryWriter, log_training_step


def _accumulator(path):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    acc = EventAccumulator(str(path), size_guidance={"images": 0, "histograms": 0,
                                                     "tensors": 0, "scalars": 0})  # fmt: skip
    acc.Reload()
    return acc


def test_scalars_histograms_text_images_and_figures(tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    values = np.random.default_rng(0).normal(size=500)
    with SummaryWriter(tmp_path) as w:
        for step in range(3):
            w.add_scalar("loss", gradfit.tensor(1.0 / (step + 1)), step)
        w.add_scalar("acc", 0.5, global_step=7)
        w.add_histogram("weights", gradfit.tensor(values), 1)
        w.add_histogram("few", np.array([1.0, 2.0, 2.0, 3.0]), 2, bins=3)
        w.add_text("notes", "hello **tensorboard**", 0)
        w.add_image("img", gradfit.rand(3, 8, 5), 0)
        w.add_image("gray", np.zeros((4, 6), np.uint8), 0, dataformats="HW")
        fig, ax = plt.subplots(figsize=(2, 1), dpi=50)
        ax.plot([0, 1], [1, 0])
        w.add_figure("fig", fig, 0)
    acc = _accumulator(tmp_path)
    loss = acc.Scalars("loss")
    assert [e.step for e in loss] == [0, 1, 2]
    np.testing.assert_allclose([e.value for e in loss], [1.0, 0.5, 1 / 3], rtol=1e-6)
    assert acc.Scalars("acc")[0].step == 7
    h = acc.Histograms("weights")[0].histogram_value
    assert h.num == 500 and sum(h.bucket) == 500
    np.testing.assert_allclose([h.min, h.max, h.sum], [values.min(), values.max(), values.sum()])
    np.testing.assert_allclose(h.sum_squares, (values**2).sum())
    few = acc.Histograms("few")[0].histogram_value
    assert list(few.bucket) == [1, 2, 1]
    text = acc.Tensors("notes/text_summary")[0].tensor_proto.string_val[0].decode()
    assert text == "hello **tensorboard**"
    img = acc.Images("img")[0]
    assert (img.height, img.width) == (8, 5) and img.encoded_image_string.startswith(b"\x89PNG")
    assert (acc.Images("gray")[0].height, acc.Images("gray")[0].width) == (4, 6)
    fig_img = acc.Images("fig")[0]
    assert (fig_img.width, fig_img.height) == (100, 50)


def test_add_scalars_writes_one_run_per_curve(tmp_path):
    w = SummaryWriter(tmp_path)
    for step in range(2):
        w.add_scalars("loss", {"train": 1.0 + step, "val": 2.0 + step}, step)
    w.close()
    for key, first in (("train", 1.0), ("val", 2.0)):
        acc = _accumulator(tmp_path / f"loss_{key}")
        assert [e.value for e in acc.Scalars("loss")] == [first, first + 1]
    with pytest.raises(RuntimeError, match="closed"):
        w.add_scalar("x", 1.0)


def test_add_hparams_for_the_hparams_dashboard(tmp_path):
    from tensorboard.plugins.hparams import metadata

    with SummaryWriter(tmp_path) as w:
        w.add_hparams({"lr": 0.1, "opt": "adam", "bn": True}, {"hparam/loss": 0.25}, run_name="r")
    acc = _accumulator(tmp_path / "r")
    content = acc.PluginTagToContent(metadata.PLUGIN_NAME)
    exp = metadata.parse_experiment_plugin_data(content[metadata.EXPERIMENT_TAG])
    assert sorted(h.name for h in exp.hparam_infos) == ["bn", "lr", "opt"]
    start = metadata.parse_session_start_info_plugin_data(content[metadata.SESSION_START_INFO_TAG])
    assert start.hparams["lr"].number_value == 0.1 and start.hparams["opt"].string_value == "adam"
    assert acc.Scalars("hparam/loss")[0].value == 0.25
    with pytest.raises(ValueError, match="'bad' must be"):
        SummaryWriter(tmp_path / "b").add_hparams({"bad": [1]}, {})


def test_default_log_dir_is_pytorchs(tmp_path, monkeypatch):
    import socket

    monkeypatch.chdir(tmp_path)
    w = SummaryWriter(comment="-x")
    w.close()
    (run,) = os.listdir(tmp_path / "runs")
    assert run.endswith(f"_{socket.gethostname()}-x")
    assert glob.glob(str(tmp_path / "runs" / run / "events.out.tfevents.*"))


def test_log_training_step_with_gradient_monitor(tmp_path):
    gradfit.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 1))
    opt = gradfit.optim.SGD(model.parameters(), lr=0.05)
    x, y = gradfit.randn(16, 4), gradfit.randn(16, 1)
    with GradientMonitor(model, warn=False) as mon, SummaryWriter(tmp_path) as w:
        for step in range(2):
            opt.zero_grad()
            loss = nn.functional.mse_loss(model(x), y)
            loss.backward()
            opt.step()
            log_training_step(w, step, {"loss": loss.item()}, optimizer=opt, monitor=mon)
        expected = {layer.name: (layer.activation_var, layer.grad_var) for layer in mon.layers}
    acc = _accumulator(tmp_path)
    assert [e.step for e in acc.Scalars("metrics/loss")] == [0, 1]
    assert acc.Scalars("lr")[0].value == pytest.approx(0.05)
    for name, (act, grad) in expected.items():
        assert acc.Scalars(f"activations/{name}")[-1].value == pytest.approx(act, rel=1e-6)
        assert acc.Scalars(f"gradients/{name}")[-1].value == pytest.approx(grad, rel=1e-6)
