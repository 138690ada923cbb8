"""In-place ops inside an autograd graph, side by side with PyTorch (float64, 1e-12).

Each statement runs under torch and under gradfit on ``y = x * 2 + 0.5`` (x a leaf that
requires grad); then ``(y * y).sum().backward()``. The forward values, ``x.grad`` and,
where PyTorch raises, the exception type and message must agree. Views: an in-place op
on a view changes its base and the other views, and the gradients follow (CopySlices).
"""

from __future__ import annotations

import sys

import numpy as np
import pytest

import gradfit
import gradfit.tensor  # noqa: F401 - the module, for its table of in-place methods

BASE = np.array([[0.3, -1.2, 2.5], [1.7, -0.4, 0.9]])

# One statement per in-place method (every entry of the table and the hand-written ones).
METHODS = [
    "y.add_(c)",
    "y.add_(c, alpha=2)",
    "y.sub_(c)",
    "y.sub_(c, alpha=0.5)",
    "y.mul_(c)",
    "y.mul_(3)",
    "y.multiply_(c)",
    "y.subtract_(c)",
    "y.div_(c)",
    "y.true_divide_(c)",
    "y.div_(c, rounding_mode='floor')",
    "y.div_(c, rounding_mode='trunc')",
    "y.clamp_(min=0)",
    "y.clamp_(-0.5, 1.0)",
    "y.clip_(max=0.7)",
    "y.clamp_min_(0.2)",
    "y.clamp_max_(0.2)",
    "y.zero_()",
    "y.fill_(2.0)",
    "y.fill_(x[0, 1] * 3)",
    "y.copy_(x.t().t() * 3)",
    "y.add_(x[0])",
    "y.copy_(c)",
    "y.copy_(c[0])",
    "y.relu_()",
    "y.sigmoid_()",
    "y.tanh_()",
    "y.exp_()",
    "y.expm1_()",
    "y.neg_()",
    "y.negative_()",
    "y.abs_()",
    "y.absolute_()",
    "y.abs_().sqrt_()",
    "y.abs_().rsqrt_()",
    "y.abs_().log_()",
    "y.abs_().log1p_()",
    "y.sin_()",
    "y.cos_()",
    "y.square_()",
    "y.pow_(2)",
    "y.pow_(c)",
    "y.reciprocal_()",
    "y.addcmul_(c, c, value=0.5)",
    "y.addcdiv_(c, p, value=0.5)",
    "y.lerp_(c, 0.3)",
    "y.floor_()",
    "y.ceil_()",
    "y.round_()",
    "y.round_(decimals=1)",
    "y.trunc_()",
    "y.fix_()",
    "y.sign_()",
    "y.sgn_()",
    "y.frac_()",
    "y.masked_scatter_(c > 0, p)",
    "y.unsqueeze_(0)",
    "y.squeeze_()",
    "y.t_()",
    "y.transpose_(0, 1)",
    "y.swapaxes_(0, 1)",
    "y.swapdims_(0, 1)",
    "y += c",
    "y -= c",
    "y *= c",
    "y /= c",
    "a = y; a += c",
    "y.normal_()",
    "y.uniform_()",
    "y.masked_fill_(y > 0, 0.0)",
    "y[:, 0] = 0",
    "y[0] = c[0]",
    "y.mul_(c).add_(1).relu_()",
    "d = y.detach(); y.add_(1); y = y + d",
    "z = y * c; y.add_(1); y = y + z",
    "q = x * 3; q.copy_(y); y = q * y",
    # binary ops (ops-binary)
    "y.remainder_(c)",
    "y.fmod_(c)",
    "y.atan2_(c)",
    "y.arctan2_(c)",
    "y.hypot_(c)",
    "y.abs_().xlogy_(c.abs())",
    "y.abs_().float_power_(c)",
    "y.copysign_(c)",
]

# unary math (ops-unary); y = 2 x + 0.5 lies in [-1.9, 5.5], scaled into each domain.
# PyTorch has no derivative for asinh_, acosh_, atanh_ in a graph: those edit a detached
# alias (gradfit differentiates them too, tested in tests/engine/test_unary_more.py).
METHODS += [
    "y.mul_(0.2).tan_()",
    "y.mul_(0.5).sinh_()",
    "y.mul_(0.5).cosh_()",
    "y.mul_(0.15).asin_()",
    "y.mul_(0.15).acos_()",
    "y.mul_(0.15).arcsin_()",
    "y.mul_(0.15).arccos_()",
    "y.atan_()",
    "y.arctan_()",
    "d = y.detach(); d.asinh_(); y = y * d",
    "d = y.detach(); d.arcsinh_(); y = y * d",
    "d = y.detach(); d.abs_().add_(1.1).acosh_(); y = y * d",
    "d = y.detach(); d.abs_().add_(1.1).arccosh_(); y = y * d",
    "d = y.detach(); d.mul_(0.15).atanh_(); y = y * d",
    "d = y.detach(); d.mul_(0.15).arctanh_(); y = y * d",
    "y.abs_().add_(0.2).log2_()",
    "y.abs_().add_(0.2).log10_()",
    "y.exp2_()",
    "y.erf_()",
    "y.erfc_()",
    "y.mul_(0.15).erfinv_()",
    "y.abs_().add_(0.2).lgamma_()",
    "y.abs_().add_(0.2).digamma_()",
    "y.mul_(0.08).add_(0.5).logit_()",
    "y.mul_(0.08).add_(0.5).logit_(eps=0.4)",
    "y.sinc_()",
    "y.deg2rad_()",
    "y.rad2deg_()",
    "y.nan_to_num_(posinf=2.0)",
    "y.nan_to_num_()",
]

# Views: the base and its other views see an edit, with gradients (PyTorch's CopySlices).
VIEWS = [
    "v = y[0:1]; v.mul_(2)",
    "v = y[0:1]; v.masked_fill_(v > 0, 0.0)",
    "y[:, :2].mul_(2)",
    "y.view(-1).add_(1)",
    "h = y.t(); h.add_(1)",
    "v = y.view(-1); y.add_(1); y = v.view(2, 3)",
    "a, b = y[:, :1], y[:, 1:]; a.tanh_(); y = y * a + b.sum()",
    "v = y[0]; w = y[:, 1]; v.mul_(3); y = w * 2 + y.sum()",
    "v = y[0]; u = v[1:]; u.add_(c[0, 1:]); y = y + v.sum() + u.sum()",
    "v = y.t(); z = v * 3; y.mul_(c); y = y + v.t() + z.t()",
    "v = y[0]; z = v.exp(); v.add_(1); y = z",
    "v = y[1]; z = v * c[0]; v.mul_(2); y = z + y[1]",
    "buf = K.zeros(2, 3); buf[:, 0:2].copy_(y[:, 0:2]); y = buf",
    "buf = K.zeros(3, 2, 3); [buf[i].copy_(y * i) for i in range(3)]; y = buf.sum(0) * buf[1]",
    "v = y.view(3, 2); v.relu_(); y = y * v.view(2, 3)",
    "v = y[:, ::2]; v.masked_fill_(v > 1, -1.0); y = y + v.sum()",
    "y = y.unsqueeze(0); v = y[0, 1]; v.clamp_(min=2.0); y = y[0]",
    "y.unsqueeze_(0); v = y[0, :, 1]; v.div_(2); y = y[0]",
    "v = y[0]; y[1] = c[1] * 3; y = v * y",
    # recurrences through a buffer: each step edits a region earlier views do not cover
    "h = K.zeros(4, 2, 3); h[0] = y\nfor t in range(1, 4): h[t] = (h[t - 1] * c).tanh()\n"
    "y = h.sum(0)",
    "h = K.zeros(4, 2, 3)\nfor t in range(4): h[t].copy_(y * t); h[t].add_(h[t - 1])\ny = h.sum(0)",
]

# Statements PyTorch refuses: (statement, words of the message both must contain).
ERRORS = [
    ("x.add_(1)", "leaf Variable that requires grad"),
    ("x.relu_()", "leaf Variable that requires grad"),
    ("x.unsqueeze_(0)", "leaf Variable that requires grad"),
    ("x += 1", "leaf Variable that requires grad"),
    ("w = x[0]; w.mul_(2)", "view of a leaf Variable"),
    ("z = y.exp(); z.add_(1); y = z", "modified by an inplace"),
    ("z = y.sigmoid(); z.mul_(2); y = z", "modified by an inplace"),
    ("y.sigmoid_(); y.mul_(2)", "modified by an inplace"),
    ("z = y.tanh(); v = z[0]; v.mul_(2); y = z", "modified by an inplace"),
    ("y.expand(2, 2, 3).add_(1)", "single memory location"),
    ("v = y.chunk(3, 1)[1]; v.sigmoid_()", "returns multiple views"),
    ("v = y.unbind(0)[1]; v.mul_(2)", "returns multiple views"),
]

DTYPE_ERRORS = [
    "K.tensor([1, 2]).div_(2)",
    "K.tensor([1, 2]).add_(1.5)",
    "K.tensor([1, 2]).mul_(0.5)",
    "a = K.tensor([1, 2]); a += 0.5",
    "K.tensor([1, 2]).sqrt_()",
    "K.ones(3, dtype=K.bool).add_(1)",
]


def _run(lib, stmt):
    x = lib.tensor(BASE, requires_grad=True)
    c = lib.tensor(BASE[::-1].copy() * 0.7 + 0.1)
    p = lib.tensor(np.abs(BASE) + 0.5)
    y = x * 2 + 0.5
    lib.manual_seed(0)
    ns = {"x": x, "y": y, "c": c, "p": p, "K": lib}
    exec(stmt, ns)  # noqa: S102 - the statements above
    y = ns["y"]
    (y * y).sum().backward()
    g = x.grad
    if lib is not gradfit and g is not None and g._is_zerotensor():
        g = lib.zeros_like(g)  # PyTorch's gradient of sgn: a ZeroTensor refuses numpy()
    return y.detach().numpy().copy(), None if g is None else g.numpy().copy()


@pytest.fixture(autouse=True)
def _float64():
    import torch

    torch.set_default_dtype(torch.float64)
    old = gradfit.get_default_dtype()
    gradfit.set_default_dtype(gradfit.float64)
    yield
    gradfit.set_default_dtype(old)
    torch.set_default_dtype(torch.float32)


@pytest.mark.parametrize("stmt", METHODS + VIEWS)
def test_inplace_in_graph_matches_torch(stmt):
    import torch

    ty, tg = _run(torch, stmt)
    gy, gg = _run(gradfit, stmt)
    assert gy.shape == ty.shape
    np.testing.assert_allclose(gy, ty, rtol=1e-12, atol=1e-12)
    assert (gg is None) == (tg is None)
    if tg is not None:
        np.testing.assert_allclose(gg, tg, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("stmt,words", ERRORS)
def test_inplace_errors_match_torch(stmt, words):
    import torch

    with pytest.raises(RuntimeError) as te:
        _run(torch, stmt)
    with pytest.raises(RuntimeError) as ge:
        _run(gradfit, stmt)

    # PyTorch says "variables ... inplace", gradfit "tensors ... in-place": same meaning.
    def norm(e):
        return str(e.value).replace("in-place", "inplace").replace("variables", "tensors")

    assert words in norm(te)
    assert words in norm(ge)


@pytest.mark.parametrize("stmt", DTYPE_ERRORS)
def test_inplace_dtype_rule_matches_torch(stmt):
    import torch

    with pytest.raises(RuntimeError) as te:
        exec(stmt, {"K": torch})  # noqa: S102
    with pytest.raises(RuntimeError) as ge:
        exec(stmt, {"K": gradfit})  # noqa: S102
    assert str(ge.value) == str(te.value).split("\n")[0]


def test_every_table_method_is_tested():
    tested = " ".join(METHODS)
    module = sys.modules["gradfit.tensor"]
    names = [*module._INPLACE, *module._INPLACE_VIEWS]
    missing = [n + "_" for n in names if f".{n}_(" not in tested]
    assert not missing, f"in-place methods without a parity statement: {missing}"


def test_outside_graph_edits_memory_and_views_follow():
    x = gradfit.arange(6.0).reshape(2, 3)
    v = x[:, 1]
    x.mul_(2)
    v.add_(1)
    x.t().sub_(0.5)
    np.testing.assert_array_equal(v.numpy(), [2.5, 8.5])
    np.testing.assert_array_equal(x.numpy(), [[-0.5, 2.5, 3.5], [5.5, 8.5, 9.5]])
    w = gradfit.ones(3, requires_grad=True)
    with gradfit.no_grad():
        w[1:].mul_(3)
        w.data.add_(1)
    np.testing.assert_array_equal(w.detach().numpy(), [2, 4, 4])
    assert w.is_leaf


def _block(nn):
    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(3, 3, 3, padding=1, bias=False)
            self.bn1 = nn.BatchNorm2d(3)
            self.relu = nn.ReLU(inplace=True)
            self.conv2 = nn.Conv2d(3, 3, 3, padding=1, bias=False)
            self.bn2 = nn.BatchNorm2d(3)
            self.fc = nn.Linear(3, 2)

        def forward(self, x):
            identity = x
            out = self.relu(self.bn1(self.conv1(x)))
            out = self.bn2(self.conv2(out))
            out += identity
            out = self.relu(out)
            return self.fc(out.mean((2, 3)))

    return Block()


def test_resnet_block_with_inplace_ops_trains_like_torch():
    import torch

    t = _block(torch.nn).double()
    g = _block(gradfit.nn)
    g.load_state_dict({k: v.numpy().copy() for k, v in t.state_dict().items()})
    rng = np.random.default_rng(0)
    xs = rng.standard_normal((3, 4, 3, 5, 5))
    ys = rng.integers(0, 2, (3, 4))
    topt = torch.optim.SGD(t.parameters(), lr=0.1, momentum=0.9)
    gopt = gradfit.optim.SGD(g.parameters(), lr=0.1, momentum=0.9)
    for xb, yb in zip(xs, ys):
        for lib, model, opt in ((torch, t, topt), (gradfit, g, gopt)):
            opt.zero_grad()
            loss = lib.nn.functional.cross_entropy(model(lib.tensor(xb)), lib.tensor(yb))
            loss.backward()
            opt.step()
    for (k, tv), gv in zip(t.state_dict().items(), g.state_dict().values()):
        np.testing.assert_allclose(gv.numpy(), tv.numpy(), rtol=1e-12, atol=1e-12, err_msg=k)


def test_sibling_view_edit_after_a_saved_output_gives_the_out_of_place_gradient():
    """PyTorch refuses this (views share one version counter); gradfit checks the values
    sigmoid saved, which editing the other view left alone: its gradient must be the
    out-of-place program's (README, where gradfit differs on purpose)."""
    import torch

    cs = BASE[::-1].copy()[:, 1:]
    x = gradfit.tensor(BASE, requires_grad=True)
    y = x * 2 + 0.5
    a, b = y[:, :1], y[:, 1:]
    a.sigmoid_()
    b.mul_(gradfit.tensor(cs))
    (y * y).sum().backward()
    tx = torch.tensor(BASE, requires_grad=True)
    ty = tx * 2 + 0.5
    ty = torch.cat([ty[:, :1].sigmoid(), ty[:, 1:] * torch.tensor(cs)], 1)
    (ty * ty).sum().backward()
    np.testing.assert_allclose(y.detach().numpy(), ty.detach().numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-12, atol=1e-12)


def test_tensors_with_views_pickle_and_copy():
    import copy
    import pickle

    m = gradfit.nn.Linear(3, 2)
    x = gradfit.randn(4, 3)
    m(x)
    flat = x.view(-1)
    for obj in (m, x, flat):
        pickle.loads(pickle.dumps(obj))
        copy.deepcopy(obj)
    again = pickle.loads(pickle.dumps(flat))
    np.testing.assert_array_equal(again.numpy(), x.numpy().reshape(-1))


def test_the_first_in_place_op_of_a_process_orders_the_earlier_nodes():
    # Nodes are numbered only from the first in-place op recorded in a graph on; those
    # recorded before it (number 0) must still count as its earlier consumers. A fresh
    # interpreter, so that no other test has started the numbering.
    import subprocess
    import sys

    program = (
        "import gradfit as t\n"
        "x = t.tensor([1.0, 2.0, 3.0], requires_grad=True)\n"
        "y = x * 2\n"
        "a = y.sum() * 3\n"  # consumes y before the edit: its gradient is 3 per entry
        "y.add_(x * x)\n"  # y <- 2x + x^2: the first in-place op recorded in this process
        "b = y.sum()\n"  # consumes the edited y: d/dx (2x + x^2) = 2 + 2x
        "(a + b).backward()\n"
        "print(x.grad.tolist())\n"
    )
    out = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == str([6.0 + 2.0 + 2.0 * v for v in (1.0, 2.0, 3.0)])


def test_diagonal_is_a_view_as_in_pytorch():
    """``x.diagonal()`` shares x's memory: ``K.diagonal().add_(eps)`` (jitter on a
    covariance), ``x[i, 0].diagonal().fill_(v)`` outside a graph, and an edit inside a
    graph whose gradient flows through the view, as PyTorch's CopySlices."""
    import torch

    results = []
    for lib in (gradfit, torch):
        k = lib.zeros(2, 3, 3)
        k[1].diagonal().add_(1e-3)
        k.diagonal(offset=-1, dim1=1, dim2=2).fill_(2.0)
        a = lib.arange(9.0).reshape(3, 3).requires_grad_()
        b = a * 2
        b.diagonal(1).mul_(5)
        (b * lib.arange(9.0).reshape(3, 3)).sum().backward()
        d = lib.ones(4, 4).diagonal()
        results.append(
            (k.numpy(), b.detach().numpy(), a.grad.numpy(), d.stride(), d.is_contiguous())
        )
    for got, want in zip(*results):
        np.testing.assert_array_equal(np.asarray(got), np.asarray(want))
