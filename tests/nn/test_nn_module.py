"""Module and Parameter API behaviour, compared with PyTorch where PyTorch defines it."""

import copy
from collections import OrderedDict

import numpy as np
import pytest
import torch
from nn_testing import torch_default_float32  # noqa: F401 - autouse fixture

import gradfit
import gradfit.nn as nn


def _lecture(lib):
    return lib.nn.Sequential(
        lib.nn.Linear(10, 40),
        lib.nn.ReLU(),
        lib.nn.Linear(40, 40),
        lib.nn.ReLU(),
        lib.nn.Linear(40, 5),
    )


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = nn.Sequential(nn.Linear(3, 4), nn.Tanh())
        self.head = nn.Linear(4, 2, bias=False)
        self.scale = nn.Parameter(gradfit.ones(1))
        self.register_buffer("running", gradfit.zeros(2))
        self.register_buffer("scratch", gradfit.zeros(3), persistent=False)

    def forward(self, x):
        return self.head(self.encoder(x)) * self.scale + self.running


class TorchNet(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Tanh())
        self.head = torch.nn.Linear(4, 2, bias=False)
        self.scale = torch.nn.Parameter(torch.ones(1))
        self.register_buffer("running", torch.zeros(2))
        self.register_buffer("scratch", torch.zeros(3), persistent=False)


def test_parameter_is_a_tensor_that_requires_grad():
    p = nn.Parameter(gradfit.zeros(2, 3))
    assert isinstance(p, gradfit.Tensor) and p.requires_grad and p.is_leaf
    assert not nn.Parameter(gradfit.zeros(2), requires_grad=False).requires_grad
    t = gradfit.ones(3)
    q = nn.Parameter(t)
    with gradfit.no_grad():
        q.mul_(2)
    assert t.tolist() == [2.0, 2.0, 2.0]  # shares memory with its source, as PyTorch
    assert repr(nn.Parameter(gradfit.tensor([1.0]))).startswith("Parameter containing:\ntensor(")
    assert type(p * 2) is gradfit.Tensor


def test_names_and_order_match_torch():
    g, t = Net(), TorchNet()
    assert [n for n, _ in g.named_parameters()] == [n for n, _ in t.named_parameters()]
    assert [n for n, _ in g.named_buffers()] == [n for n, _ in t.named_buffers()]
    assert [n for n, _ in g.named_modules()] == [n for n, _ in t.named_modules()]
    assert [n for n, _ in g.named_children()] == [n for n, _ in t.named_children()]
    assert list(g.state_dict()) == list(t.state_dict())
    gl, tl = _lecture(gradfit), _lecture(torch)
    assert [n for n, _ in gl.named_parameters()] == [
        "0.weight",
        "0.bias",
        "2.weight",
        "2.bias",
        "4.weight",
        "4.bias",
    ]
    assert [n for n, _ in gl.named_modules()] == [n for n, _ in tl.named_modules()]
    assert [n for n, _ in gl.named_modules()] == ["", "0", "1", "2", "3", "4"]
    assert len(list(gl.parameters())) == 6
    assert list(gl.parameters())[2] is gl[2].weight
    assert len(list(gl.children())) == 5
    assert len(list(gl.modules())) == 6


def test_shared_parameters_are_listed_once():
    lin = nn.Linear(2, 2)
    seq = nn.Sequential(lin, nn.ReLU(), lin)
    assert len(list(seq.parameters())) == 2
    assert [n for n, _ in seq.named_modules()] == ["", "0", "1"]
    assert len(seq.state_dict()) == 4  # state_dict names every path, as PyTorch


def test_setattr_registers_and_reassignment():
    m = nn.Module()
    m.w = nn.Parameter(gradfit.zeros(2))
    m.sub = nn.Linear(2, 2)
    m.plain = gradfit.zeros(2)  # a plain tensor attribute is not a parameter
    assert [n for n, _ in m.named_parameters()] == ["w", "sub.weight", "sub.bias"]
    m.w = None
    assert [n for n, _ in m.named_parameters()] == ["sub.weight", "sub.bias"]
    with pytest.raises(TypeError, match="parameter 'w'"):
        m.w = gradfit.zeros(2)
    m.sub = nn.Identity()
    assert list(m.named_parameters()) == []
    del m.sub
    assert not hasattr(m, "sub")

    class Early(nn.Module):
        def __init__(self):
            self.w = nn.Parameter(gradfit.zeros(1))

    with pytest.raises(AttributeError, match="before Module.__init__"):
        Early()
    with pytest.raises(AttributeError, match="has no attribute 'nope'"):
        nn.Linear(1, 1).nope  # noqa: B018


def test_register_parameter_and_buffer_errors():
    m = nn.Module()
    with pytest.raises(KeyError, match=r'contain "\.", got: a.b'):
        m.register_parameter("a.b", None)
    with pytest.raises(TypeError, match="Parameter or None"):
        m.register_parameter("a", gradfit.zeros(1))
    with pytest.raises(TypeError, match="Tensor or None"):
        m.register_buffer("b", [1, 2])
    m.register_buffer("b", gradfit.zeros(1))
    m.b = gradfit.ones(1)  # reassigning a buffer keeps it a buffer
    assert m.state_dict()["b"].tolist() == [1.0]


def test_apply_visits_children_first_and_lecture_weights_init():
    order = []
    model = _lecture(gradfit)
    model.apply(lambda m: order.append(type(m).__name__))
    assert order == ["Linear", "ReLU", "Linear", "ReLU", "Linear", "Sequential"]

    def weights_init(layer_in):  # the lecture's code, verbatim
        if isinstance(layer_in, nn.Linear):
            nn.init.kaiming_uniform_(layer_in.weight)
            layer_in.bias.data.fill_(0.0)

    gradfit.manual_seed(0)
    assert model.apply(weights_init) is model
    for layer in (model[0], model[2], model[4]):
        assert np.all(layer.bias.detach().numpy() == 0)
        bound = np.sqrt(6 / layer.in_features)
        w = layer.weight.detach().numpy()
        assert np.abs(w).max() <= bound and np.abs(w).max() > 0.9 * bound


def test_train_eval_propagate():
    model = nn.Sequential(nn.Linear(2, 2), nn.Sequential(nn.Dropout(0.5), nn.ReLU()))
    assert all(m.training for m in model.modules())
    assert model.eval() is model
    assert not any(m.training for m in model.modules())
    model.train()
    assert all(m.training for m in model.modules())
    model[1].train(False)
    assert model.training and not model[1][0].training


def test_zero_grad_and_requires_grad_():
    model = nn.Linear(3, 2)
    model(gradfit.randn(4, 3)).sum().backward()
    assert model.weight.grad is not None
    model.zero_grad(set_to_none=False)
    assert model.weight.grad.abs().sum().item() == 0
    model.zero_grad()
    assert model.weight.grad is None and model.bias.grad is None
    model.requires_grad_(False)
    assert not any(p.requires_grad for p in model.parameters())


def test_state_dict_shares_memory_and_is_detached():
    model = nn.Linear(3, 2)
    sd = model.state_dict()
    assert isinstance(sd, OrderedDict) and list(sd) == ["weight", "bias"]
    assert not sd["weight"].requires_grad and type(sd["weight"]) is gradfit.Tensor
    with gradfit.no_grad():
        model.weight.fill_(3.0)
    assert sd["weight"].numpy().max() == 3.0
    assert model.state_dict(keep_vars=True)["weight"] is model.weight


def test_state_dict_round_trip_and_torch_exchange():
    g1, g2 = Net(), Net()
    g1.running.fill_(0.5)
    g2.load_state_dict(g1.state_dict())
    for (n, a), b in zip(g1.state_dict().items(), g2.state_dict().values()):
        np.testing.assert_array_equal(a.numpy(), b.numpy(), err_msg=n)
    # torch -> gradfit and gradfit -> torch through plain arrays
    t = TorchNet()
    g1.load_state_dict({k: v.numpy() for k, v in t.state_dict().items()})
    x = np.random.default_rng(0).normal(size=(5, 3)).astype(np.float32)
    t2 = TorchNet()
    t2.load_state_dict({k: torch.tensor(v.numpy()) for k, v in g1.state_dict().items()})
    with torch.no_grad():
        want = (t2.head(t2.encoder(torch.tensor(x))) * t2.scale + t2.running).numpy()
    # float32 through two BLAS libraries: entries near zero agree to ~1e-7 absolute
    np.testing.assert_allclose(g1(gradfit.tensor(x)).detach().numpy(), want, rtol=1e-6, atol=1e-6)


def test_load_state_dict_errors_name_keys_and_shapes():
    model = nn.Linear(3, 2)
    sd = model.state_dict()
    bad = OrderedDict(weight=gradfit.zeros(3, 2), bias=sd["bias"])
    with pytest.raises(RuntimeError) as e:
        model.load_state_dict(bad)
    msg = str(e.value)
    assert "size mismatch for weight" in msg
    assert "[3, 2]" in msg and "[2, 3]" in msg
    with pytest.raises(RuntimeError, match=r'Missing key\(s\) in state_dict: "bias"'):
        model.load_state_dict({"weight": sd["weight"]})
    with pytest.raises(RuntimeError, match=r'Unexpected key\(s\) in state_dict: "extra"'):
        model.load_state_dict({**sd, "extra": gradfit.zeros(1)})
    res = model.load_state_dict({"weight": sd["weight"], "extra": gradfit.zeros(1)}, strict=False)
    assert res.missing_keys == ["bias"] and res.unexpected_keys == ["extra"]
    # The same message shape as PyTorch.
    tm = torch.nn.Linear(3, 2)
    with pytest.raises(RuntimeError) as te:
        tm.load_state_dict({"weight": torch.zeros(3, 2), "bias": torch.zeros(2)})
    assert str(te.value).replace("torch.Size", "gradfit.Size") == msg


def test_forward_hooks_and_pre_hooks():
    model = nn.Sequential(nn.Linear(2, 3), nn.ReLU())
    seen = []
    h1 = model[0].register_forward_hook(lambda m, args, out: seen.append(out.shape))
    h2 = model[1].register_forward_hook(lambda m, args, out: out * 0)  # replaces the output
    h3 = model.register_forward_pre_hook(lambda m, args: (args[0] * 0 + 1,))
    out = model(gradfit.randn(4, 2))
    assert seen == [(4, 3)] and out.abs().sum().item() == 0
    for h in (h1, h2, h3):
        h.remove()
    model(gradfit.randn(4, 2))
    assert seen == [(4, 3)]
    assert not model[0]._forward_hooks


def test_to_dtype_keeps_parameter_identity():
    model = nn.Sequential(nn.Linear(3, 2), nn.LayerNorm(2))
    w = model[0].weight
    model(gradfit.randn(1, 3)).sum().backward()
    assert model.to(gradfit.float64) is model
    assert model[0].weight is w and w.dtype == gradfit.float64
    assert w.grad.dtype == gradfit.float64
    assert all(p.dtype == np.float64 for p in model.parameters())
    out = model(gradfit.randn(2, 3, dtype=gradfit.float64))
    assert out.dtype == np.float64
    model.float()
    assert all(p.dtype == np.float32 for p in model.parameters())
    model.double()
    assert all(p.dtype == np.float64 for p in model.parameters())
    assert model.to("cpu") is model
    with pytest.raises(AssertionError, match="CPU"):  # PyTorch's CPU build: AssertionError
        model.to("cuda")


def test_reprs_match_torch():
    assert repr(_lecture(gradfit)) == repr(_lecture(torch))
    assert repr(nn.Linear(3, 2, bias=False)) == repr(torch.nn.Linear(3, 2, bias=False))
    assert repr(nn.LeakyReLU(0.2, inplace=True)) == repr(torch.nn.LeakyReLU(0.2, inplace=True))
    assert repr(nn.Dropout(0.1)) == repr(torch.nn.Dropout(0.1))
    assert repr(nn.GELU("tanh")) == repr(torch.nn.GELU("tanh"))
    assert repr(nn.Softplus(2.0, 10.0)) == repr(torch.nn.Softplus(2.0, 10.0))
    assert repr(nn.GRU(3, 4, 2, batch_first=True)) == repr(torch.nn.GRU(3, 4, 2, batch_first=True))
    gl = nn.ModuleList([nn.Linear(2, 2) for _ in range(3)] + [nn.ReLU()])
    tl = torch.nn.ModuleList([torch.nn.Linear(2, 2) for _ in range(3)] + [torch.nn.ReLU()])
    assert repr(gl) == repr(tl)
    assert "(0-2): 3 x Linear" in repr(gl)
    gd = nn.ModuleDict({"a": nn.Linear(1, 1), "b": nn.Tanh()})
    td = torch.nn.ModuleDict({"a": torch.nn.Linear(1, 1), "b": torch.nn.Tanh()})
    assert repr(gd) == repr(td)
    assert repr(Net()).replace("gradfit", "torch") == repr(TorchNet()).replace("TorchNet", "Net")


def test_sequential_container_api():
    a, b, c = nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1)
    seq = nn.Sequential(a, b, c)
    assert len(seq) == 3 and seq[0] is a and seq[-1] is c
    sub = seq[1:]
    assert isinstance(sub, nn.Sequential) and list(sub) == [b, c]
    assert [n for n, _ in sub.named_children()] == ["1", "2"]  # PyTorch keeps the names
    assert list(seq) == [a, b, c]
    seq.append(nn.Sigmoid())
    assert len(seq) == 4 and isinstance(seq[3], nn.Sigmoid)
    del seq[1]
    assert [n for n, _ in seq.named_children()] == ["0", "1", "2"]
    named = nn.Sequential(OrderedDict([("fc", a), ("act", b)]))
    assert named.fc is a and [n for n, _ in named.named_parameters()] == ["fc.weight", "fc.bias"]
    x = gradfit.randn(4, 2)
    np.testing.assert_array_equal(named(x).detach().numpy(), b(a(x)).detach().numpy())
    with pytest.raises(IndexError, match="out of range"):
        seq[7]
    seq[0] = nn.Identity()
    assert isinstance(seq[0], nn.Identity)


def test_modulelist_and_moduledict():
    ml = nn.ModuleList([nn.Linear(1, 1), nn.Linear(1, 1)])
    ml.append(nn.Linear(1, 2))
    ml.extend([nn.ReLU()])
    assert len(ml) == 4 and len(list(ml.parameters())) == 6
    assert isinstance(ml[1:], nn.ModuleList) and len(ml[1:]) == 3
    ml.insert(0, nn.Tanh())
    assert isinstance(ml[0], nn.Tanh) and [n for n, _ in ml.named_children()][-1] == "4"
    md = nn.ModuleDict({"enc": nn.Linear(2, 2)})
    md["dec"] = nn.Linear(2, 1)
    assert list(md.keys()) == ["enc", "dec"] and "dec" in md and len(md) == 2
    assert [n for n, _ in md.named_parameters()][0] == "enc.weight"
    assert isinstance(md.pop("enc"), nn.Linear) and list(md) == ["dec"]


def test_deepcopy_gives_independent_parameters():
    model = nn.Linear(2, 2)
    clone = copy.deepcopy(model)
    assert isinstance(clone.weight, nn.Parameter) and clone.weight is not model.weight
    with gradfit.no_grad():
        clone.weight.fill_(0)
    assert model.weight.abs().sum().item() > 0


def test_get_submodule_and_parameter():
    net = Net()
    assert net.get_submodule("encoder.0") is net.encoder[0]
    assert net.get_parameter("encoder.0.bias") is net.encoder[0].bias
    with pytest.raises(AttributeError):
        net.get_submodule("encoder.9")


def test_call_without_hooks_runs_forward_directly():
    class Counting(nn.Module):
        calls = 0

        def forward(self, x, scale=1):
            Counting.calls += 1
            return x * scale

    m = Counting()
    assert m(gradfit.ones(2), scale=3).tolist() == [3.0, 3.0]
    assert Counting.calls == 1
    with pytest.raises(NotImplementedError, match="forward"):
        nn.Module()(gradfit.ones(1))
