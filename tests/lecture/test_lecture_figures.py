"""Every lecture figure runs (fast mode) and shows the lecture's numbers.

One ``run_all(fast=True)`` per session writes all PNGs and JSONs; the tests read the
returned summaries and the JSON files, and check the key numbers against the lecture,
against PyTorch (the Gabor model's Hessian and gradients, the toy model's backprop), or
against closed forms.
"""

import itertools
import json
import math

import numpy as np
import pytest
import torch

from gradfit.lecture import FIGURES, _common, run_all
from tests._png import assert_png


@pytest.fixture(scope="module", autouse=True)
def _torch_float64():
    # Set for this module only: a module-level set_default_dtype ran at collection and
    # leaked float64 into every other test module of the session.
    old = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    yield
    torch.set_default_dtype(old)


@pytest.fixture(scope="module")
def figures(tmp_path_factory):
    out = tmp_path_factory.mktemp("figures")
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(_common, "save_figure", _recording_save_figure)
        _SAVED.clear()
        summaries = run_all(out, fast=True)
    data = {name: json.loads((out / f"{name}.json").read_text()) for name in summaries}
    return out, summaries, data


_SAVED = {}  # name -> the matplotlib figure's size in inches, as it was saved
_save_figure = _common.save_figure


def _recording_save_figure(fig, out_dir, name):
    _SAVED[name] = tuple(fig.get_size_inches())
    return _save_figure(fig, out_dir, name)


def _numbers(obj):
    """Every number in a JSON-like tree (booleans are not numbers here)."""
    if isinstance(obj, dict):
        obj = list(obj.values())
    if isinstance(obj, list):
        return [x for v in obj for x in _numbers(v)]
    return [obj] if isinstance(obj, int | float) and not isinstance(obj, bool) else []


def _torch_gabor_loss(phi, x, y):
    z = phi[0] + 0.06 * phi[1] * torch.as_tensor(x)
    pred = torch.sin(z) * torch.exp(-(z * z) / 32.0)
    return ((pred - torch.as_tensor(y)) ** 2).sum()


def test_every_figure_writes_png_and_json(figures):
    out, summaries, data = figures
    assert set(summaries) == set(FIGURES) == set(_SAVED)
    for name in FIGURES:
        assert summaries[name]["png"] == str(out / f"{name}.png")
        assert summaries[name]["json"] == str(out / f"{name}.json")
        # The PNG decodes to the figure's size at save_figure's 100 dpi, in many colours,
        # with a good part of it drawn: the sparsest figures draw ~6%, three empty
        # labelled axes 3%.
        w_in, h_in = _SAVED[name]
        assert_png(
            out / f"{name}.png",
            size=(round(w_in * 100), round(h_in * 100)),
            min_colours=200,
            min_drawn=0.05,
        )
        # Every number the summary reports is one of the numbers the figure's JSON holds,
        # except the grid's shape, which is the shape of the JSON's grid.
        summary = _common._jsonable(
            {k: v for k, v in summaries[name].items() if k not in ("png", "json", "seconds")}
        )
        shown = set(_numbers(data[name]))
        assert len(shown) > 1, f"{name}.json holds no numbers"
        if "grid_shape" in summary:
            grid = np.array(data[name]["final_loss"], dtype=float)
            assert list(grid.shape) == summary.pop("grid_shape"), name
        missing = [x for x in _numbers(summary) if x not in shown]
        assert not missing, f"{name}: summary numbers not in {name}.json: {missing}"
    saved = json.loads((out / "summary.json").read_text())
    assert saved == _common._jsonable(summaries)


def test_initialisation_variance_per_layer(figures):
    _, s, data = figures
    assert data["initialisation"]["n_networks"] >= 10
    runs = data["initialisation"]["runs"]
    assert len(runs["0.02"]["activation_var"]) == 50
    # He (sigma^2 = 2/D): the last layer's variance within a factor 10 of the first's.
    he = s["initialisation"]["activation_ratio_last_first[0.02]"]
    assert 0.1 < he < 10
    assert 0.1 < s["initialisation"]["grad_ratio_first_last[0.02]"] < 10
    assert s["initialisation"]["activation_ratio_last_first[1.0]"] > 1e10
    assert s["initialisation"]["activation_ratio_last_first[0.001]"] < 1e-10
    # exploding / vanishing gradients: the first layer's gradient variance vs the last's
    assert s["initialisation"]["grad_ratio_first_last[1.0]"] > 1e10
    assert s["initialisation"]["grad_ratio_first_last[0.001]"] < 1e-10
    # the curve is the geometric mean of the per-network variances
    per = np.array(runs["1.0"]["activation_var_per_network"])
    np.testing.assert_allclose(runs["1.0"]["activation_var"], np.exp(np.log(per).mean(0)))
    # the lecture's factor (1/2) D sigma^2 per layer: 50 for sigma^2 = 1
    assert 30 < runs["1.0"]["fitted_factor_per_layer"] < 70


def test_gabor_global_minimum_and_local_minima(figures):
    _, s, data = figures
    land = data["gabor_landscape"]
    phi = np.array(s["gabor_landscape"]["global_minimum_phi"])
    assert abs(phi[0] - 0.0) < 0.5 and abs(phi[1] - 16.6) < 1.0
    glob = land["global_minimum"]["loss"]
    assert 0.4 < glob < 0.9  # the lecture's figure: 0.64
    others = [m["loss"] for m in land["minima"][1:]]
    assert len(others) >= 3
    assert all(glob < v for v in others)
    assert land["minima_missed_by_descent"] == []
    x, y = np.array(land["x"]), np.array(land["y"])
    for m in land["minima"]:
        p = torch.tensor(m["phi"])
        hess = torch.autograd.functional.hessian(lambda q: _torch_gabor_loss(q, x, y), p)
        assert torch.linalg.eigvalsh(hess).min() > 0, m
        np.testing.assert_allclose(
            m["hessian_eigenvalues"], torch.linalg.eigvalsh(hess), rtol=1e-5, atol=1e-6
        )


def test_gabor_saddles_have_eigenvalues_of_both_signs(figures):
    _, _, data = figures
    land = data["gabor_landscape"]
    x, y = np.array(land["x"]), np.array(land["y"])
    assert len(land["saddles"]) >= 1
    for sp in land["saddles"]:
        assert sp["hessian_eigenvalues"][0] < 0 < sp["hessian_eigenvalues"][1]
        p = torch.tensor(sp["phi"], requires_grad=True)
        (g,) = torch.autograd.grad(_torch_gabor_loss(p, x, y), p)
        assert g.norm() < 1e-6, sp  # a stationary point
        hess = torch.autograd.functional.hessian(lambda q: _torch_gabor_loss(q, x, y), p.detach())
        eig = torch.linalg.eigvalsh(hess)
        assert eig[0] < 0 < eig[1], sp


def test_gabor_hessian_from_the_engine_matches_torch():
    x, y = _common.gabor_data()
    phi = np.array([[0.3, 15.0], [-4.0, 8.0]])
    mine = _common.gabor_hessian(phi, x, y)
    for k in range(2):
        ref = torch.autograd.functional.hessian(
            lambda q: _torch_gabor_loss(q, x, y), torch.tensor(phi[k])
        )
        np.testing.assert_allclose(mine[k], ref.numpy(), rtol=1e-10, atol=1e-9)


def test_gabor_data(figures):
    _, s, data = figures
    d = data["gabor_data"]
    assert s["gabor_data"]["n"] == 28
    assert -15 <= min(d["x"]) and max(d["x"]) <= 15
    assert d["true_phi"] == [0.0, 16.6]
    assert d["noise_std"] == 0.15
    assert 0.5 * 0.15 < d["residual_std"] < 2 * 0.15


def test_momentum_ends_below_sgd(figures):
    _, s, _ = figures
    m = s["momentum"]
    assert m["momentum_last_epoch_mean_loss"] < m["sgd_last_epoch_mean_loss"]
    assert m["momentum_path_length"] < m["sgd_path_length"]  # a smoother path


def test_nesterov_diagram_is_the_optimizers_step(figures):
    _, s, _ = figures
    assert s["nesterov"]["diagram_err_point3"] < 1e-12
    assert s["nesterov"]["diagram_err_point5"] < 1e-12
    assert s["nesterov"]["nesterov_path_length"] < s["nesterov"]["momentum_path_length"]


def test_schedule_step_decay(figures):
    _, s, data = figures
    sch = s["schedules"]
    assert sch["step_lr_last_epoch_mean_loss"] < sch["constant_last_epoch_mean_loss"]
    lrs = data["schedules"]["step_lr"]["lr_per_epoch"]
    assert lrs == [1.0 * 0.5 ** (e // 5) for e in range(30)]  # StepLR's closed form


def test_toy_backprop_engine_equals_chain_rule(figures):
    _, s, data = figures
    assert s["backprop_toy"]["max_abs_diff"] < 1e-12
    rows = {r["quantity"]: r["engine"] for r in data["backprop_toy"]["rows"]}
    # and PyTorch's autograd agrees
    beta = [torch.tensor(v, requires_grad=True) for v in data["backprop_toy"]["beta"]]
    omega = [torch.tensor(v, requires_grad=True) for v in data["backprop_toy"]["omega"]]
    x, y = data["backprop_toy"]["x"], data["backprop_toy"]["y"]
    f = beta[3] + omega[3] * torch.cos(
        beta[2] + omega[2] * torch.exp(beta[1] + omega[1] * torch.sin(beta[0] + omega[0] * x))
    )
    loss = (f - y) ** 2
    loss.backward()
    assert abs(rows["l"] - loss.item()) < 1e-12
    for k in range(4):
        assert abs(rows[f"dl/dbeta{k}"] - beta[k].grad.item()) < 1e-12
        assert abs(rows[f"dl/domega{k}"] - omega[k].grad.item()) < 1e-12


def test_deep_backprop_by_hand_equals_autodiff(figures):
    _, s, data = figures
    assert s["backprop_deep"]["max_abs_diff"] < 1e-12
    hand = np.array(data["backprop_deep"]["hand_grads"])
    assert np.abs(hand).max() > 0.1  # a real gradient, not zeros
    assert abs(data["backprop_deep"]["loss_hand"] - data["backprop_deep"]["loss_autodiff"]) < 1e-12


def test_line_search(figures):
    _, s, data = figures
    ls = s["line_search"]
    assert ls["error"] < 1e-3
    hist = np.array(data["line_search"]["history"])
    assert np.all(np.diff(hist[:, 3] - hist[:, 0]) <= 1e-15)  # the bracket only shrinks
    assert np.all(hist[:, 0] <= hist[:, 1]) and np.all(hist[:, 2] <= hist[:, 3])
    t = ls["true_t_min"]
    assert np.all((hist[:, 0] <= t + 1e-3) & (t - 1e-3 <= hist[:, 3]))  # keeps the minimum


def test_linear_regression_line_search_descent(figures):
    _, s, _ = figures
    lr = s["linear_regression"]
    losses = lr["losses"]
    assert len(losses) == 5
    assert all(b < a for a, b in zip(losses, losses[1:]))
    assert losses[0] > 10 * lr["least_squares_loss"]  # a poor start
    assert losses[-1] < 1.05 * lr["least_squares_loss"]  # close after four iterations
    # exact line search: each step is orthogonal to the previous one
    assert all(abs(c) < 0.05 for c in lr["consecutive_step_cosines"])


def test_linear_regression_one_newton_step_is_the_least_squares_fit(figures):
    _, s, data = figures
    lr, d = s["linear_regression"], data["linear_regression"]
    x, y = np.array(d["x"]), np.array(d["y"])
    design = np.stack([np.ones_like(x), x], axis=1)
    best = np.linalg.lstsq(design, y, rcond=None)[0]
    # the loss is quadratic: Newton's first iterate is the minimum, from any start
    np.testing.assert_allclose(d["newton_iterates"][0], d["start"])
    np.testing.assert_allclose(lr["newton_phi"], best, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(d["newton_iterates"][1], best, rtol=1e-10, atol=1e-10)
    newton_loss = lr["newton_losses"][1]
    np.testing.assert_allclose(newton_loss, ((design @ best - y) ** 2).sum(), rtol=1e-10)
    assert newton_loss <= lr["losses"][-1]


def test_sgd_batches(figures):
    _, s, data = figures
    sg = s["sgd"]
    assert sg["n_batches"] == math.comb(28, 3)
    assert sg["steps_match_rule"]
    assert sg["uphill_batch_delta_full"] > 0 > sg["uphill_batch_delta_batch"]
    assert 0 < sg["fraction_uphill_on_full_downhill_on_batch"] < 0.5
    # the updates are phi_c - lr * (sum of the batch's per-example gradients): check one
    # batch's update against PyTorch
    d = data["sgd"]
    x, y = np.array(d["x"]), np.array(d["y"])
    idx = list(itertools.combinations(range(28), 3))
    k = 1234
    p = torch.tensor(d["phi_c"], requires_grad=True)
    loss = _torch_gabor_loss(p, x[list(idx[k])], y[list(idx[k])])
    (g,) = torch.autograd.grad(loss, p)
    np.testing.assert_allclose(d["updates"][k], (p - d["lr"] * g).detach().numpy(), atol=1e-12)


def test_adam_four_panels(figures):
    _, s, data = figures
    a = s["adam"]
    start_loss = data["adam"]["runs"]["adam"]["loss"][0]
    assert a["gd_shallow_rate_final_loss"] > start_loss  # unstable
    assert a["gd_steep_rate_final_loss"] > 10 * a["adam_final_loss"]  # slow
    # normalised gradients: a fixed step lr along each axis, oscillating at the end
    np.testing.assert_allclose(a["normalized_last_step_abs"], [0.15, 0.15], rtol=1e-4)
    assert a["adam_final_loss"] < a["normalized_final_loss"]


def test_hyperparameter_search(figures):
    _, s, data = figures
    h = s["hyperparameter_search"]
    assert h["grid_shape"] == [3, 3]
    assert h["best"]["loss"] < h["initial_loss"] / 2
    grid = np.array(data["hyperparameter_search"]["final_loss"], dtype=float)
    assert h["best"]["loss"] == pytest.approx(np.nanmin(grid))


def test_computation_graphs(figures):
    _, s, data = figures
    cg = s["computation_graphs"]
    assert cg["a_plus_b_grads"] == {"a": 2.0, "b": 5.0}  # b + 1 and (b + 1) + (a + b)
    # logistic regression: dL/dw = (y - t) y (1 - y) x, dL/db = (y - t) y (1 - y)
    w, b, x, t = 0.8, -0.3, 1.5, 1.0
    yv = 1 / (1 + math.exp(-(w * x + b)))
    assert cg["logistic_regression_grads"]["w"] == pytest.approx((yv - t) * yv * (1 - yv) * x)
    assert cg["logistic_regression_grads"]["b"] == pytest.approx((yv - t) * yv * (1 - yv))
    graphs = data["computation_graphs"]["graphs"]
    assert sorted(graphs["a_plus_b_times_b_plus_1"]["op_names"]) == [
        "AddBackward0",
        "AddBackward0",
        "MulBackward0",
    ]
    assert "SigmoidBackward0" in graphs["logistic_regression"]["op_names"]
    assert cg["gru_source"] == "gradfit.nn.GRUCell"
    assert {"SigmoidBackward0", "TanhBackward0"} <= set(graphs["gru_step"]["op_names"])
