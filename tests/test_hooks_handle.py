"""One ``RemovableHandle`` (``gradfit.utils.hooks``, as ``torch.utils.hooks``) for the hooks
of tensors, graph nodes and modules: ``remove()`` and the context-manager form."""

from __future__ import annotations

import gradfit
from gradfit.utils.hooks import RemovableHandle


def test_every_register_hook_returns_the_one_handle_class():
    x = gradfit.ones(2, requires_grad=True)
    y = x * 2
    handles = [
        x.register_hook(lambda g: g),
        y.register_hook(lambda g: g),
        x.register_post_accumulate_grad_hook(lambda p: None),
        gradfit.nn.Linear(2, 2).register_forward_hook(lambda *a: None),
        gradfit.nn.Linear(2, 2).register_full_backward_hook(lambda *a: None),
    ]
    assert all(type(h) is RemovableHandle for h in handles)
    assert repr(handles[0]).startswith("<gradfit.utils.hooks.RemovableHandle object at ")


def test_remove_and_context_manager_unregister():
    x = gradfit.ones(2, requires_grad=True)
    y = x * 2
    on_y = y.register_hook(lambda g: g * 10)
    with x.register_hook(lambda g: g * 3):
        y.sum().backward(retain_graph=True)
    assert x.grad.tolist() == [60.0, 60.0]
    on_y.remove()
    on_y.remove()  # a second remove is harmless, as in PyTorch
    x.grad = None
    y.sum().backward()
    assert x.grad.tolist() == [2.0, 2.0]
    seen = []
    m = gradfit.nn.Linear(2, 2)
    with m.register_forward_hook(lambda mod, i, o: seen.append(1)):
        m(gradfit.ones(1, 2))
    m(gradfit.ones(1, 2))
    assert seen == [1]
