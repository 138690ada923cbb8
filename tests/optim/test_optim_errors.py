"""Invalid hyperparameters and state_dicts raise, naming the bad value (as PyTorch does)."""

from __future__ import annotations

import pytest
import torch

import gradfit
from gradfit import optim


def _p():
    return gradfit.zeros(2, requires_grad=True)


@pytest.mark.parametrize(
    ("cls", "kw", "message"),
    [
        (optim.SGD, dict(lr=-1), "Invalid learning rate: -1"),
        (optim.SGD, dict(lr=0.1, momentum=-0.5), "Invalid momentum value: -0.5"),
        (optim.SGD, dict(lr=0.1, weight_decay=-0.1), "Invalid weight_decay value: -0.1"),
        (optim.Adam, dict(lr=-0.001), "Invalid learning rate: -0.001"),
        (optim.Adam, dict(eps=-1e-8), "Invalid epsilon value: -1e-08"),
        (optim.Adam, dict(betas=(1.0, 0.999)), "Invalid beta parameter at index 0: 1.0"),
        (optim.Adam, dict(betas=(0.9, -0.1)), "Invalid beta parameter at index 1: -0.1"),
        (optim.Adam, dict(weight_decay=-1), "Invalid weight_decay value: -1"),
        (optim.AdamW, dict(betas=(0.9, 1.5)), "Invalid beta parameter at index 1: 1.5"),
        (optim.AdamW, dict(lr=-2), "Invalid learning rate: -2"),
        (optim.RMSprop, dict(lr=-0.01), "Invalid learning rate: -0.01"),
        (optim.RMSprop, dict(alpha=-0.99), "Invalid alpha value: -0.99"),
        (optim.RMSprop, dict(eps=-1), "Invalid epsilon value: -1"),
        (optim.RMSprop, dict(momentum=-0.9), "Invalid momentum value: -0.9"),
        (optim.RMSprop, dict(weight_decay=-0.5), "Invalid weight_decay value: -0.5"),
        (optim.Adagrad, dict(lr=-0.1), "Invalid learning rate: -0.1"),
        (optim.Adagrad, dict(lr_decay=-1), "Invalid lr_decay value: -1"),
        (
            optim.Adagrad,
            dict(initial_accumulator_value=-1),
            "Invalid initial_accumulator_value value: -1",
        ),
        (optim.Adagrad, dict(eps=-1), "Invalid epsilon value: -1"),
        (optim.Adagrad, dict(weight_decay=-3), "Invalid weight_decay value: -3"),
        (optim.Adadelta, dict(lr=-1.0), "Invalid learning rate: -1.0"),
        (optim.Adadelta, dict(rho=1.5), "Invalid rho value: 1.5"),
        (optim.Adadelta, dict(rho=-0.1, eps=-1), "Invalid rho value: -0.1"),
        (optim.Adadelta, dict(eps=-1e-6), "Invalid epsilon value: -1e-06"),
        (optim.Adadelta, dict(weight_decay=-0.1), "Invalid weight_decay value: -0.1"),
        (optim.Adamax, dict(lr=-0.002), "Invalid learning rate: -0.002"),
        (optim.Adamax, dict(eps=-1, betas=(2, 2)), "Invalid epsilon value: -1"),
        (optim.Adamax, dict(betas=(0.9, 1.0)), "Invalid beta parameter at index 1: 1.0"),
        (optim.Adamax, dict(weight_decay=-1), "Invalid weight_decay value: -1"),
        (optim.NAdam, dict(lr=-1), "Invalid learning rate: -1"),
        (optim.NAdam, dict(betas=(-0.1, 0.9)), "Invalid beta parameter at index 0: -0.1"),
        (optim.NAdam, dict(weight_decay=-1, momentum_decay=-1), "Invalid weight_decay value: -1"),
        (optim.NAdam, dict(momentum_decay=-0.004), "Invalid momentum_decay value: -0.004"),
        (optim.RAdam, dict(lr=-1e-3), "Invalid learning rate: -0.001"),
        (optim.RAdam, dict(eps=-1e-8), "Invalid epsilon value: -1e-08"),
        (optim.RAdam, dict(betas=(0.9, 1.2)), "Invalid beta parameter at index 1: 1.2"),
        (optim.RAdam, dict(weight_decay=-0.5), "Invalid weight_decay value: -0.5"),
        (optim.Rprop, dict(lr=-0.01, etas=(2, 1)), "Invalid learning rate: -0.01"),
        (optim.Rprop, dict(etas=(1.0, 1.2)), "Invalid eta values: 1.0, 1.2"),
        (optim.Rprop, dict(etas=(0.5, 0.9)), "Invalid eta values: 0.5, 0.9"),
        (optim.Rprop, dict(etas=(0, 1.2)), "Invalid eta values: 0, 1.2"),
        (optim.ASGD, dict(lr=-0.01), "Invalid learning rate: -0.01"),
        (optim.ASGD, dict(weight_decay=-1e-4), "Invalid weight_decay value: -0.0001"),
    ],
)
def test_optim_invalid_hyperparameters(cls, kw, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(")):
        cls([_p()], **kw)
    # PyTorch rejects the same values with the same message
    with pytest.raises(ValueError, match=message.replace("(", r"\(")):
        getattr(torch.optim, cls.__name__)([torch.zeros(2, requires_grad=True)], **kw)


def test_optim_nesterov_needs_momentum_and_no_dampening():
    with pytest.raises(ValueError, match="Nesterov momentum requires a momentum"):
        optim.SGD([_p()], lr=0.1, nesterov=True)
    with pytest.raises(ValueError, match="dampening=0.5"):
        optim.SGD([_p()], lr=0.1, momentum=0.9, dampening=0.5, nesterov=True)


def test_optim_load_state_dict_with_wrong_groups_errors():
    a, b, c = _p(), _p(), _p()
    sd = optim.SGD([a, b], lr=0.1, momentum=0.9).state_dict()
    with pytest.raises(ValueError, match="different number of parameter groups: 1 saved"):
        optim.SGD([{"params": [a]}, {"params": [b]}], lr=0.1).load_state_dict(sd)
    with pytest.raises(ValueError, match="group 0 has 2 saved parameters, the optimizer's has 3"):
        optim.SGD([a, b, c], lr=0.1).load_state_dict(sd)


def test_optim_param_list_errors():
    with pytest.raises(ValueError, match="empty parameter list"):
        optim.SGD([], lr=0.1)
    with pytest.raises(TypeError, match="iterable of Tensors or dicts"):
        optim.SGD(_p(), lr=0.1)
    with pytest.raises(TypeError, match="can only optimize Tensors"):
        optim.SGD([1.0], lr=0.1)
    with pytest.raises(ValueError, match="non-leaf"):
        optim.SGD([_p() * 2], lr=0.1)
    p = _p()
    with pytest.raises(ValueError, match="more than one parameter group"):
        optim.SGD([{"params": [p]}, {"params": [p]}], lr=0.1)
    with pytest.raises(ValueError, match="duplicate parameters"):
        optim.SGD([p, p], lr=0.1)
    with pytest.raises(TypeError, match="ordered collections"):
        optim.SGD([{"params": {p}}], lr=0.1)
    with pytest.raises(ValueError, match="didn't specify a value of required"):
        optim.lecture.Momentum([{"params": [p]}], lr=optim.required, beta=0.9)


def test_state_dict_without_newer_options_gets_their_defaults():
    """An older state dict (no maximize/nesterov/foreach keys) loads, and the missing
    options take the optimizer's defaults, as in PyTorch."""
    import numpy as np

    import gradfit
    from gradfit.optim import SGD, Adam

    for cls, kwargs, dropped in (
        (SGD, {"lr": 0.1, "momentum": 0.9}, ("nesterov", "maximize", "foreach")),
        (Adam, {"lr": 0.01}, ("amsgrad", "maximize", "decoupled_weight_decay")),
    ):
        p = gradfit.tensor(np.ones(3), requires_grad=True)
        opt = cls([p], **kwargs)
        sd = opt.state_dict()
        for key in dropped:
            del sd["param_groups"][0][key]
        fresh = cls([p], **kwargs)
        fresh.load_state_dict(sd)
        for key in dropped:
            assert fresh.param_groups[0][key] == opt.defaults[key]
        p.grad = gradfit.ones(3, dtype=gradfit.float64)
        fresh.step()  # and it steps
