"""What the API-gap parity tests (tests/test_api_gaps_*.py) share: the reference import
and an autouse fixture that puts both libraries in their default state first."""

from __future__ import annotations

import pytest

import gradfit


def _torch():
    import torch  # the reference must be installed: fail, not skip

    return torch


@pytest.fixture(autouse=True)
def _default_state():
    """Both libraries in their default state (float32, grad mode on, nondeterministic
    algorithms allowed), whatever tests that ran before left behind."""
    torch = _torch()
    old = (torch.get_default_dtype(), gradfit.get_default_dtype())
    old_det = torch.are_deterministic_algorithms_enabled()
    torch.set_default_dtype(torch.float32)
    gradfit.set_default_dtype(gradfit.float32)
    torch.use_deterministic_algorithms(False)
    with torch.enable_grad(), gradfit.enable_grad():
        yield
    torch.set_default_dtype(old[0])
    gradfit.set_default_dtype(old[1])
    torch.use_deterministic_algorithms(old_det)
