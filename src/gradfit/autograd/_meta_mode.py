"""The op path once a meta tensor exists (``gradfit._meta``).

Most NumPy calls keep a meta array meta, but an op that builds its result in a fresh
array (``np.empty`` then ``out=``, ``np.ascontiguousarray``) hands back a plain one. Rather
than a device check on every op of every program, the first meta tensor a program makes
installs this path: ``Op.apply`` then makes the output of an op with a meta operand meta
(after PyTorch's check that the operands share a device; ``Op.apply`` itself hands back
plain arrays), and the engine gives a meta leaf a meta gradient. Programs that never
touch the meta device keep the plain path.
"""

from __future__ import annotations

from gradfit import _meta
from gradfit._meta import MetaArray
from gradfit.autograd import engine, function


def _install() -> None:
    plain_apply = function.Op.__dict__["apply"].__func__
    plain_deliver = engine._deliver_leaf

    def apply(cls, *args, **kwargs):
        out = plain_apply(cls, *args, **kwargs)
        if type(out._array) is not MetaArray:
            arrays = [a._array for a in args if isinstance(a, function.Tensor)]
            if any(type(a) is MetaArray for a in arrays):
                _meta.check_devices(arrays)
                # the same memory seen as meta: a view op's strides are kept
                out._array = _meta.as_meta_result(out._array)
        return out

    def deliver_leaf(t, g, *args, **kwargs):
        if type(t._array) is MetaArray:
            g = _meta.to_meta(g)
        plain_deliver(t, g, *args, **kwargs)

    function.Op.apply = classmethod(apply)
    function._op_apply = apply
    engine._deliver_leaf = deliver_leaf


_meta.on_first_meta(_install)
