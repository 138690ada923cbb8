"""The optimizers and schedules take PyTorch's arguments: same names, order, kinds
(positional or keyword-only) and defaults as torch's, and a call PyTorch refuses for its
arguments (an unknown keyword, a keyword-only one passed by position) is refused with a
TypeError, as Python refuses it."""

from __future__ import annotations

import inspect

import pytest
import torch
import torch.optim.lr_scheduler as torch_schedulers

import gradfit
from gradfit import optim
from gradfit.optim import lr_scheduler


def _shared(gradfit_module, torch_module) -> list[str]:
    return [
        name
        for name in gradfit_module.__all__
        if isinstance(getattr(gradfit_module, name), type)
        and isinstance(getattr(torch_module, name, None), type)
    ]


OPTIMIZERS = _shared(optim, torch.optim)
SCHEDULERS = _shared(lr_scheduler, torch_schedulers)


def _parameters(cls) -> list[tuple]:
    return [(p.name, p.kind, p.default) for p in inspect.signature(cls).parameters.values()]


def test_the_lists_are_not_empty():
    # a rename on either side must not silently leave nothing to compare
    assert {"SGD", "Adam", "AdamW", "Optimizer", "LBFGS"} <= set(OPTIMIZERS)
    assert {"LRScheduler", "StepLR", "OneCycleLR", "ReduceLROnPlateau"} <= set(SCHEDULERS)


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_optimizer_signature_is_torchs(name):
    assert _parameters(getattr(optim, name)) == _parameters(getattr(torch.optim, name))


@pytest.mark.parametrize("name", SCHEDULERS)
def test_scheduler_signature_is_torchs(name):
    ours, theirs = getattr(lr_scheduler, name), getattr(torch_schedulers, name)
    assert _parameters(ours) == _parameters(theirs)


# the optimizers whose constructors gradfit builds from PyTorch's signature
BUILT = [n for n in OPTIMIZERS if n not in ("Optimizer", "LBFGS", "SparseAdam")]


@pytest.mark.parametrize("name", BUILT)
def test_optimizer_takes_every_argument_as_torch_does(name):
    """Every argument passed the way the signature allows (by keyword, or by position
    where it is positional) lands in the groups as in PyTorch's, in PyTorch's order; an
    unknown keyword, one argument too many, or a keyword-only one by position raises
    TypeError in both."""
    ours, theirs = getattr(optim, name), getattr(torch.optim, name)
    parameters = list(inspect.signature(theirs).parameters.values())[1:]
    positional = [p for p in parameters if p.kind is p.POSITIONAL_OR_KEYWORD]
    keyword_only = [p for p in parameters if p.kind is p.KEYWORD_ONLY]
    args = [0.1 if p.name == "lr" else p.default for p in positional]
    kwargs = {p.name: p.default for p in keyword_only}
    if "maximize" in kwargs:
        kwargs["maximize"] = True  # a value other than the default, by keyword
    elif any(p.name == "maximize" for p in positional):
        args[[p.name for p in positional].index("maximize")] = True  # by position
    made = ours([gradfit.zeros(2, requires_grad=True)], *args, **kwargs)
    reference = theirs([torch.zeros(2, requires_grad=True)], *args, **kwargs)
    group = {k: v for k, v in made.param_groups[0].items() if k != "params"}
    expected = {k: v for k, v in reference.param_groups[0].items() if k != "params"}
    assert list(group.items()) == list(expected.items())
    assert list(made.defaults) == list(reference.defaults)

    bad_calls = [((), {"no_such_option": 1}), ((*args, True), kwargs)]
    if keyword_only:
        bad_calls.append(((*args, keyword_only[0].default), {}))
    for bad_args, bad_kwargs in bad_calls:
        for cls, p in ((theirs, torch.zeros(2)), (ours, gradfit.zeros(2))):
            with pytest.raises(TypeError):
                cls([p.requires_grad_()], *bad_args, **bad_kwargs)
