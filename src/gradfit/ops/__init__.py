"""Primitive ops on NumPy arrays, each a ``gradfit.autograd.function.Op`` subclass.

elementwise: arithmetic and pointwise functions; reduce: reductions and (log-)softmax;
movement: reshaping, indexing, concatenation; matmul: matrix products and the fused linear
layer; loss: fused, numerically stable loss primitives.

Ops sit between the graph machinery and ``Tensor`` (see ``gradfit/__init__.py``): they
import ``gradfit.autograd.function`` and NumPy, never ``gradfit.tensor``; ``Op.apply``
wraps their output arrays as Tensors.
"""
