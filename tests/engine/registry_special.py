"""Registry entries for the ops of torch.special that gradfit.ops.special adds (expm1,
erfcx, i0/i0e/i1/i1e, ndtri, log_ndtr, entr, xlog1py, zeta, gammainc, gammaincc):
gradcheck, PyTorch parity (float64 and float32) and second order come from the shared
registry tests. zeta and the incomplete gamma functions are differentiated in their
second argument only (PyTorch has no derivative in the first)."""

from __future__ import annotations

from .op_registry import OpSpec


def _open01(lib, a):
    # (0.55, 0.95): near 0.5 ndtri is ~0 and float32 keeps too few digits to compare
    # (PyTorch computes it in float32, scipy in float64)
    return 0.55 + 0.4 * lib.sigmoid(a)


REGISTRY_SPECIAL = [
    OpSpec("special_expm1", lambda lib, a: lib.special.expm1(a)),
    OpSpec("special_erfcx", lambda lib, a: lib.special.erfcx(a)),
    OpSpec("special_i0", lambda lib, a: lib.special.i0(a)),
    OpSpec("special_i0e", lambda lib, a: lib.special.i0e(a), domain="away0"),
    OpSpec("special_i1", lambda lib, a: lib.special.i1(a)),
    OpSpec("special_i1e", lambda lib, a: lib.special.i1e(a), domain="away0"),
    OpSpec("special_ndtri", lambda lib, a: lib.special.ndtri(_open01(lib, a))),
    OpSpec("special_log_ndtr", lambda lib, a: lib.special.log_ndtr(a)),
    OpSpec("special_entr", lambda lib, a: lib.special.entr(a), domain="positive"),
    OpSpec("special_xlog1py", lambda lib, a: lib.special.xlog1py(a, lib.sigmoid(a))),
    OpSpec("special_zeta", lambda lib, a: lib.special.zeta(3.0, a + 0.5), domain="positive"),
    OpSpec(
        "special_gammainc",
        lambda lib, a: lib.special.gammainc(a.detach() * 0 + 1.5, a),
        domain="positive",
    ),
    OpSpec(
        "special_gammaincc",
        lambda lib, a: lib.special.gammaincc(a.detach() * 0 + 2.5, a),
        domain="positive",
    ),
]
