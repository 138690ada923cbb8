import pytest
import torch

import gradfit


@pytest.fixture
def float64():
    """Run the test with float64 as the default dtype in both gradfit and torch."""
    old_t, old_g = torch.get_default_dtype(), gradfit.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    gradfit.set_default_dtype(gradfit.float64)
    try:
        yield
    finally:
        torch.set_default_dtype(old_t)
        gradfit.set_default_dtype(old_g)
