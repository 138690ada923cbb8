"""The top-level additions against PyTorch: values, dtypes, errors and printing of the
aliases, dtype rules, shape helpers, in-place forms, Tensor methods and runtime switches.

Gradients (first and second order) of the differentiable ones are checked by the op
registry (tests/engine/registry_toplevel.py); here the rest of their behaviour.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import gradfit


@pytest.fixture(scope="module")
def torch():
    import torch

    return torch


def _name(dtype) -> str:
    return str(dtype).rpartition(".")[2]


def _same(ours, ref):
    """Equal structure, dtypes and values (NaN equal to NaN)."""
    import torch

    if isinstance(ref, tuple | list):
        assert type(ours).__name__ == type(ref).__name__ or isinstance(ours, tuple | list)
        assert len(ours) == len(ref)
        for a, b in zip(ours, ref):
            _same(a, b)
    elif isinstance(ref, torch.Tensor):
        assert isinstance(ours, gradfit.Tensor), type(ours)
        assert _name(ours.dtype) == _name(ref.dtype)
        assert tuple(ours.shape) == tuple(ref.shape)
        a, b = ours.detach().numpy(), ref.detach().numpy()
        if a.dtype.kind in "fc":  # last-bit differences of libm (expm1 in float32)
            tol = 1e-6 if a.dtype.itemsize <= 4 else 1e-14
            np.testing.assert_allclose(a, b, rtol=tol, atol=tol * 1e-3)
        else:
            np.testing.assert_array_equal(a, b)
    elif isinstance(ref, torch.dtype):
        assert _name(ours) == _name(ref)
    else:
        assert ours == ref


def _both(torch, fn, *arrays):
    """fn(lib, *tensors) under both libraries, on tensors made from ``arrays``."""
    return (
        fn(gradfit, *[gradfit.tensor(a) for a in arrays]),
        fn(torch, *[torch.tensor(a) for a in arrays]),
    )


def _error(fn, lib):
    with pytest.raises(Exception) as info:
        fn(lib)
    return type(info.value), str(info.value)


def _same_error(torch, fn):
    """The same exception type and message (dtypes print as ``gradfit.float32``)."""
    (t1, m1), ref = _error(fn, gradfit), _error(fn, torch)
    assert (t1, m1.replace("gradfit.", "torch.")) == ref


F = np.array([[-1.5, 0.0, 2.25], [3.0, -0.0, np.nan]])
I = np.array([[4, -6, 9], [12, 0, -5]])  # noqa: E741
J = np.array([[6, 4, -3], [8, 7, 2]])

VALUE_CASES = {
    "divide_floor": (lambda lib, a, b: lib.divide(a, b + 10, rounding_mode="floor"), I, J),
    "div_trunc": (lambda lib, a, b: lib.div(a, b, rounding_mode="trunc"), F, F + 1),
    "div_floor_int": (lambda lib, a, b: lib.div(a, b + 10, rounding_mode="floor"), I, J),
    "true_divide": (lambda lib, a, b: lib.true_divide(a, b + 10), I, J),
    "multiply": (lambda lib, a, b: lib.multiply(a, b), I, J),
    "subtract": (lambda lib, a, b: lib.subtract(a, b, alpha=2), I, J),
    "negative": (lambda lib, a: lib.negative(a), I),
    "absolute": (lambda lib, a: lib.absolute(a), F),
    "greater": (lambda lib, a, b: lib.greater(a, b), I, J),
    "greater_equal": (lambda lib, a, b: lib.greater_equal(a, b), I, J),
    "less": (lambda lib, a, b: lib.less(a, b), I, J),
    "less_equal": (lambda lib, a, b: a.less_equal(b), I, J),
    "not_equal": (lambda lib, a, b: lib.not_equal(a, b), I, J),
    "fix": (lambda lib, a: lib.fix(a), F),
    "sgn": (lambda lib, a: (lib.sgn(a), a.clone().sgn_()), F),
    "sgn_int_bool": (lambda lib, a: (lib.sgn(a), lib.sgn(a > 0)), I),
    "rsub_int": (lambda lib, a, b: lib.rsub(a, b, alpha=3), I, J),
    "expm1_int": (lambda lib, a: lib.expm1(a), I),
    "reciprocal_int": (lambda lib, a: lib.reciprocal(a), J),
    "frac": (lambda lib, a: lib.frac(a), F),
    "addcmul_int": (lambda lib, a, b: lib.addcmul(a, a, b, value=2), I, J),
    "threshold_int": (lambda lib, a: lib.threshold(a, 2, -7), I),
    "threshold_nan": (lambda lib, a: lib.threshold(a, 0.5, 9.0), F),
    "heaviside": (lambda lib, a, b: lib.heaviside(a, b), F, np.full(3, 0.5)),
    "gcd": (lambda lib, a, b: lib.gcd(a, b), I, J),
    "lcm": (lambda lib, a, b: a.lcm(b), I, J),
    "ldexp_int": (lambda lib, a, b: lib.ldexp(a, b), I, np.abs(J)),
    "frexp": (lambda lib, a: lib.frexp(a), np.array([8.0, 0.3, -5.5, 0.0, 1e-3])),
    "aminmax": (lambda lib, a: lib.aminmax(a), I),
    "aminmax_keepdim": (lambda lib, a: a.aminmax(dim=1, keepdim=True), I),
    "aminmax_all_keepdim": (lambda lib, a: lib.aminmax(a, keepdim=True), I),
    "atleast_1d": (lambda lib, a, b: lib.atleast_1d(a[0, 0], b), I, J),
    "atleast_2d": (lambda lib, a: lib.atleast_2d(a[0]), I),
    "atleast_3d": (lambda lib, a: lib.atleast_3d([a[0, 0], a[0], a]), I),
    "block_diag_mixed": (lambda lib, a, b: lib.block_diag(a[0], b.double(), a[1, 1]), I, J),
    "matrix_power_int": (lambda lib, a: lib.matrix_power(a[:, :2], 0), I),
    "matrix_power_int5": (lambda lib, a: lib.cat([a, a[:1]]).matrix_power(5), I),
    "unravel_index": (lambda lib, a: lib.unravel_index(a, (3, 4)), np.array([-1, 0, 5, 13])),
    "unravel_0d": (lambda lib, a: lib.unravel_index(a[0], 7), np.array([15])),
    "sum_to_size_int": (lambda lib, a: a.sum_to_size(1, 3), I),
    "index_copy_int": (lambda lib, a, b: a.index_copy(1, lib.tensor([2, 0]), b[:, :2]), I, J),
    "put_accumulate": (lambda lib, a, b: a.put(lib.tensor([0, 0, -1]), b[0], True), I, J),
    "put_": (lambda lib, a, b: a.put_(lib.tensor([1, 4]), b[1, :2]), I, J),
    "fill_diagonal_cube": (lambda lib, a: a.reshape(2, 2, 2).fill_diagonal_(7), np.arange(8)),
    "byte_char_short": (lambda lib, a: (a.byte(), a.char(), a.short()), I),
    "positive_int": (lambda lib, a: lib.positive(a), I),
    "scalar_tensor": (
        lambda lib, a: (lib.scalar_tensor(3), lib.scalar_tensor(2, dtype=lib.int32)),
        I,
    ),
    "lerp_exact_end": (lambda lib, a, b: lib.lerp(a, b, 1.0), F, F[::-1].copy()),
    "cumprod_": (lambda lib, a: a.cumprod_(1), I),
    "divide_": (lambda lib, a: a.divide_(3.0), F),
    "renorm_inf": (lambda lib, a: a.renorm(float("inf"), 1, 2.0), np.abs(F[:, :2]) + 1),
    # clamp's result has the promoted dtype of the tensor and its bounds
    "clamp_int_by_float": (lambda lib, a: (a.clamp(1.5), a.clamp(1, 2.5)), I),
    "clamp_int_by_0d_float": (lambda lib, a: a.clamp(min=lib.tensor(1.5)), I),
    "clamp_uint8_by_negative": (lambda lib, a: a.byte().clamp(-1), np.abs(I)),
    "clamp_float_by_double": (lambda lib, a, b: a.clamp(b.double()), F, F[::-1].copy()),
    "clamp_bool_by_float": (lambda lib, a: (a > 2).clamp(0.5), I),
}


@pytest.mark.parametrize("name", sorted(VALUE_CASES))
def test_values_and_dtypes_match_torch(name, torch):
    fn, *arrays = VALUE_CASES[name]
    ours, ref = _both(torch, fn, *arrays)
    _same(ours, ref)


@pytest.mark.parametrize(
    "op", "eq ne lt le gt ge greater greater_equal less less_equal not_equal".split()
)
@pytest.mark.parametrize("other", [1.0, "tensor"])
def test_inplace_comparisons_keep_the_dtype(op, other, torch):
    def fn(lib, a, b):
        return getattr(a, op + "_")(b if other == "tensor" else other)

    ours, ref = _both(torch, fn, np.array([0.5, 1.0, 2.0]), np.array([1.0, 1.0, 1.0]))
    _same(ours, ref)


def test_inplace_comparison_in_a_graph_gives_zero_gradient(torch):
    grads = []
    for lib in (gradfit, torch):
        x = lib.tensor([0.5, 1.0, 2.0], requires_grad=True)
        y = x * 2
        y.gt_(1.5)
        (y * x).sum().backward()
        grads.append(x.grad.numpy())
    np.testing.assert_array_equal(*grads)


def test_expm1_keeps_small_values(torch):
    x = np.array([1e-12, -3e-9, 1e-5, 2.0])
    for dt in (np.float32, np.float64):
        np.testing.assert_allclose(
            gradfit.expm1(gradfit.tensor(x.astype(dt))).numpy(),
            torch.expm1(torch.tensor(x.astype(dt))).numpy(),
            rtol=2e-7 if dt == np.float32 else 1e-15,
        )


# PyTorch's float32 kernels fuse multiply-adds (lerp, addcmul) and its batched matrix
# products sum in another order: those agree to a rounding (1 ulp), the rest exactly.
@pytest.mark.parametrize("weight", [-0.7, 0.0, 0.25, 0.5, 0.7, 1.0, 1.5])
def test_lerp_matches_torch(weight, torch):
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((2, 50)).astype(np.float32)
    w = np.full(50, weight, np.float32)
    for tensor_weight in (False, True):
        ours = gradfit.lerp(
            gradfit.tensor(a), gradfit.tensor(b), gradfit.tensor(w) if tensor_weight else weight
        )
        ref = torch.lerp(
            torch.tensor(a), torch.tensor(b), torch.tensor(w) if tensor_weight else weight
        )
        if weight in (0.0, 1.0):  # the two-sided formula ends exactly at start and end
            np.testing.assert_array_equal(ours.numpy(), ref.numpy())
        np.testing.assert_allclose(ours.numpy(), ref.numpy(), rtol=3e-7, atol=3e-7)


def test_addcmul_addcdiv_match_torch(torch):
    rng = np.random.default_rng(1)
    a, b, c = rng.standard_normal((3, 200)).astype(np.float32)
    for fn in ("addcmul", "addcdiv"):
        for value in (1, 0.1, -3.7):
            ours = getattr(gradfit, fn)(
                gradfit.tensor(a), gradfit.tensor(b), gradfit.tensor(c), value=value
            )
            ref = getattr(torch, fn)(torch.tensor(a), torch.tensor(b), torch.tensor(c), value=value)
            np.testing.assert_allclose(ours.numpy(), ref.numpy(), rtol=1e-6, atol=1e-6)


def test_matrix_power_matches_torch(torch):
    a = np.random.default_rng(2).standard_normal((2, 4, 4)) * 0.5
    for n in (0, 1, 2, 3, 4, 5, 7, -1, -3):
        ours = gradfit.matrix_power(gradfit.tensor(a), n).numpy()
        ref = torch.matrix_power(torch.tensor(a), n).numpy()
        np.testing.assert_allclose(ours, ref, rtol=1e-12, atol=1e-12)
    t = gradfit.tensor(a, requires_grad=True)
    assert gradfit.matrix_power(t, 1) is not t and gradfit.matrix_power(t, 1).grad_fn is not None


def test_dtype_rules_match_torch(torch):
    names = [
        "bool",
        "uint8",
        "int8",
        "int16",
        "int32",
        "int64",
        "float16",
        "float32",
        "float64",
        "complex64",
        "complex128",
    ]
    for a in names:
        for b in names:
            ta, tb = getattr(torch, a), getattr(torch, b)
            ga, gb = (
                getattr(gradfit, a if a != "bool" else "bool_"),
                getattr(gradfit, b if b != "bool" else "bool_"),
            )
            assert _name(gradfit.promote_types(ga, gb)) == _name(torch.promote_types(ta, tb)), (
                a,
                b,
            )
            assert gradfit.can_cast(ga, gb) == torch.can_cast(ta, tb), (a, b)
    cases = [
        lambda lib: (lib.tensor([1], dtype=lib.int8), lib.tensor(1000)),
        lambda lib: (lib.tensor([1], dtype=lib.int8), 2.5),
        lambda lib: (lib.tensor([True]), 1),
        lambda lib: (lib.tensor([1], dtype=lib.int32), lib.tensor(1.0, dtype=lib.float64)),
        lambda lib: (lib.tensor([1.0], dtype=lib.float64), lib.tensor(1j, dtype=lib.complex64)),
        lambda lib: (lib.tensor([1.0]), 1j),
        lambda lib: (lib.tensor(2, dtype=lib.uint8), lib.tensor(1, dtype=lib.int8)),
        lambda lib: (2, 3.0),
        lambda lib: (lib.tensor([1], dtype=lib.int16), True),
        lambda lib: (lib.tensor([1.0], dtype=lib.float16), lib.tensor([1], dtype=lib.int64)),
    ]
    for case in cases:
        assert _name(gradfit.result_type(*case(gradfit))) == _name(torch.result_type(*case(torch)))


def test_broadcast_shapes_matches_torch(torch):
    for shapes in [((2, 3), (1, 3)), ((1,), (4, 1, 1), 3), (), ((0, 1), (3,)), ([5, 1], (2,))]:
        assert tuple(gradfit.broadcast_shapes(*shapes)) == tuple(torch.broadcast_shapes(*shapes))
    assert isinstance(gradfit.broadcast_shapes((2, 1)), gradfit.Size)
    for shapes in [
        ((2, 3), (4, 3)),
        ([2, 3], [4, 3]),
        ((1, 3), (2, 1), (4, 3)),
        ((2, 3), (1, 3), 5),
    ]:
        _same_error(torch, lambda lib, s=shapes: lib.broadcast_shapes(*s))


def test_errors_match_torch(torch):
    cases = [
        lambda lib: lib.div(lib.tensor([1.0]), 2, rounding_mode="bad"),
        lambda lib: lib.is_nonzero(lib.tensor([1, 2])),
        lambda lib: lib.is_nonzero(lib.tensor([])),
        lambda lib: lib.unravel_index(lib.tensor([1.0]), (2, 3)),
        lambda lib: lib.unravel_index(lib.tensor([1]), (2, -3)),
        lambda lib: lib.frexp(lib.tensor([8, 3])),
        lambda lib: lib.gcd(lib.tensor([4.0]), lib.tensor([6.0])),
        lambda lib: lib.heaviside(lib.tensor([-1.0]), 0.5),
        lambda lib: lib.heaviside(lib.tensor([-1.0]), lib.tensor([1])),
        lambda lib: lib.matrix_power(lib.tensor([1.0, 2.0]), 2),
        lambda lib: lib.block_diag(lib.zeros(2, 2, 2)),
        lambda lib: lib.positive(lib.tensor([True])),
        lambda lib: lib.addcdiv(lib.tensor([1]), lib.tensor([3]), lib.tensor([2])),
        lambda lib: lib.lerp(lib.tensor([1, 2]), lib.tensor([3, 4]), 0.5),
        lambda lib: lib.aminmax(lib.tensor([])),
        lambda lib: lib.tensor([[1.0, 2.0]]).sum_to_size(3),
        lambda lib: lib.zeros(3).fill_diagonal_(1),
        lambda lib: lib.zeros(2, 3, 2).fill_diagonal_(1),
        lambda lib: lib.tensor([1.0, 2.0]).renorm(2, 0, 1.0),
        lambda lib: lib.zeros(3).retain_grad(),
        lambda lib: lib.zeros(3).H,
        lambda lib: lib.set_num_threads(0),
        lambda lib: lib.set_num_threads(1.5),
        lambda lib: lib.set_num_interop_threads(-1),
        lambda lib: lib.use_deterministic_algorithms(1),
        lambda lib: lib.use_deterministic_algorithms(True, warn_only=1),
        lambda lib: lib.set_float32_matmul_precision(3),
        lambda lib: lib.set_deterministic_debug_mode("bad"),
        lambda lib: lib.set_deterministic_debug_mode(5),
        lambda lib: lib.compile(lib.nn.Linear(1, 1), mode="bad"),
        lambda lib: lib.compile(3),
    ]
    try:
        for case in cases:
            _same_error(torch, case)
    finally:
        for lib in (torch, gradfit):
            lib.use_deterministic_algorithms(False)


def test_predicates_and_storage_facts_match_torch(torch):
    for data, dt in [
        ([1, 0], "int64"),
        ([1, 0], "uint8"),
        ([1.5], "float32"),
        ([True], "bool"),
        ([1j], "complex64"),
    ]:
        ours = gradfit.tensor(data, dtype=getattr(gradfit, dt if dt != "bool" else "bool_"))
        ref = torch.tensor(data, dtype=getattr(torch, dt))
        for fn in ("is_complex", "is_signed", "is_floating_point"):
            assert getattr(gradfit, fn)(ours) == getattr(torch, fn)(ref), (fn, dt)
        assert (ours.nbytes, ours.itemsize, ours.is_cpu) == (ref.nbytes, ref.itemsize, ref.is_cpu)
    for v in (0.0, 2.0, -0.0):
        assert gradfit.is_nonzero(gradfit.tensor([v])) == torch.is_nonzero(torch.tensor([v]))
    assert gradfit.is_same_size(gradfit.zeros(2), gradfit.zeros(2, 1)) is False
    assert gradfit.zeros(2, 3).is_same_size(gradfit.ones(2, 3))
    x, r = gradfit.arange(24).reshape(4, 6), torch.arange(24).reshape(4, 6)
    for view in (
        lambda t: t,
        lambda t: t[1:],
        lambda t: t[2:, 3:],
        lambda t: t.t()[1],
        lambda t: t[1:][1:],
    ):
        assert view(x).storage_offset() == view(r).storage_offset()
    assert x[1:].data_ptr() - x.data_ptr() == r[1:].data_ptr() - r.data_ptr()
    assert gradfit.typename(x.float()) == torch.typename(r.float()) == "torch.FloatTensor"
    assert gradfit.typename(3) == torch.typename(3) and gradfit.typename(len) == torch.typename(len)


def test_typed_legacy_new_matches_torch(torch):
    for args in [(2, 3), ([1, 2],), ()]:
        ours = gradfit.tensor([1, 2], dtype=gradfit.int32).new(*args)
        ref = torch.tensor([1, 2], dtype=torch.int32).new(*args)
        assert tuple(ours.shape) == tuple(ref.shape) and _name(ours.dtype) == _name(ref.dtype)
    assert gradfit.tensor([1.0]).new([3, 4]).tolist() == [3.0, 4.0]


def test_inplace_function_forms(torch):
    for name in (
        "exp_",
        "sqrt_",
        "clamp_",
        "fill_",
        "zero_",
        "neg_",
        "sigmoid_",
        "round_",
        "trunc_",
        "nan_to_num_",
    ):
        args = {"clamp_": (0.5, 1.5), "fill_": (2.0,)}.get(name, ())
        a, b = gradfit.tensor([0.25, 1.0, 4.0]), torch.tensor([0.25, 1.0, 4.0])
        out_a = getattr(gradfit, name)(a, *args)
        out_b = getattr(torch, name)(b, *args)
        assert out_a is a
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-6)
        assert out_b is b


def test_retains_grad_and_post_accumulate_hooks_match_torch(torch):
    seen = {}
    for lib in (gradfit, torch):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        y = x * 3
        facts = [x.retains_grad, y.retains_grad]
        y.retain_grad()
        y.retain_grad()  # once is enough: no second accumulation
        x.retain_grad()  # a leaf: nothing to do
        facts += [x.retains_grad, y.retains_grad]
        calls = []
        handle = x.register_post_accumulate_grad_hook(
            lambda t, calls=calls: calls.append(t.grad.tolist())
        )
        (y * y).sum().backward()
        facts += [y.grad.tolist(), calls[:]]
        handle.remove()
        x2 = x * 1
        (x2 * 2).sum().backward()
        facts += [calls, x.grad.tolist()]
        with pytest.raises(RuntimeError) as err:
            y.register_post_accumulate_grad_hook(lambda t: None)
        facts.append(str(err.value))
        seen[lib.__name__] = facts
    assert seen["gradfit"] == seen["torch"]


def test_mH_H_adjoint_match_torch(torch):
    a = np.arange(6.0).reshape(2, 3)
    c = a + 1j * a[::-1]
    for arr in (a, c):
        ours, ref = gradfit.tensor(arr), torch.tensor(arr)
        for get in (
            lambda t: t.mH,
            lambda t: t.H,
            lambda t: t.adjoint(),
            lambda t: t.swapdims(0, 1),
        ):
            np.testing.assert_array_equal(get(ours).numpy(), get(ref).resolve_conj().numpy())


# ------------------------------------------------------------------ runtime switches
def test_thread_switches_round_trip(torch):
    before, inter = gradfit.get_num_threads(), gradfit.get_num_interop_threads()
    assert before >= 1 and inter >= 1
    try:
        gradfit.set_num_threads(1)
        assert gradfit.get_num_threads() == 1
        from threadpoolctl import threadpool_info

        blas = [p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas"]
        assert all(n == 1 for n in blas)
        gradfit.set_num_interop_threads(3)
        assert gradfit.get_num_interop_threads() == 3
    finally:
        gradfit.set_num_threads(before)


def test_determinism_precision_and_device_switches(torch):
    try:
        for lib in (gradfit, torch):
            assert (
                lib.are_deterministic_algorithms_enabled(),
                lib.get_deterministic_debug_mode(),
            ) == (False, 0)
        facts = {}
        for lib in (gradfit, torch):
            lib.use_deterministic_algorithms(True, warn_only=True)
            f = [
                lib.are_deterministic_algorithms_enabled(),
                lib.is_deterministic_algorithms_warn_only_enabled(),
                lib.get_deterministic_debug_mode(),
            ]
            lib.set_deterministic_debug_mode("error")
            f += [
                lib.is_deterministic_algorithms_warn_only_enabled(),
                lib.get_deterministic_debug_mode(),
            ]
            lib.use_deterministic_algorithms(False)
            f.append(lib.are_deterministic_algorithms_enabled())
            lib.set_float32_matmul_precision("high")
            f.append(lib.get_float32_matmul_precision())
            with warnings.catch_warnings(record=True) as w:
                warnings.simplefilter("always")
                lib.set_float32_matmul_precision("low")
            f += [lib.get_float32_matmul_precision(), str(w[0].message).split(" (Triggered")[0]]
            lib.set_float32_matmul_precision("highest")
            lib.set_default_device("cpu")
            f.append(str(lib.get_default_device()))
            lib.set_default_device(None)
            facts[lib.__name__] = f
        assert facts["gradfit"] == facts["torch"]
    finally:
        for lib in (gradfit, torch):
            lib.use_deterministic_algorithms(False)
            lib.set_float32_matmul_precision("highest")
    with pytest.raises(AssertionError, match="CUDA"):
        gradfit.set_default_device("cuda")
    _same_error(torch, lambda lib: lib.set_default_device("foo"))


def test_inference_mode(torch):
    facts = {}
    for lib in (gradfit, torch):
        w = lib.tensor([1.0, 2.0], requires_grad=True)
        f = [lib.is_inference_mode_enabled()]
        with lib.inference_mode():
            y = w * 2
            z = lib.zeros(2)
            f += [lib.is_inference_mode_enabled(), lib.is_grad_enabled(), y.requires_grad]
            f += [y.is_inference(), z.is_inference(), w.is_inference(), y.grad_fn is None]
            with lib.inference_mode(False):
                f += [lib.is_grad_enabled(), (w * 2).requires_grad]
        f += [lib.is_inference_mode_enabled(), lib.is_grad_enabled(), (w * 2).is_inference()]

        @lib.inference_mode()
        def g(x, lib=lib):
            return x * 3, lib.is_inference_mode_enabled()

        @lib.autograd.inference_mode
        def h(x):
            return x * 3

        out, on = g(w)
        f += [on, out.requires_grad, out.is_inference(), h(w).requires_grad, lib.is_inference(h(w))]
        facts[lib.__name__] = f
    assert facts["gradfit"] == facts["torch"]


def test_anomaly_mode_reports_the_node(torch):
    messages = {}
    for lib in (gradfit, torch):
        x = lib.tensor([0.0, 1.0], requires_grad=True)
        f = [lib.is_anomaly_enabled()]
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            ctx = lib.autograd.detect_anomaly()
        f.append(str(w[0].message))
        with ctx, pytest.raises(RuntimeError) as err, warnings.catch_warnings():
            warnings.simplefilter("ignore")  # torch's forward traceback warning
            f.append(lib.is_anomaly_enabled())
            (x / x).sum().backward()
        f += [str(err.value), lib.is_anomaly_enabled()]
        x.grad = None
        (x / x).sum().backward()  # off again: NaN flows silently
        f.append(bool(lib.isnan(x.grad).any()))
        lib.autograd.set_detect_anomaly(True)
        try:
            f.append(lib.is_anomaly_enabled())
            y = lib.tensor([4.0], requires_grad=True)
            with pytest.raises(RuntimeError) as err2, warnings.catch_warnings():
                warnings.simplefilter("ignore")
                (lib.sqrt(y - 5.0) * 2).sum().backward()
            f.append(str(err2.value))
        finally:
            lib.autograd.set_detect_anomaly(False)
        f.append(lib.is_anomaly_enabled())
        with lib.autograd.set_detect_anomaly(True, check_nan=False):
            f.append(lib.is_anomaly_check_nan_enabled())
            x.grad = None
            (x / x).sum().backward()
        f.append(lib.is_anomaly_check_nan_enabled())
        messages[lib.__name__] = f
    assert messages["gradfit"] == messages["torch"]


def test_compile_returns_a_module_with_torchs_layout(torch):
    facts = {}
    for lib in (gradfit, torch):
        lib.manual_seed(0)
        m = lib.nn.Linear(3, 2)
        c = lib.compile(m, backend="eager")  # PyTorch: no code generation (test time)
        x = lib.ones(4, 3)
        opt = lib.optim.SGD(c.parameters(), lr=0.1)
        loss = c(x).pow(2).mean()
        loss.backward()
        opt.step()
        f = [
            list(c.state_dict()),
            [n for n, _ in c.named_parameters()],
            repr(c).replace("gradfit", "torch"),
        ]
        f += [c.weight is m.weight, c.in_features, c(x).detach().numpy().round(6).tolist()]
        c.eval()
        f.append(m.training)

        def fn(t):
            return t + 1

        cf = lib.compile(fn, backend="eager")
        f += [cf(lib.ones(1)).tolist(), cf.__name__]
        deco = lib.compile(backend="eager")(fn)
        f.append(deco(lib.ones(1)).tolist())
        facts[lib.__name__] = f
    assert facts["gradfit"] == facts["torch"]
