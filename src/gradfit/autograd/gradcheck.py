"""``gradcheck``: compare autodiff with central finite differences, in float64.

This is how the lecture checks hand-derived gradients: perturb one parameter by +-eps,
see how the loss moves, and compare with what backprop says.
"""

from __future__ import annotations

import warnings

import numpy as np

from gradfit._grad_mode import enable_grad
from gradfit.autograd.engine import grad as autograd_grad

# Bound by gradfit.autograd.bind_tensor_class (see function.TensorProtocol).
Tensor = None


class GradcheckError(RuntimeError):
    """Raised by ``gradcheck`` (with ``raise_exception=True``) when gradients disagree."""


def _as_tuple(x):
    return x if isinstance(x, tuple | list) else (x,)


def numerical_jacobian(fn, inputs, eps: float = 1e-6) -> list:
    """Central-difference Jacobians d(out)/d(input) for each input that requires grad.

    Returns, per input, an array of shape (input.numel(), output.numel())."""
    inputs = _as_tuple(inputs)
    out0 = _as_tuple(fn(*inputs))
    n_out = sum(o.numel() for o in out0)
    jacs = []
    for x in inputs:
        if not (isinstance(x, Tensor) and x.requires_grad):
            jacs.append(None)
            continue
        flat = x._array.reshape(-1)  # a view when contiguous; otherwise perturb a copy
        if not np.shares_memory(flat, x._array):
            x._array = x._array.copy()
            flat = x._array.reshape(-1)
        jac = np.zeros((flat.size, n_out))
        for i in range(flat.size):
            orig = flat[i]
            flat[i] = orig + eps
            plus = np.concatenate([o._array.reshape(-1) for o in _as_tuple(fn(*inputs))])
            flat[i] = orig - eps
            minus = np.concatenate([o._array.reshape(-1) for o in _as_tuple(fn(*inputs))])
            flat[i] = orig
            jac[i] = (plus - minus) / (2 * eps)
        jacs.append(jac)
    return jacs


def analytical_jacobian(fn, inputs) -> list:
    """Jacobians from reverse mode: one backward per output element."""
    inputs = _as_tuple(inputs)
    with enable_grad():
        outs = _as_tuple(fn(*inputs))
    n_out = sum(o.numel() for o in outs)
    want = [x for x in inputs if isinstance(x, Tensor) and x.requires_grad]
    jacs = {id(x): np.zeros((x.numel(), n_out)) for x in want}
    col = 0
    for o in outs:
        for j in range(o.numel()):
            seed = np.zeros(o.shape, dtype=o.dtype)
            seed.reshape(-1)[j] = 1.0
            if o.requires_grad:
                gs = autograd_grad(
                    [o],
                    want,
                    grad_outputs=[Tensor._make(seed, None)],
                    retain_graph=True,
                    allow_unused=True,
                )
                for x, g in zip(want, gs):
                    if g is not None:
                        jacs[id(x)][:, col] = g._array.reshape(-1)
            col += 1
    return [jacs.get(id(x)) if isinstance(x, Tensor) and x.requires_grad else None for x in inputs]


def gradcheck(
    fn,
    inputs,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    raise_exception: bool = True,
    *,
    check_forward_ad: bool = False,
    check_backward_ad: bool = True,
    check_undefined_grad: bool = True,
    check_batched_grad: bool = False,
) -> bool:
    """Check ``fn``'s autodiff gradients against central differences.

    Args:
        fn: a function of Tensors returning a Tensor (or a tuple of Tensors).
        inputs: a Tensor or tuple of Tensors; those with ``requires_grad`` are checked.
            They should be float64: float32 rounding swamps a difference quotient.
        eps: the perturbation; the derivative is (f(x + eps) - f(x - eps)) / (2 eps).
        atol, rtol: pass when |analytical - numerical| <= atol + rtol * |numerical|.
        raise_exception: raise ``GradcheckError`` naming the worst entry instead of
            returning False.
        check_forward_ad: also check the Jacobian forward mode gives
            (``gradfit.autograd.forward_ad``, one basis tangent per input element).
        check_backward_ad: check the reverse-mode Jacobian (the default).
        check_undefined_grad, check_batched_grad: accepted for PyTorch's signature; gradfit
            has no undefined (None-as-zero) output gradients and no batched backward, so
            there is nothing more to check.

    Returns:
        True when every entry agrees.
    """
    inputs = _as_tuple(inputs)
    for i, x in enumerate(inputs):
        if isinstance(x, Tensor) and x.requires_grad and x.dtype != np.float64:
            warnings.warn(
                f"gradcheck: input {i} is {x.dtype}, not float64; finite "
                "differences will be inaccurate",
                stacklevel=2,
            )
    if not any(isinstance(x, Tensor) and x.requires_grad for x in inputs):
        raise ValueError("gradcheck: no input has requires_grad=True")
    numerical = numerical_jacobian(fn, inputs, eps)
    checks = []
    if check_backward_ad:
        checks.append(("", analytical_jacobian(fn, inputs)))
    if check_forward_ad:
        checks.append(("forward AD ", forward_jacobian(fn, inputs)))
    for mode, analytical in checks:
        for i, (num, ana) in enumerate(zip(numerical, analytical)):
            if num is None:
                continue
            bad = np.abs(ana - num) > atol + rtol * np.abs(num)
            if bad.any():
                if not raise_exception:
                    return False
                r, c = np.argwhere(bad)[0]
                raise GradcheckError(
                    f"gradcheck: {mode}Jacobian mismatch for input {i} at (input element {r}, "
                    f"output element {c}): analytical {ana[r, c]!r}, numerical {num[r, c]!r} "
                    f"(atol={atol}, rtol={rtol}); {int(bad.sum())} of {bad.size} entries differ"
                )
    return True


def forward_jacobian(fn, inputs) -> list:
    """Jacobians from forward mode: one dual evaluation per input element, the tangent a
    basis vector (rows as in ``numerical_jacobian``: input element, output element)."""
    from gradfit.autograd import forward_ad

    inputs = _as_tuple(inputs)
    jacs = []
    for i, x in enumerate(inputs):
        if not (isinstance(x, Tensor) and x.requires_grad):
            jacs.append(None)
            continue
        rows = []
        for k in range(x.numel()):
            basis = np.zeros(x.shape, dtype=x._array.dtype)
            basis.reshape(-1)[k] = 1
            with forward_ad.dual_level():
                args = list(inputs)
                args[i] = forward_ad.make_dual(x, Tensor._make(basis, None))
                outs = _as_tuple(fn(*args))
                cols = []
                for o in outs:
                    tangent = forward_ad.unpack_dual(o).tangent
                    arr = o._array if tangent is None else tangent._array
                    cols.append((np.zeros_like if tangent is None else np.asarray)(arr))
            rows.append(np.concatenate([c.reshape(-1) for c in cols]))
        n_out = sum(o.numel() for o in _as_tuple(fn(*inputs)))
        jacs.append(np.array(rows).reshape(x.numel(), n_out))
    return jacs


def gradgradcheck(
    fn,
    inputs,
    grad_outputs=None,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    gen_non_contig_grad_outputs: bool = False,
    raise_exception: bool = True,
) -> bool:
    """Check second derivatives: ``gradcheck`` of the gradient function, as PyTorch's.

    The function checked maps (inputs, grad_outputs) to the gradients of ``fn``'s outputs
    w.r.t. the inputs, computed with ``create_graph=True``; its own Jacobian comes from a
    backward through that recorded backward pass, and is compared with central
    differences of it. ``grad_outputs`` default to random float64 tensors (seeded, so a
    failure repeats), which are checked too, as the backward is linear in them.
    """
    inputs = _as_tuple(inputs)
    with enable_grad():
        outputs = _as_tuple(fn(*inputs))
    if grad_outputs is None:
        rng = np.random.default_rng(0)
        grad_outputs = []
        for o in outputs:
            arr = rng.standard_normal(tuple(o.shape)).astype(o._array.dtype)
            if gen_non_contig_grad_outputs and arr.ndim:
                arr = np.asfortranarray(arr)
            grad_outputs.append(Tensor._make(arr, None).requires_grad_(True))
    grad_outputs = tuple(_as_tuple(grad_outputs))
    n_out = len(grad_outputs)

    def gradients(*args):
        xs, gos = args[:-n_out], args[-n_out:]
        outs = _as_tuple(fn(*xs))
        diff = [x for x in xs if isinstance(x, Tensor) and x.requires_grad]
        pairs = [(o, g) for o, g in zip(outs, gos) if o.requires_grad]
        gs = autograd_grad(
            [o for o, _ in pairs],
            diff,
            grad_outputs=[g for _, g in pairs],
            create_graph=True,
            allow_unused=True,
        )
        return tuple(g for g in gs if g is not None)

    return gradcheck(
        gradients,
        inputs + grad_outputs,
        eps=eps,
        atol=atol,
        rtol=rtol,
        raise_exception=raise_exception,
    )
