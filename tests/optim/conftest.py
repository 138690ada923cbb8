import importlib.util

import pytest

import gradfit


@pytest.fixture
def float64():
    """Run the test with float64 as the default dtype in gradfit, and in torch when it is
    installed (the parity tests import torch themselves and fail without it; the other
    optimizer tests run without it)."""
    torch = None
    if importlib.util.find_spec("torch") is not None:
        import torch
    old_g = gradfit.get_default_dtype()
    old_t = torch.get_default_dtype() if torch else None
    gradfit.set_default_dtype(gradfit.float64)
    if torch:
        torch.set_default_dtype(torch.float64)
    try:
        yield
    finally:
        gradfit.set_default_dtype(old_g)
        if torch:
            torch.set_default_dtype(old_t)
