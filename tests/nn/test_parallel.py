"""nn.DataParallel / nn.parallel.data_parallel against PyTorch's CPU build (no
accelerator): the wrapped module runs as is; repr, state_dict keys and outputs agree."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import gradfit


def _pair():
    torch.manual_seed(0)
    tm = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.ReLU(), torch.nn.Linear(4, 2))
    gm = gradfit.nn.Sequential(gradfit.nn.Linear(3, 4), gradfit.nn.ReLU(), gradfit.nn.Linear(4, 2))
    gm.load_state_dict({k: gradfit.tensor(v.numpy()) for k, v in tm.state_dict().items()})
    return tm, gm


def test_data_parallel_wraps_the_module_as_pytorch_cpu():
    tm, gm = _pair()
    tp = torch.nn.DataParallel(tm, device_ids=[0])
    gp = gradfit.nn.DataParallel(gm, device_ids=[0])
    assert gradfit.nn.parallel.DataParallel is gradfit.nn.DataParallel
    assert repr(gp) == repr(tp)
    assert gp.device_ids == tp.device_ids == []
    assert list(gp.state_dict()) == list(tp.state_dict())
    x = np.random.default_rng(0).standard_normal((5, 3)).astype(np.float32)
    tout, gout = tp(torch.tensor(x)), gp(gradfit.tensor(x))
    np.testing.assert_allclose(gout.detach().numpy(), tout.detach().numpy(), rtol=1e-6, atol=1e-7)
    tout.sum().backward()
    gout.sum().backward()
    np.testing.assert_allclose(
        gm[0].weight.grad.numpy(), tm[0].weight.grad.numpy(), rtol=1e-6, atol=1e-7
    )
    # the functional form needs an accelerator in PyTorch: the same error without one
    with pytest.raises(RuntimeError) as t_err:
        torch.nn.parallel.data_parallel(tm, torch.tensor(x))
    with pytest.raises(RuntimeError) as g_err:
        gradfit.nn.parallel.data_parallel(gm, gradfit.tensor(x))
    assert str(g_err.value) == str(t_err.value)
